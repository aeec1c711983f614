import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { tinyMlp } from '../../src/dev/onnx-builder.js';
import { createQuiver, type Quiver } from '../../src/main.js';
import { backends, TEST_TOKEN, type TestDatabase, testDatabase } from '../support/databases.js';
import { type OtlpReceiver, otlpHttpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { adminMetadata, httpApi, oipClient, waitFor } from '../support/serving.js';

const BACKENDS = await backends();
const CHILD = fileURLToPath(new URL('../support/serve-child.ts', import.meta.url));
/** The test plays the client: its span is the root of the trace. */
const ROOT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';
const TRACEPARENT = `00-${ROOT_TRACE}-${CLIENT_SPAN}-01`;

/** Starts a Quiver child process and resolves with its pid once it listens. */
function startChild(env: Record<string, string>): Promise<{ child: ChildProcess; pid: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (line) => resolve({ child, pid: JSON.parse(String(line)).pid }));
    child.once('exit', (code) =>
      reject(new Error(`child exited (${code}) before it listened: ${err.slice(-2000)}`)),
    );
  });
}

describe.each(BACKENDS)('one trace across processes, exported over OTLP (%s)', (backend) => {
  let receiver: OtlpReceiver;
  let db: TestDatabase;
  const instances: Quiver[] = [];
  let worker: ChildProcess | undefined;
  let grpc: ReturnType<typeof oipClient> | undefined;

  afterAll(async () => {
    grpc?.close();
    worker?.kill('SIGKILL');
    for (const q of instances) await q.close();
    await db?.drop();
    await receiver?.close();
  });

  it('follows deploy → job in the worker process → model load, and an inference, in one trace', async () => {
    receiver = await otlpHttpReceiver();
    db = await testDatabase(backend);
    const env: Record<string, string> = {
      QUIVER_DATA_DIR: db.config.dataDir,
      QUIVER_LOG_LEVEL: 'silent',
      QUIVER_HTTP_PORT: '0',
      QUIVER_GRPC_PORT: '0',
      QUIVER_HTTP_HOST: '127.0.0.1',
      QUIVER_BOOTSTRAP_TOKEN: TEST_TOKEN,
      QUIVER_OTEL_EXPORTERS: 'otlp',
      // Standard variables, read by the exporters of every process.
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      ...(db.config.databaseUrl ? { QUIVER_DATABASE_URL: db.config.databaseUrl } : {}),
      ...(db.schema ? { QUIVER_TEST_PG_SCHEMA: db.schema } : {}),
    };
    // This process's instances read the same standard variables from its environment.
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    const start = async (role: string) => {
      const q = await createQuiver(loadConfig({ ...env, QUIVER_ROLE: role }), {
        logger: false,
        pollMs: 50,
        ...(db.schema ? { postgresSchema: db.schema } : {}),
      });
      instances.push(q);
      return { quiver: q, base: await q.listen() };
    };
    // API and inference here; the only worker is the child process.
    const apiNode = await start('api');
    const inferenceNode = await start('inference');
    const { pid: workerPid, child } = await startChild({ ...env, QUIVER_ROLE: 'worker' });
    worker = child;
    const api = httpApi(() => apiNode.base);

    await api('POST', '/v1/namespaces', { namespace_id: 'fraud' });
    await api('POST', '/v1/namespaces/fraud/models', { model_id: 'scorer' });
    const up = await api('POST', '/v1/artifacts', tinyMlp({ seed: 3 }).bytes);
    await api('POST', '/v1/namespaces/fraud/models/scorer/versions', {
      artifact: { digest: up.body.digest },
    });
    const accepted = await api(
      'POST',
      '/v1/deployments',
      { deployment_id: 'fraud-prod', model: 'namespaces/fraud/models/scorer', version: 1 },
      { traceparent: TRACEPARENT },
    );
    expect(accepted.status).toBe(202);
    await waitFor(
      () => api('GET', '/v1/deployments/fraud-prod').then((r) => r.body),
      (d) => d.status === 'ready',
      30_000,
      'the rollout (by the worker process) to finish',
    );
    grpc = oipClient(inferenceNode.quiver.grpcPort());
    const metadata = adminMetadata();
    metadata.set('traceparent', TRACEPARENT);
    await waitFor(
      () =>
        grpc!
          .call(
            'ModelInfer',
            {
              model_name: 'fraud-prod',
              inputs: [
                { name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } },
              ],
            },
            metadata,
          )
          .then(
            () => true,
            () => false,
          ),
      Boolean,
      10_000,
      'the inference node to serve fraud-prod',
    );

    const inTrace = () => receiver.spans.filter((s) => s.traceId === ROOT_TRACE);
    const named = (name: string, pid: number) =>
      inTrace().find((s) => s.name === name && s.resource['process.pid'] === pid);
    await waitFor(
      async () => [named('job deployment.rollout', workerPid), named('model.infer', process.pid)],
      (found) => found.every(Boolean),
      15_000,
      'the worker and inference spans to be exported',
    );

    const request = named('POST /v1/deployments', process.pid)!;
    const enqueue = named('job.enqueue', process.pid)!;
    const claim = named('job.claim', workerPid)!;
    const job = named('job deployment.rollout', workerPid)!;
    const load = named('model.load', workerPid)!;
    expect(request.resource['quiver.role']).toBe('api');
    expect(job.resource['quiver.role']).toBe('worker');
    expect(request.parentSpanId).toBe(CLIENT_SPAN);
    expect(enqueue.parentSpanId).toBe(request.spanId);
    expect(claim.parentSpanId).toBe(enqueue.spanId);
    expect(job.parentSpanId).toBe(enqueue.spanId);
    expect(load.parentSpanId).toBe(job.spanId);
    expect(load.attributes['quiver.artifact.digest']).toBe(up.body.digest);

    const server = inTrace().find(
      (s) =>
        s.name === 'inference.GRPCInferenceService/ModelInfer' && s.attributes['rpc.grpc.status_code'] === 0,
    )!;
    const infer = inTrace().find((s) => s.name === 'model.infer' && s.parentSpanId === server.spanId)!;
    expect(server.resource['quiver.role']).toBe('inference');
    expect(server.parentSpanId).toBe(CLIENT_SPAN);
    expect(infer.attributes).toMatchObject({
      'quiver.deployment': 'fraud-prod',
      'quiver.version': '1',
      'quiver.batch_size': 1,
    });

    // One connected trace: every span of it, in whichever process, leads up to the client's span.
    const byId = new Map<string, ReceivedSpan>(inTrace().map((s) => [s.spanId, s]));
    for (const span of inTrace()) {
      let at: ReceivedSpan | undefined = span;
      for (let hops = 0; at && at.parentSpanId !== CLIENT_SPAN && hops < 50; hops++)
        at = byId.get(at.parentSpanId);
      expect(at?.parentSpanId, `${span.name} is connected to the trace`).toBe(CLIENT_SPAN);
    }
    // SQL spans of the worker's queries are part of it too.
    expect(
      inTrace().some((s) => s.resource['process.pid'] === workerPid && s.attributes['db.query.text']),
    ).toBe(true);
  });
});
