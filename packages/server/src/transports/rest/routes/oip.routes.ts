import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { QuiverError } from '../../../domain/errors.js';
import { DATATYPES } from '../../../domain/tensors.js';
import { type Inference, MAX_INFER_BYTES, oipModelMetadata } from '../../../services/inference/types.js';
import { decodeJsonInferRequest, encodeJsonInferResponse } from '../../grpc/tensor-codec.js';
import { callContext } from '../app.js';
import { errorResponses } from '../schemas.js';

/**
 * The REST binding of the Open Inference Protocol (KServe v2), registered without prefix.
 * Health follows the probe convention of `/readyz`: 200 `{ live|ready: true }` or 503 with
 * `{ …: false }`. Model readiness is 200 `{ name, ready: true }`, or the error envelope:
 * 503 UNAVAILABLE (MODEL_NOT_READY) when the deployment cannot serve yet, 404 when unknown.
 */

const tags = ['inference'];
const Strict = { additionalProperties: false } as const;
const Param = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
const Parameters = Type.Record(Type.String(), Param);
const Datatype = Type.Union(
  DATATYPES.map((d) => Type.Literal(d)),
  { description: 'OIP datatype.' },
);
const TensorMetadata = Type.Object({
  name: Type.String(),
  datatype: Datatype,
  shape: Type.Array(Type.Integer(), { description: '-1 marks a dimension of variable size.' }),
});

const ModelParams = Type.Object({ name: Type.String({ description: 'Deployment name.' }) });
const VersionParams = Type.Object({
  name: Type.String({ description: 'Deployment name.' }),
  version: Type.String({ description: 'A version number or `@alias`.' }),
});

const ServerMetadata = Type.Object({
  name: Type.String(),
  version: Type.String(),
  extensions: Type.Array(Type.String()),
});
const ModelMetadata = Type.Object({
  name: Type.String(),
  versions: Type.Array(Type.String()),
  platform: Type.String({ examples: ['onnxruntime_onnx'] }),
  inputs: Type.Array(TensorMetadata),
  outputs: Type.Array(TensorMetadata),
});
const Live = Type.Object({ live: Type.Boolean() });
const Ready = Type.Object({ ready: Type.Boolean() });
const ModelReady = Type.Object({ name: Type.String(), ready: Type.Boolean() });

const InferInput = Type.Object(
  {
    name: Type.String(),
    shape: Type.Array(Type.Integer()),
    datatype: Type.String({ description: `One of ${DATATYPES.join(', ')}.` }),
    data: Type.Array(Type.Unknown(), {
      description:
        'Row-major elements, flat or nested. Numbers; BOOL as true/false; BYTES as UTF-8 strings; INT64/UINT64 as numbers or, beyond 2^53, decimal strings.',
    }),
    parameters: Type.Optional(Parameters),
  },
  Strict,
);
const InferBody = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 256 })),
    parameters: Type.Optional(Parameters),
    inputs: Type.Array(InferInput),
    outputs: Type.Optional(
      Type.Array(Type.Object({ name: Type.String(), parameters: Type.Optional(Parameters) }, Strict), {
        description: 'Outputs to return; all when omitted.',
      }),
    ),
  },
  Strict,
);
const InferResponse = Type.Object({
  model_name: Type.String(),
  model_version: Type.String({ description: 'The version that answered.' }),
  id: Type.String(),
  outputs: Type.Array(
    Type.Object({
      name: Type.String(),
      datatype: Datatype,
      shape: Type.Array(Type.Integer()),
      // Unknown rather than an array schema: serialised in one JSON.stringify, not element by element.
      data: Type.Unknown({
        description:
          'Flat row-major array. INT64/UINT64: numbers when every element is within ±(2^53-1), else all decimal strings.',
      }),
    }),
  ),
});

export function oipRoutes(inference: Inference): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/v2',
      { schema: { tags, summary: 'Server metadata (OIP)', response: { 200: ServerMetadata } } },
      async () => inference.serverMetadata(),
    );
    app.get(
      '/v2/health/live',
      { schema: { tags, summary: 'Server liveness (OIP)', response: { 200: Live, 503: Live } } },
      async (_req, reply) => {
        const live = inference.live();
        return reply.status(live ? 200 : 503).send({ live });
      },
    );
    app.get(
      '/v2/health/ready',
      { schema: { tags, summary: 'Server readiness (OIP)', response: { 200: Ready, 503: Ready } } },
      async (_req, reply) => {
        const ready = await inference.ready();
        return reply.status(ready ? 200 : 503).send({ ready });
      },
    );

    const metadata = { tags, response: { 200: ModelMetadata, ...errorResponses } };
    const getMetadata = async (ctx: ReturnType<typeof callContext>, name: string, version: string) => {
      const m = await inference.modelMetadata(ctx, name, version);
      return oipModelMetadata(m);
    };
    app.get(
      '/v2/models/:name',
      { schema: { ...metadata, summary: 'Deployment metadata (OIP)', params: ModelParams } },
      async (req) => getMetadata(callContext(req), req.params.name, ''),
    );
    app.get(
      '/v2/models/:name/versions/:version',
      { schema: { ...metadata, summary: 'Version metadata (OIP)', params: VersionParams } },
      async (req) => getMetadata(callContext(req), req.params.name, req.params.version),
    );

    const ready = { tags, response: { 200: ModelReady, ...errorResponses } };
    const checkReady = async (ctx: ReturnType<typeof callContext>, name: string, version: string) => {
      if (!(await inference.modelReady(ctx, name, version))) {
        const which = version === '' ? `'${name}'` : `'${name}' version '${version}'`;
        throw new QuiverError('MODEL_NOT_READY', `Deployment ${which} is not ready to serve.`, {
          details: { deployment: name, version },
        });
      }
      return { name, ready: true };
    };
    app.get(
      '/v2/models/:name/ready',
      { schema: { ...ready, summary: 'Deployment readiness (OIP)', params: ModelParams } },
      async (req) => checkReady(callContext(req), req.params.name, ''),
    );
    app.get(
      '/v2/models/:name/versions/:version/ready',
      { schema: { ...ready, summary: 'Version readiness (OIP)', params: VersionParams } },
      async (req) => checkReady(callContext(req), req.params.name, req.params.version),
    );

    const infer = { tags, body: InferBody, response: { 200: InferResponse, ...errorResponses } };
    app.post(
      '/v2/models/:name/infer',
      {
        bodyLimit: MAX_INFER_BYTES,
        schema: { ...infer, summary: 'Run inference (OIP)', params: ModelParams },
      },
      async (req) => {
        const request = decodeJsonInferRequest(req.params.name, '', req.body);
        return encodeJsonInferResponse(await inference.infer(callContext(req), request));
      },
    );
    app.post(
      '/v2/models/:name/versions/:version/infer',
      {
        bodyLimit: MAX_INFER_BYTES,
        schema: { ...infer, summary: 'Run inference on one version (OIP)', params: VersionParams },
      },
      async (req) => {
        const request = decodeJsonInferRequest(req.params.name, req.params.version, req.body);
        return encodeJsonInferResponse(await inference.infer(callContext(req), request));
      },
    );
  };
}
