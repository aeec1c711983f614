import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createQuiver, type Quiver } from '../../src/main.js';
import { AUTH, backends, TEST_TOKEN, type TestDatabase, testDatabase } from '../support/databases.js';
import { addModel, notAModel, referenceMlp, tinyMlp } from '../support/onnx-models.js';
import { adminMetadata, expectClose, httpApi, oipClient, waitFor } from '../support/serving.js';

const BACKENDS = await backends();

/** Upload → register → deploy → watch → infer, through real listeners (REST and gRPC), on each backend. */
describe.each(BACKENDS)('serving end to end (%s)', (backend) => {
  let db: TestDatabase;
  let quiver: Quiver;
  let base: string;
  let grpc: ReturnType<typeof oipClient>;
  const mlp = tinyMlp({ seed: 7 });
  const mlp2 = tinyMlp({ seed: 8 });

  const api = httpApi(() => base);

  const registerVersion = async (ns: string, model: string, bytes: Uint8Array, format?: string) => {
    const up = await api('POST', '/v1/artifacts', bytes);
    expect([200, 201]).toContain(up.status);
    return api('POST', `/v1/namespaces/${ns}/models/${model}/versions`, {
      artifact: { digest: up.body.digest, ...(format ? { format } : {}) },
    });
  };
  const deployment = (id: string) => api('GET', `/v1/deployments/${id}`).then((r) => r.body);
  const settled = (id: string) =>
    waitFor(
      () => deployment(id),
      (d) => d.status === 'ready' || d.status === 'failed',
      20_000,
      `${id} to settle`,
    );

  beforeAll(async () => {
    db = await testDatabase(backend, {
      QUIVER_HTTP_PORT: '0',
      QUIVER_GRPC_PORT: '0',
      QUIVER_HTTP_HOST: '127.0.0.1',
    });
    quiver = await createQuiver(db.config, {
      logger: false,
      pollMs: 50,
      ...(db.schema ? { postgresSchema: db.schema } : {}),
    });
    base = await quiver.listen();
    grpc = oipClient(quiver.grpcPort());
    await api('POST', '/v1/namespaces', { namespace_id: 'fraud' });
    await api('POST', '/v1/namespaces/fraud/models', { model_id: 'scorer' });
  });
  afterAll(async () => {
    grpc?.close();
    await quiver?.close();
    await db?.drop();
  });

  it('registers an ONNX version with its signature read from the model', async () => {
    const v = await registerVersion('fraud', 'scorer', mlp.bytes);
    expect(v.status).toBe(201);
    expect(v.body.artifact).toMatchObject({ format: 'onnx', size_bytes: mlp.bytes.length });
    expect(v.body.signature).toMatchObject({
      format: 'onnx',
      opset: 13,
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 3] }],
    });
  });

  it('rejects an artifact declared as ONNX that does not parse, and an unknown digest', async () => {
    const bad = await registerVersion('fraud', 'scorer', notAModel(), 'onnx');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.reason).toBe('INVALID_MODEL');
    const missing = await api('POST', '/v1/namespaces/fraud/models/scorer/versions', {
      artifact: { digest: `sha256:${'0'.repeat(64)}` },
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.details.reason).toBe('ARTIFACT_NOT_FOUND');
    const opaque = await registerVersion('fraud', 'scorer', new TextEncoder().encode('just some bytes'));
    expect(opaque.status).toBe(201);
    expect(opaque.body.artifact.format).toBeNull();
  });

  it('deploys with one call that returns at once, watches the rollout, and serves over gRPC and REST', async () => {
    await api('PUT', '/v1/namespaces/fraud/models/scorer/aliases/champion', { version: 1 });
    const accepted = await api('POST', '/v1/deployments', {
      deployment_id: 'fraud-prod',
      model: 'namespaces/fraud/models/scorer',
      version: '@champion',
    });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({
      done: false,
      metadata: { kind: 'deploy', target: 'deployments/fraud-prod' },
    });

    // The watch stream sends the operation until it is done.
    const stream = await fetch(`${base}/v1/${accepted.body.name}:watch`, { headers: AUTH });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const events = (await stream.text()).split('\n\n').filter((e) => e.startsWith('event: operation'));
    const last = JSON.parse(events.at(-1)!.split('data: ')[1]!);
    expect(last.done).toBe(true);
    expect(last.error).toBeUndefined();
    expect(last.result).toMatchObject({ status: 'ready', serving: [{ version: 1, percent: 100 }] });

    const x = [0.5, -1, 2, 3, 1, 1, 1, 1];
    const expected = referenceMlp(mlp.weights, x);
    const typed = await grpc.call('ModelInfer', {
      model_name: 'fraud-prod',
      id: 'req-1',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], contents: { fp32_contents: x } }],
    });
    expect(typed).toMatchObject({ model_name: 'fraud-prod', model_version: '1', id: 'req-1' });
    expect(typed.outputs[0]).toMatchObject({ name: 'output', datatype: 'FP32', shape: ['2', '3'] });
    expectClose(typed.outputs[0].contents.fp32_contents, expected);

    const raw = await grpc.call('ModelInfer', {
      model_name: 'fraud-prod',
      model_version: '@champion',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4] }],
      raw_input_contents: [Buffer.from(new Float32Array(x).buffer)],
    });
    const rawOut = raw.raw_output_contents[0] as Buffer;
    // Raw bytes sit wherever the message put them: copy before viewing them as floats (no alignment is promised).
    expectClose(new Float32Array(Uint8Array.from(rawOut).buffer), expected);

    const rest = await api('POST', '/v2/models/fraud-prod/versions/1/infer', {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: x }],
    });
    expect(rest.status).toBe(200);
    expectClose(rest.body.outputs[0].data, expected);

    const meta = await grpc.call('ModelMetadata', { name: 'fraud-prod' });
    expect(meta).toMatchObject({ name: 'fraud-prod', platform: 'onnxruntime_onnx', versions: ['1'] });
    expect((await grpc.call('ModelReady', { name: 'fraud-prod' })).ready).toBe(true);
    expect((await grpc.call('ServerReady', {})).ready).toBe(true);
  });

  it('lets a caller granted inference.call on a namespace infer over gRPC there, and audits a denial elsewhere', async () => {
    // fraud-prod (namespace fraud) is ready: the test above deployed it. Another namespace's:
    await api('POST', '/v1/namespaces', { namespace_id: 'elsewhere' });
    await api('POST', '/v1/namespaces/elsewhere/models', { model_id: 'm' });
    expect((await registerVersion('elsewhere', 'm', mlp.bytes)).status).toBe(201);
    await api('POST', '/v1/deployments', {
      deployment_id: 'elsewhere-prod',
      model: 'namespaces/elsewhere/models/m',
      version: '1',
    });
    expect((await settled('elsewhere-prod')).status).toBe('ready');
    const role = await api('POST', '/v1/roles', { role_id: 'infer-only', permissions: ['inference.call'] });
    expect(role.status).toBe(201);
    expect((await api('POST', '/v1/principals', { principal_id: 'fraud-app' })).status).toBe(201);
    const binding = await api('POST', '/v1/roleBindings', {
      role: 'roles/infer-only',
      member: 'principals/fraud-app',
      scope: 'namespaces/fraud',
    });
    expect(binding.status).toBe(201);
    const token = (await api('POST', '/v1/principals/fraud-app/tokens', {})).body.secret;
    const x = [0.5, -1, 2, 3];
    const request = (model_name: string) => ({
      model_name,
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: x } }],
    });
    // ModelInfer names its deployment in model_name (not name): the grant on its namespace applies.
    const own = await grpc.call('ModelInfer', request('fraud-prod'), adminMetadata(token));
    expectClose(own.outputs[0].contents.fp32_contents, referenceMlp(mlp.weights, x));
    const denied = await grpc
      .call('ModelInfer', request('elsewhere-prod'), adminMetadata(token))
      .catch((e) => e);
    expect(denied.code).toBe(7); // PERMISSION_DENIED
    const audit = await api('GET', '/v1/audit/events?principal=fraud-app&outcome=denied');
    expect(audit.status).toBe(200);
    expect(JSON.stringify(audit.body)).toContain('"resource":"deployments/elsewhere-prod"');
  });

  it('answers tensor mistakes with INVALID_ARGUMENT naming the tensor, unknown deployments with NOT_FOUND', async () => {
    const wrongShape = await grpc
      .call('ModelInfer', {
        model_name: 'fraud-prod',
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, 5], contents: { fp32_contents: [1, 2, 3, 4, 5] } },
        ],
      })
      .catch((e) => e);
    expect(wrongShape.code).toBe(3);
    expect(wrongShape.details).toContain('input');
    const wrongType = await grpc
      .call('ModelInfer', {
        model_name: 'fraud-prod',
        inputs: [
          { name: 'input', datatype: 'INT32', shape: [1, 4], contents: { int_contents: [1, 2, 3, 4] } },
        ],
      })
      .catch((e) => e);
    expect(wrongType.code).toBe(3);
    const unknown = await grpc.call('ModelInfer', { model_name: 'nope', inputs: [] }).catch((e) => e);
    expect(unknown.code).toBe(5);
    const rest = await api('POST', '/v2/models/fraud-prod/infer', {
      inputs: [{ name: 'wrong', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }],
    });
    expect(rest.status).toBe(400);
    expect(rest.body.error.details.reason).toBe('INVALID_TENSOR');
  });

  it('returns the same operation for a retried deploy with the same Idempotency-Key', async () => {
    const body = { deployment_id: 'idem-dep', model: 'namespaces/fraud/models/scorer', version: 1 };
    const a = await api('POST', '/v1/deployments', body, { 'idempotency-key': 'deploy-once' });
    const b = await api('POST', '/v1/deployments', body, { 'idempotency-key': 'deploy-once' });
    expect(a.status).toBe(202);
    expect(b.body.name).toBe(a.body.name);
    expect((await settled('idem-dep')).status).toBe('ready');
  });

  it('splits traffic for a canary, promotes it, and rolls back, each as a new rollout', async () => {
    expect((await registerVersion('fraud', 'scorer', mlp2.bytes)).status).toBe(201);
    const v = (await api('GET', '/v1/namespaces/fraud/models/scorer')).body.latest_version as number;
    const canary = await api('POST', '/v1/deployments', {
      deployment_id: 'canary',
      model: 'namespaces/fraud/models/scorer',
      traffic: [
        { version: 1, percent: 90 },
        { version: v, percent: 10 },
      ],
    });
    expect(canary.status).toBe(202);
    expect((await settled('canary')).serving).toEqual([
      expect.objectContaining({ version: 1, percent: 90 }),
      expect.objectContaining({ version: v, percent: 10 }),
    ]);
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 2; i++) {
      const r = await grpc.call('ModelInfer', {
        model_name: 'canary',
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } },
        ],
      });
      seen.add(r.model_version);
    }
    expect(seen).toEqual(new Set(['1', String(v)]));
    const promote = await api('PATCH', '/v1/deployments/canary', { version: v });
    expect(promote.status).toBe(202);
    const promoted = await waitFor(
      () => deployment('canary'),
      (d) => d.status === 'ready' && d.observed_generation === 2,
    );
    expect(promoted.serving).toEqual([expect.objectContaining({ version: v, percent: 100 })]);
    await api('PATCH', '/v1/deployments/canary', { version: 1 });
    const back = await waitFor(
      () => deployment('canary'),
      (d) => d.status === 'ready' && d.observed_generation === 3,
    );
    expect(back.serving).toEqual([expect.objectContaining({ version: 1, percent: 100 })]);
  });

  it('marks a deployment failed with the reason when its version has nothing to serve', async () => {
    const plain = await api('POST', '/v1/namespaces/fraud/models/scorer/versions', {
      description: 'metadata only',
    });
    const op = await api('POST', '/v1/deployments', {
      deployment_id: 'nothing',
      model: 'namespaces/fraud/models/scorer',
      version: plain.body.version,
    });
    const failed = await settled('nothing');
    expect(failed.status).toBe('failed');
    expect(failed.status_message).toContain('no ONNX artifact');
    const done = await waitFor(
      () => api('GET', `/v1/${op.body.name}`).then((r) => r.body),
      (o) => o.done,
    );
    expect(done.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    const answer = await grpc
      .call('ModelInfer', {
        model_name: 'nothing',
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } },
        ],
      })
      .catch((e) => e);
    expect(answer.code).toBe(14);
  });

  it('batches concurrent requests when dynamic batching is on, with the right answer for each', async () => {
    await api('POST', '/v1/namespaces', { namespace_id: 'math' });
    await api('POST', '/v1/namespaces/math/models', { model_id: 'adder' });
    await registerVersion('math', 'adder', addModel('FP32'));
    await api('POST', '/v1/deployments', {
      deployment_id: 'adder',
      model: 'namespaces/math/models/adder',
      version: 1,
      batching: { max_batch_size: 16, max_queue_delay_us: 2000 },
    });
    expect((await settled('adder')).status).toBe('ready');
    const results = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        grpc.call('ModelInfer', {
          model_name: 'adder',
          inputs: [
            { name: 'x', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [i, 1] } },
            { name: 'y', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [i, 2] } },
          ],
        }),
      ),
    );
    for (const [i, r] of results.entries()) expect(r.outputs[0].contents.fp32_contents).toEqual([2 * i, 3]);
  });

  it('reads many deployment statuses at once and undeploys asynchronously', async () => {
    const batch = await api('POST', '/v1/deployments:batchGet', {
      names: ['deployments/fraud-prod', 'adder', 'deployments/absent'],
    });
    expect(batch.body.deployments.map((d: any) => d.deployment_id)).toEqual(['fraud-prod', 'adder']);
    expect(batch.body.missing).toEqual(['deployments/absent']);
    // A deployed model cannot be deleted from under its deployment, even with force.
    const refused = await api('DELETE', '/v1/namespaces/math/models/adder?force=true');
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toMatchObject({
      reason: 'MODEL_HAS_DEPLOYMENTS',
      deployments: ['adder'],
    });
    const del = await api('DELETE', '/v1/deployments/adder');
    expect(del.status).toBe(202);
    await waitFor(
      () => api('GET', `/v1/${del.body.name}`).then((r) => r.body),
      (o) => o.done,
    );
    expect((await api('GET', '/v1/deployments/adder')).status).toBe(404);
    expect((await api('DELETE', '/v1/namespaces/math/models/adder?force=true')).status).toBe(204);
    await waitFor(
      () =>
        grpc.call('ModelReady', { name: 'adder' }).then(
          () => 0,
          (e) => e.code,
        ),
      (code) => code === 5,
    );
  });

  it('rejects bad deployment requests with clear errors', async () => {
    const cases: [unknown, string][] = [
      [
        { deployment_id: 'Bad_Name', model: 'namespaces/fraud/models/scorer', version: 1 },
        'INVALID_ARGUMENT',
      ],
      [{ deployment_id: 'x1', model: 'namespaces/fraud/models/scorer' }, 'INVALID_ARGUMENT'],
      [
        {
          deployment_id: 'x2',
          model: 'namespaces/fraud/models/scorer',
          version: 1,
          traffic: [{ version: 1, percent: 100 }],
        },
        'INVALID_ARGUMENT',
      ],
      [
        {
          deployment_id: 'x3',
          model: 'namespaces/fraud/models/scorer',
          traffic: [
            { version: 1, percent: 60 },
            { version: 2, percent: 30 },
          ],
        },
        'INVALID_ARGUMENT',
      ],
      [{ deployment_id: 'x4', model: 'namespaces/fraud/models/scorer', version: 999 }, 'NOT_FOUND'],
      [{ deployment_id: 'x5', model: 'namespaces/fraud/models/nope', version: 1 }, 'NOT_FOUND'],
      [
        { deployment_id: 'fraud-prod', model: 'namespaces/fraud/models/scorer', version: 1 },
        'ALREADY_EXISTS',
      ],
    ];
    for (const [body, code] of cases) {
      const res = await api('POST', '/v1/deployments', body);
      expect(res.body.error?.code, JSON.stringify(body)).toBe(code);
    }
  });
});

describe('configuration', () => {
  it('serves only management under --role api and only inference under --role inference', async () => {
    const db = await testDatabase('sqlite');
    const api = await createQuiver(loadConfig({ ...envOf(db), QUIVER_ROLE: 'api' }), { logger: false });
    expect((await api.rest.inject({ headers: AUTH, url: '/v2/health/ready' })).statusCode).toBe(404);
    expect((await api.rest.inject({ headers: AUTH, url: '/v1/namespaces' })).statusCode).toBe(200);
    expect(api.worker).toBeNull();
    await api.close();
    const inference = await createQuiver(loadConfig({ ...envOf(db), QUIVER_ROLE: 'inference' }), {
      logger: false,
    });
    expect((await inference.rest.inject({ headers: AUTH, url: '/v1/namespaces' })).statusCode).toBe(404);
    expect((await inference.rest.inject({ headers: AUTH, url: '/v2/health/live' })).statusCode).toBe(200);
    await inference.close();
    await db.drop();
  });
});

function envOf(db: TestDatabase): Record<string, string> {
  return {
    QUIVER_DATA_DIR: db.config.dataDir,
    QUIVER_LOG_LEVEL: 'silent',
    QUIVER_BOOTSTRAP_TOKEN: TEST_TOKEN,
  };
}
