import swagger from '@fastify/swagger';
import Ajv from 'ajv';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuiverError } from '../../src/domain/errors.js';
import { MAX_INFER_BYTES } from '../../src/services/inference/types.js';
import { envelope, fromFastify, statusOf } from '../../src/transports/rest/errors.js';
import { oipRoutes } from '../../src/transports/rest/routes/oip.routes.js';
import { SHARED_SCHEMAS } from '../../src/transports/rest/schemas.js';
import { type Client, client, expectError } from '../support/api.js';
import { addModel, FakeInference, identityModel } from '../support/fake-inference.js';

let app: FastifyInstance;
let api: Client;
let fake: FakeInference;

/** The plugin on a bare Fastify with the shared REST error handler and strict body validation, as app.ts sets them. */
beforeAll(async () => {
  fake = new FakeInference([
    addModel('add', 'FP32'),
    addModel('add2d', 'FP32', [-1, -1]),
    addModel('add64', 'INT64'),
    identityModel('bytes', 'BYTES'),
    identityModel('bools', 'BOOL'),
    identityModel('halves', 'FP16'),
    identityModel('u64', 'UINT64'),
    identityModel('grid', 'INT32', [2, 3]),
    { ...addModel('sleepy', 'FP32'), ready: false },
  ]);
  app = Fastify();
  const strict = new Ajv.default({
    coerceTypes: false,
    removeAdditional: false,
    useDefaults: true,
    strict: false,
  });
  const lenient = new Ajv.default({ coerceTypes: 'array', useDefaults: true, strict: false });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : lenient).compile(schema),
  );
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  app.setErrorHandler((err: FastifyError | QuiverError, req, reply) => {
    const error = err instanceof QuiverError ? err : fromFastify(err);
    return reply.status(statusOf(error)).send(envelope(error, req.id));
  });
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 't', version: '0' } } });
  await app.register(oipRoutes(fake));
  await app.ready();
  api = client(app);
});

afterAll(async () => {
  await app?.close();
});

const tensor = (name: string, datatype: string, shape: number[], data: unknown[]) => ({
  name,
  datatype,
  shape,
  data,
});

describe('OIP REST: server and model endpoints', () => {
  it('serves server metadata, liveness and readiness', async () => {
    expect((await api.get('/v2')).body).toEqual({ name: 'quiver', version: '0.0.0-test', extensions: [] });
    expect(await api.get('/v2/health/live')).toMatchObject({ status: 200, body: { live: true } });
    expect(await api.get('/v2/health/ready')).toMatchObject({ status: 200, body: { ready: true } });
    fake.isReady = false;
    fake.isLive = false;
    try {
      expect(await api.get('/v2/health/ready')).toMatchObject({ status: 503, body: { ready: false } });
      expect(await api.get('/v2/health/live')).toMatchObject({ status: 503, body: { live: false } });
    } finally {
      fake.isReady = true;
      fake.isLive = true;
    }
  });

  it('serves deployment and version metadata as KServe does', async () => {
    const meta = await api.get('/v2/models/grid');
    expect(meta.status).toBe(200);
    expect(meta.body).toEqual({
      name: 'grid',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'in', datatype: 'INT32', shape: [2, 3] }],
      outputs: [{ name: 'out', datatype: 'INT32', shape: [2, 3] }],
    });
    expect((await api.get('/v2/models/grid/versions/1')).body).toEqual(meta.body);
    expectError(await api.get('/v2/models/grid/versions/9'), 404, 'NOT_FOUND', 'VERSION_NOT_FOUND');
    expectError(await api.get('/v2/models/nope'), 404, 'NOT_FOUND', 'DEPLOYMENT_NOT_FOUND');
    expectError(await api.get('/v2/models/sleepy'), 503, 'UNAVAILABLE', 'MODEL_NOT_READY');
  });

  it('answers model readiness: 200 when ready, 503 envelope when not, 404 when unknown', async () => {
    expect(await api.get('/v2/models/add/ready')).toMatchObject({
      status: 200,
      body: { name: 'add', ready: true },
    });
    expect((await api.get('/v2/models/add/versions/1/ready')).status).toBe(200);
    expectError(await api.get('/v2/models/sleepy/ready'), 503, 'UNAVAILABLE', 'MODEL_NOT_READY');
    expectError(await api.get('/v2/models/nope/ready'), 404, 'NOT_FOUND', 'DEPLOYMENT_NOT_FOUND');
  });

  it('documents every route under the inference tag', async () => {
    const paths = (app as any).swagger().paths;
    for (const path of [
      '/v2',
      '/v2/health/live',
      '/v2/health/ready',
      '/v2/models/{name}',
      '/v2/models/{name}/versions/{version}',
      '/v2/models/{name}/ready',
      '/v2/models/{name}/versions/{version}/ready',
      '/v2/models/{name}/infer',
      '/v2/models/{name}/versions/{version}/infer',
    ]) {
      const ops = Object.values(paths[path] ?? {}) as { tags: string[] }[];
      expect(ops.length, path).toBeGreaterThan(0);
      for (const op of ops) expect(op.tags).toEqual(['inference']);
    }
  });
});

describe('OIP REST: infer', () => {
  it('adds nested FP32 tensors and answers flat data with the version that answered', async () => {
    const res = await api.post('/v2/models/add2d/infer', {
      id: 'r-1',
      inputs: [
        tensor(
          'x',
          'FP32',
          [2, 2],
          [
            [1, 2],
            [3, 4.5],
          ],
        ),
        tensor('y', 'FP32', [2, 2], [10, 20, 30, 40]),
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      model_name: 'add2d',
      model_version: '1',
      id: 'r-1',
      outputs: [{ name: 'z', datatype: 'FP32', shape: [2, 2], data: [11, 22, 33, 44.5] }],
    });
    const versioned = await api.post('/v2/models/add/versions/1/infer', {
      inputs: [tensor('x', 'FP32', [1], [1]), tensor('y', 'FP32', [1], [2])],
      outputs: [{ name: 'z' }],
    });
    expect(versioned.body.outputs[0].data).toEqual([3]);
  });

  it('keeps INT64 exact: decimal strings in, numbers out when safe and strings when not', async () => {
    const small = await api.post('/v2/models/add64/infer', {
      inputs: [tensor('x', 'INT64', [2], [1, '-2']), tensor('y', 'INT64', [2], [2, 3])],
    });
    expect(small.body.outputs[0].data).toEqual([3, 1]);
    const big = await api.post('/v2/models/add64/infer', {
      inputs: [tensor('x', 'INT64', [2], ['9007199254740993', 1]), tensor('y', 'INT64', [2], [1, 1])],
    });
    expect(big.body.outputs[0].data).toEqual(['9007199254740994', '2']);
    const u64 = await api.post('/v2/models/u64/infer', {
      inputs: [tensor('in', 'UINT64', [1], ['18446744073709551615'])],
    });
    expect(u64.body.outputs[0].data).toEqual(['18446744073709551615']);
  });

  it('carries BYTES as strings, BOOL as booleans and FP16 as numbers', async () => {
    const bytes = await api.post('/v2/models/bytes/infer', {
      inputs: [tensor('in', 'BYTES', [2], ['héllo', ''])],
    });
    expect(bytes.body.outputs[0]).toEqual({
      name: 'out',
      datatype: 'BYTES',
      shape: [2],
      data: ['héllo', ''],
    });
    const bools = await api.post('/v2/models/bools/infer', {
      inputs: [tensor('in', 'BOOL', [3], [true, false, true])],
    });
    expect(bools.body.outputs[0].data).toEqual([true, false, true]);
    const halves = await api.post('/v2/models/halves/infer', {
      inputs: [tensor('in', 'FP16', [5], [1.5, -2, 65504, 0.1, 1e-7])],
    });
    // FP16 rounds: 0.1 → 0.0999755859375, 1e-7 → the nearest subnormal 1.1920928955078125e-7.
    expect(halves.body.outputs[0].data).toEqual([1.5, -2, 65504, 0.0999755859375, 1.1920928955078125e-7]);
  });

  const cases: [string, unknown, string][] = [
    ['a wrong datatype', { inputs: [tensor('x', 'FP64', [1], [1]), tensor('y', 'FP32', [1], [1])] }, "'x'"],
    [
      'an unknown datatype',
      { inputs: [tensor('x', 'FLOAT', [1], [1]), tensor('y', 'FP32', [1], [1])] },
      "'x'",
    ],
    [
      'too few elements',
      { inputs: [tensor('x', 'FP32', [2], [1]), tensor('y', 'FP32', [2], [1, 2])] },
      "'x'",
    ],
    [
      'a string in FP32 data',
      { inputs: [tensor('x', 'FP32', [1], ['1']), tensor('y', 'FP32', [1], [1])] },
      "'x'",
    ],
    [
      'a negative dimension',
      { inputs: [tensor('x', 'FP32', [-1], []), tensor('y', 'FP32', [1], [1])] },
      "'x'",
    ],
    [
      'a wrong tensor name',
      { inputs: [tensor('x', 'FP32', [1], [1]), tensor('w', 'FP32', [1], [1])] },
      "'w'",
    ],
    ['data nested deeper than rank 8', { inputs: [tensor('x', 'FP32', [1], [[[[[[[[[[1]]]]]]]]]])] }, "'x'"],
  ];
  it.each(cases)('answers 400 INVALID_TENSOR naming the tensor for %s', async (_what, body, named) => {
    const res = await api.post('/v2/models/add/infer', body);
    expectError(res, 400, 'INVALID_ARGUMENT', 'INVALID_TENSOR');
    expect(res.body.error.message).toContain(named);
    expect(res.body.error.details.tensor).toBe(named.slice(1, -1));
  });

  it('refuses INT64 numbers beyond 2^53, which JSON cannot carry exactly', async () => {
    const res = await api.post('/v2/models/add64/infer', {
      inputs: [tensor('x', 'INT64', [1], [2 ** 60]), tensor('y', 'INT64', [1], [1])],
    });
    expectError(res, 400, 'INVALID_ARGUMENT', 'INVALID_TENSOR');
    expect(res.body.error.message).toContain('decimal strings');
  });

  it('answers the shared envelope for bodies, deployments and sizes it refuses', async () => {
    expectError(await api.post('/v2/models/add/infer', { inputs: [], extra: 1 }), 400, 'INVALID_ARGUMENT');
    expectError(
      await api.post('/v2/models/add/infer', '{"inputs":'),
      400,
      'INVALID_ARGUMENT',
      'MALFORMED_BODY',
    );
    expectError(
      await api.post('/v2/models/nope/infer', { inputs: [] }),
      404,
      'NOT_FOUND',
      'DEPLOYMENT_NOT_FOUND',
    );
    expectError(
      await api.post('/v2/models/sleepy/infer', { inputs: [] }),
      503,
      'UNAVAILABLE',
      'MODEL_NOT_READY',
    );
    const huge = `{"inputs":[],"id":"${'a'.repeat(MAX_INFER_BYTES)}"}`;
    expectError(await api.post('/v2/models/add/infer', huge), 413, 'RESOURCE_EXHAUSTED', 'BODY_TOO_LARGE');
    expectError(
      await api.post('/v2/models/add/infer', {
        inputs: [tensor('x', 'FP32', [1_000_000_000], []), tensor('y', 'FP32', [1], [1])],
      }),
      413,
      'RESOURCE_EXHAUSTED',
      'TOO_MANY_ITEMS',
    );
  });
});
