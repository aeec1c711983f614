import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { tinyMlp } from '../../src/dev/onnx-builder.js';
import { createQuiver, type Quiver } from '../../src/main.js';
import { createTracing } from '../../src/telemetry/tracing.js';
import { AUTH, type TestDatabase, testDatabase } from '../support/databases.js';
import { adminMetadata, httpApi, oipClient, waitFor } from '../support/serving.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('tracing', () => {
  let db: TestDatabase;
  let quiver: Quiver;
  let base: string;
  let grpc: ReturnType<typeof oipClient>;
  const exporter = new InMemorySpanExporter();

  const api = httpApi(() => base);

  const spans = () => exporter.getFinishedSpans();

  beforeAll(async () => {
    db = await testDatabase('sqlite', {
      QUIVER_HTTP_PORT: '0',
      QUIVER_GRPC_PORT: '0',
      QUIVER_HTTP_HOST: '127.0.0.1',
    });
    quiver = await createQuiver(db.config, {
      logger: false,
      pollMs: 50,
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    base = await quiver.listen();
    grpc = oipClient(quiver.grpcPort());
  });
  afterAll(async () => {
    grpc?.close();
    await quiver?.close();
    await db?.drop();
  });

  it('continues an incoming traceparent in a REST server span and returns its own', async () => {
    exporter.reset();
    const res = await api(
      'POST',
      '/v1/namespaces',
      { namespace_id: 'fraud' },
      {
        traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
        'x-request-id': 'req-trace-1',
      },
    );
    expect(res.status).toBe(201);
    const span = await waitFor(
      async () => spans().find((s) => s.kind === SpanKind.SERVER),
      Boolean,
      5_000,
      'the server span',
    );
    expect(span!.name).toBe('POST /v1/namespaces');
    expect(span!.spanContext().traceId).toBe(TRACE_ID);
    expect(parentOf(span!)).toBe(PARENT_ID);
    expect(span!.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/namespaces',
      'http.response.status_code': 201,
      'quiver.request_id': 'req-trace-1',
    });
    expect(res.headers.get('traceparent')).toBe(`00-${TRACE_ID}-${span!.spanContext().spanId}-01`);
    // The handler's queries are children of the server span, statement text only.
    const queries = spans().filter((s) => s.attributes['db.system.name'] === 'sqlite');
    expect(queries.length).toBeGreaterThan(0);
    for (const q of queries) {
      expect(q.spanContext().traceId).toBe(TRACE_ID);
      expect(typeof q.attributes['db.query.text']).toBe('string');
    }
  });

  it('records the error code of a failed request', async () => {
    exporter.reset();
    const res = await api('GET', '/v1/namespaces/nope');
    expect(res.status).toBe(404);
    const span = await waitFor(
      async () => spans().find((s) => s.kind === SpanKind.SERVER),
      Boolean,
      5_000,
      'the server span',
    );
    expect(span!.attributes['error.type']).toBe('NOT_FOUND');
    expect(span!.attributes['http.response.status_code']).toBe(404);
  });

  it('follows a deploy from the request through its job to the model load, and an inference over gRPC', async () => {
    await api('POST', '/v1/namespaces/fraud/models', { model_id: 'scorer' });
    exporter.reset();
    const up = await api('POST', '/v1/artifacts', tinyMlp({ seed: 7 }).bytes);
    const put = await waitFor(
      async () => spans().find((s) => s.name === 'artifact.put'),
      Boolean,
      5_000,
      'the artifact.put span',
    );
    expect(put!.attributes).toMatchObject({
      'quiver.artifact.digest': up.body.digest,
      'quiver.artifact.created': true,
    });
    expect(parentOf(put!)).toBe(
      spans()
        .find((s) => s.name === 'POST /v1/artifacts')
        ?.spanContext().spanId,
    );
    await api('POST', '/v1/namespaces/fraud/models/scorer/versions', {
      artifact: { digest: up.body.digest },
    });
    exporter.reset();
    const accepted = await api('POST', '/v1/deployments', {
      deployment_id: 'fraud-prod',
      model: 'namespaces/fraud/models/scorer',
      version: 1,
    });
    expect(accepted.status).toBe(202);
    await waitFor(
      () => api('GET', '/v1/deployments/fraud-prod').then((r) => r.body),
      (d) => d.status === 'ready',
      20_000,
      'the deployment to be ready',
    );
    const job = await waitFor(
      async () => spans().find((s) => s.name === 'job deployment.rollout'),
      Boolean,
      5_000,
      'the job span',
    );
    const request = spans().find((s) => s.name === 'POST /v1/deployments')!;
    const load = spans().find((s) => s.name === 'model.load')!;
    expect(request).toBeDefined();
    expect(load).toBeDefined();
    const traceId = request.spanContext().traceId;
    expect(job!.spanContext().traceId).toBe(traceId);
    expect(load.spanContext().traceId).toBe(traceId);
    // request → job.enqueue (producer, in the request) → job.claim and the job's run → model.load
    const enqueue = spans().find((s) => s.name === 'job.enqueue')!;
    const claim = spans().find((s) => s.name === 'job.claim')!;
    expect(enqueue.kind).toBe(SpanKind.PRODUCER);
    expect(enqueue.attributes['quiver.job.kind']).toBe('deployment.rollout');
    expect(parentOf(enqueue)).toBe(request.spanContext().spanId);
    expect(parentOf(claim)).toBe(enqueue.spanContext().spanId);
    expect(claim.attributes['quiver.job.kind']).toBe('deployment.rollout');
    expect(parentOf(job!)).toBe(enqueue.spanContext().spanId);
    expect(parentOf(load)).toBe(job!.spanContext().spanId);
    expect(load.attributes['quiver.artifact.digest']).toBe(up.body.digest);

    exporter.reset();
    const metadata = adminMetadata();
    metadata.set('traceparent', `00-${TRACE_ID}-${PARENT_ID}-01`);
    await new Promise((resolve, reject) =>
      grpc.client.ModelInfer(
        {
          model_name: 'fraud-prod',
          inputs: [
            {
              name: 'input',
              datatype: 'FP32',
              shape: [2, 4],
              contents: { fp32_contents: [1, 2, 3, 4, 5, 6, 7, 8] },
            },
          ],
        },
        metadata,
        (err: unknown, res: unknown) => (err ? reject(err) : resolve(res)),
      ),
    );
    const server = await waitFor(
      async () => spans().find((s) => s.name === 'inference.GRPCInferenceService/ModelInfer'),
      Boolean,
      5_000,
      'the gRPC span',
    );
    expect(server!.spanContext().traceId).toBe(TRACE_ID);
    expect(server!.attributes).toMatchObject({
      'rpc.system': 'grpc',
      'rpc.method': 'ModelInfer',
      'rpc.grpc.status_code': 0,
    });
    const infer = spans().find((s) => s.name === 'model.infer')!;
    expect(parentOf(infer)).toBe(server!.spanContext().spanId);
    expect(infer.attributes).toMatchObject({
      'quiver.deployment': 'fraud-prod',
      'quiver.version': '1',
      'quiver.batch_size': 2,
    });
  });

  it('marks read-cache hits and misses on the request span and shows fills inside it', async () => {
    exporter.reset();
    await api('GET', '/v1/namespaces/fraud/models/scorer');
    await api('GET', '/v1/namespaces/fraud/models/scorer');
    const servers = await waitFor(
      async () => spans().filter((s) => s.name === 'GET /v1/namespaces/:namespace/models/:model'),
      (found) => found.length === 2,
      5_000,
      'both server spans',
    );
    // The first read missed and filled the cache, the second was answered from it.
    expect(servers.map((s) => s.attributes['quiver.cache.model.hit'])).toEqual([false, true]);
    const fills = spans().filter((s) => s.name === 'cache.fill');
    expect(fills).toHaveLength(1);
    expect(parentOf(fills[0]!)).toBe(servers[0]!.spanContext().spanId);
  });

  it('puts the trace id in the error envelope of a traced request', async () => {
    const res = await api('GET', '/v1/namespaces/fraud/models/absent', undefined, {
      traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
    });
    expect(res.status).toBe(404);
    expect(res.body.error.trace_id).toBe(TRACE_ID);
  });
});

describe('tracing off', () => {
  it('registers nothing and uses the no-op tracer when QUIVER_OTEL_EXPORTERS=none', async () => {
    const config = loadConfig({ QUIVER_DATA_DIR: '/tmp/unused' });
    expect(config.otelExporters).toEqual(['none']);
    const tracing = createTracing(config, { version: 'test' });
    expect(tracing.enabled).toBe(false);
    const span = tracing.tracer.startSpan('x');
    expect(span.isRecording()).toBe(false);
    expect(trace.isSpanContextValid(span.spanContext())).toBe(false);
    span.end();
    await tracing.shutdown();
  });

  it('makes no spans for requests of an instance without exporters', async () => {
    const db = await testDatabase('sqlite');
    const quiver = await createQuiver(db.config, { logger: false });
    try {
      expect(quiver.tracing.enabled).toBe(false);
      const res = await quiver.rest.inject({
        method: 'GET',
        url: '/v1/namespaces',
        headers: { ...AUTH, traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers.traceparent).toBeUndefined();
    } finally {
      await quiver.close();
      await db.drop();
    }
  });

  it('at 0% sampling records nothing for new requests but follows a sampled caller to the children', async () => {
    const db = await testDatabase('sqlite', { QUIVER_OTEL_SAMPLING: '0' });
    const exporter = new InMemorySpanExporter();
    const quiver = await createQuiver(db.config, {
      logger: false,
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const get = (headers: Record<string, string> = {}) =>
      quiver.rest.inject({ method: 'GET', url: '/v1/namespaces/fraud', headers: { ...AUTH, ...headers } });
    try {
      expect(quiver.tracing.enabled).toBe(true);
      await quiver.rest.inject({
        method: 'POST',
        url: '/v1/namespaces',
        headers: AUTH,
        payload: { namespace_id: 'fraud' },
      });
      const unsampled = await get();
      expect(unsampled.statusCode).toBe(200);
      // A new trace could never be recorded: none is made (no span, no traceparent answered).
      expect(unsampled.headers.traceparent).toBeUndefined();
      expect(exporter.getFinishedSpans()).toEqual([]);
      // A caller's unsampled decision is followed and answered.
      const declined = await get({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-00` });
      expect(declined.headers.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
      expect(exporter.getFinishedSpans()).toEqual([]);

      const sampled = await get({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` });
      expect(sampled.statusCode).toBe(200);
      const names = exporter.getFinishedSpans().map((s) => s.name);
      expect(names).toContain('GET /v1/namespaces/:namespace');
      expect(exporter.getFinishedSpans().every((s) => s.spanContext().traceId === TRACE_ID)).toBe(true);
    } finally {
      await quiver.close();
      await db.drop();
    }
  });

  it('rejects invalid tracing settings', () => {
    expect(() => loadConfig({ QUIVER_OTEL_EXPORTERS: 'zipkin' })).toThrow(/QUIVER_OTEL_EXPORTERS/);
    expect(() => loadConfig({ QUIVER_OTEL_SAMPLING: '2' })).toThrow(/QUIVER_OTEL_SAMPLING/);
    expect(loadConfig({ QUIVER_OTEL_EXPORTERS: 'console, otlp' }).otelExporters).toEqual(['console', 'otlp']);
  });
});
