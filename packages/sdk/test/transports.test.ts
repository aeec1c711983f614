import { createClient, type InferRequest, type QuiverClient, type QuiverError } from '@quiver/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityModel } from '../../server/test/support/onnx-models.js';
import { failure, startServer, TEST_TOKEN } from './server.js';

let server: Awaited<ReturnType<typeof startServer>>;
let rest: QuiverClient;
let grpc: QuiverClient;

const DATATYPES = ['FP32', 'FP16', 'INT64', 'UINT8', 'BOOL', 'BYTES'] as const;
const deployment = (datatype: string) => `echo-${datatype.toLowerCase()}`;

/** The parts of an error a caller programs against, which must not depend on the transport. */
const shape = (e: QuiverError) => ({
  name: e.name,
  code: e.code,
  reason: e.reason,
  hasRequestId: !!e.requestId,
});

beforeAll(async () => {
  server = await startServer({ pollMs: 50 });
  rest = createClient({ baseUrl: server.url, token: TEST_TOKEN });
  grpc = createClient({ baseUrl: server.url, grpcUrl: server.grpcUrl, token: TEST_TOKEN });
  await rest.namespaces.create({ namespace_id: 'wire' });
  const ops = [];
  for (const datatype of DATATYPES) {
    const model = `echo-${datatype.toLowerCase()}`;
    await rest.models.create('wire', { model_id: model });
    const { digest } = await rest.artifacts.upload(identityModel(datatype));
    await rest.versions.create('wire', model, { artifact: { digest } });
    ops.push(
      await rest.deployments.create({
        deployment_id: deployment(datatype),
        model: `namespaces/wire/models/${model}`,
        version: 1,
      }),
    );
  }
  await Promise.all(ops.map((op) => op.wait()));
});
afterAll(async () => {
  grpc?.close();
  await server?.close();
});

const REQUESTS: Record<(typeof DATATYPES)[number], InferRequest['inputs'][number]['data']> = {
  FP32: new Float32Array([0.5, -1.25, 3, 1e-7]),
  FP16: [0.5, -1.25, 3, 65504],
  INT64: new BigInt64Array([2n ** 62n, -(2n ** 62n), 0n, 7n]),
  UINT8: [0, 1, 254, 255],
  BOOL: [true, false, false, true],
  BYTES: ['α', '', 'bytes', '🙂'],
};

describe('inference over gRPC and REST', () => {
  it.each(DATATYPES)(
    'gives the same %s answer, as the same typed arrays, on both transports',
    async (datatype) => {
      const request: InferRequest = {
        deployment: deployment(datatype),
        id: `same-${datatype}`,
        inputs: [{ name: 'x', datatype, shape: [2, 2], data: REQUESTS[datatype] }],
      };
      const overRest = await rest.inference.infer(request);
      const overGrpc = await grpc.inference.infer(request);
      expect(overGrpc).toEqual(overRest);
      expect(overGrpc).toMatchObject({
        model_name: deployment(datatype),
        model_version: '1',
        id: `same-${datatype}`,
      });
      expect(overGrpc.outputs[0]).toMatchObject({ name: 'y', datatype, shape: [2, 2] });
    },
  );

  it('fails an unknown deployment with the same QuiverError on both transports', async () => {
    const request: InferRequest = {
      deployment: 'nope',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
    };
    const a = await failure(rest.inference.infer(request, { retries: 0 }));
    const b = await failure(grpc.inference.infer(request, { retries: 0 }));
    expect(shape(b)).toEqual(shape(a));
    expect(b.details).toEqual(a.details);
    expect(b.message).toBe(a.message);
    expect(a.code).toBe('NOT_FOUND');
  });

  it('refuses an element out of its datatype’s range with INVALID_TENSOR on both transports', async () => {
    const request: InferRequest = {
      deployment: deployment('UINT8'),
      inputs: [{ name: 'x', datatype: 'UINT8', shape: [1, 2], data: [1, 300] }],
    };
    const a = await failure(rest.inference.infer(request));
    const b = await failure(grpc.inference.infer(request));
    expect([a.code, a.reason, b.code, b.reason]).toEqual([
      'INVALID_ARGUMENT',
      'INVALID_TENSOR',
      'INVALID_ARGUMENT',
      'INVALID_TENSOR',
    ]);
    expect(b.message).toContain("'x'");
  });

  it('carries the server’s error details (tensor, expected, got) over gRPC as over REST', async () => {
    const request: InferRequest = {
      deployment: deployment('FP32'),
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }], // the model takes [batch, 2]
    };
    const a = await failure(rest.inference.infer(request));
    const b = await failure(grpc.inference.infer(request));
    expect(a.details).toMatchObject({ reason: 'INVALID_TENSOR', tensor: 'x' });
    expect(b.details).toEqual(a.details);
    expect([b.code, b.message]).toEqual([a.code, a.message]);
  });

  it('fails without a token with UNAUTHENTICATED and the request id on both transports', async () => {
    const anonymousRest = createClient({ baseUrl: server.url });
    const anonymousGrpc = createClient({ baseUrl: server.url, grpcUrl: server.grpcUrl });
    const request: InferRequest = {
      deployment: deployment('FP32'),
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
    };
    try {
      const a = await failure(anonymousRest.inference.infer(request));
      const b = await failure(anonymousGrpc.inference.infer(request));
      expect(shape(b)).toEqual(shape(a));
      expect(b.code).toBe('UNAUTHENTICATED');
      expect(b.requestId).toMatch(/\S/);
    } finally {
      anonymousGrpc.close();
    }
  });

  it('cancels a gRPC call when the caller aborts, with CANCELLED', async () => {
    const controller = new AbortController();
    const pending = grpc.inference.infer(
      {
        deployment: deployment('FP32'),
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
      },
      { signal: controller.signal },
    );
    controller.abort();
    const err = await failure(pending);
    expect([err.code, err.reason]).toEqual(['CANCELLED', 'CANCELLED']);
  });

  it('reports an unreachable gRPC address as UNAVAILABLE / NETWORK_ERROR, like an unreachable REST one', async () => {
    const dead = createClient({ baseUrl: server.url, grpcUrl: '127.0.0.1:1', token: TEST_TOKEN, retries: 0 });
    try {
      const err = await failure(
        dead.inference.infer({
          deployment: deployment('FP32'),
          inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
        }),
      );
      expect([err.code, err.reason]).toEqual(['UNAVAILABLE', 'NETWORK_ERROR']);
    } finally {
      dead.close();
    }
  });

  it('refuses a malformed grpcUrl when the client is created', () => {
    expect(() => createClient({ baseUrl: server.url, grpcUrl: 'http://a b' })).toThrow(/grpcUrl/);
  });

  it('keeps management calls on REST when a grpcUrl is given', async () => {
    const page = await grpc.models.list('wire', { page_size: 2 });
    expect(page.items).toHaveLength(2);
  });
});
