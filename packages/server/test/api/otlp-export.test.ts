import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createQuiver } from '../../src/main.js';
import { createTracing } from '../../src/telemetry/tracing.js';
import { AUTH, testDatabase } from '../support/databases.js';
import { type OtlpReceiver, otlpGrpcReceiver, otlpHttpReceiver } from '../support/otlp-receiver.js';
import { waitFor } from '../support/serving.js';

/** Sets the standard OTEL_* variables the exporters read, for one test; restored after it. */
const saved = new Map<string, string | undefined>();
function setEnv(vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (!saved.has(k)) saved.set(k, process.env[k]);
    process.env[k] = v;
  }
}

describe('OTLP export', () => {
  let receiver: OtlpReceiver | undefined;
  afterEach(async () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    saved.clear();
    vi.restoreAllMocks();
    await receiver?.close();
    receiver = undefined;
  });

  /** Exports one span through a tracing built from `env` (as the server reads it) and flushes. */
  async function exportOne(env: Record<string, string>) {
    setEnv(env);
    const tracing = createTracing(loadConfig(env), { version: '9.9.9' });
    expect(tracing.enabled).toBe(true);
    tracing.tracer.startSpan('probe', { attributes: { 'quiver.test': 'yes' } }).end();
    await tracing.shutdown();
  }

  it('sends spans over OTLP/HTTP protobuf with the standard endpoint, headers and resource variables', async () => {
    receiver = await otlpHttpReceiver();
    await exportOne({
      QUIVER_OTEL_EXPORTERS: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=mediscan',
      OTEL_SERVICE_NAME: 'quiver-eu-1',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=ci',
    });
    expect(receiver.spans).toHaveLength(1);
    const [span] = receiver.spans;
    expect(span!.name).toBe('probe');
    expect(span!.attributes['quiver.test']).toBe('yes');
    expect(span!.resource).toMatchObject({
      'service.name': 'quiver-eu-1',
      'service.version': '9.9.9',
      'deployment.environment': 'ci',
      'quiver.role': 'all',
    });
    expect(receiver.lastHeaders['x-tenant']).toBe('mediscan');
    expect(receiver.lastHeaders['content-type']).toBe('application/x-protobuf');
  });

  it('sends spans over OTLP/gRPC when OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc', async () => {
    receiver = await otlpGrpcReceiver();
    await exportOne({
      QUIVER_OTEL_EXPORTERS: 'otlp',
      // The traces-specific variable wins over the general one.
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=finsecure',
    });
    expect(receiver.spans.map((s) => s.name)).toEqual(['probe']);
    expect(receiver.spans[0]!.resource['service.name']).toBe('quiver');
    expect(receiver.lastHeaders['x-tenant']).toBe('finsecure');
  });

  it('sends to several exporters at once (otlp,console)', async () => {
    receiver = await otlpHttpReceiver();
    const printed: unknown[] = [];
    // The console exporter prints each span with console.dir; capture it instead of the test's stdout.
    vi.spyOn(console, 'dir').mockImplementation((value: unknown) => void printed.push(value));
    await exportOne({
      QUIVER_OTEL_EXPORTERS: 'otlp,console',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    });
    await waitFor(
      async () => receiver!.spans.length,
      (n) => n === 1,
      5_000,
      'the OTLP span',
    );
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatchObject({ name: 'probe', traceId: receiver.spans[0]!.traceId });
  });

  it('samples no new trace at QUIVER_OTEL_SAMPLING=0 but follows a sampled caller', async () => {
    receiver = await otlpHttpReceiver();
    const env = {
      QUIVER_OTEL_EXPORTERS: 'otlp',
      QUIVER_OTEL_SAMPLING: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    };
    setEnv(env);
    const tracing = createTracing(loadConfig(env), { version: 'test' });
    tracing.tracer.startSpan('unsampled root').end();
    const parent = tracing.extract({
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    tracing.tracer.startSpan('child of a sampled caller', {}, parent).end();
    await tracing.shutdown();
    expect(receiver.spans.map((s) => s.name)).toEqual(['child of a sampled caller']);
  });

  it('pushes the Prometheus metrics over OTLP with QUIVER_OTEL_METRICS=on (same names, labels, buckets)', async () => {
    receiver = await otlpHttpReceiver();
    setEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint });
    const db = await testDatabase('sqlite', {
      QUIVER_OTEL_METRICS: 'on',
      OTEL_METRIC_EXPORT_INTERVAL: '100000',
    });
    const quiver = await createQuiver(db.config, { logger: false });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await quiver.rest.inject({ method: 'GET', url: '/v1/namespaces', headers: AUTH });
        expect(res.statusCode).toBe(200);
      }
    } finally {
      // The last push happens on shutdown (the interval above is far longer than the test).
      await quiver.close();
      await db.drop();
    }
    const byName = new Map(receiver.metrics.map((m) => [m.name, m]));
    const requests = byName.get('quiver_http_requests_total')?.sum;
    expect(requests?.is_monotonic).toBe(true);
    expect(requests?.aggregation_temporality).toBe(2); // CUMULATIVE, like Prometheus
    const series = requests!.data_points.find(
      (p) => (p.attributes as Record<string, unknown>).route === '/v1/namespaces',
    );
    expect(series).toMatchObject({ as_double: 3, attributes: { method: 'GET', status: '200' } });
    const duration = byName
      .get('quiver_http_request_duration_seconds')
      ?.histogram?.data_points.find(
        (p) => (p.attributes as Record<string, unknown>).route === '/v1/namespaces',
      );
    expect(duration!.count).toBe(3);
    const counts = duration!.bucket_counts as number[];
    expect(counts).toHaveLength((duration!.explicit_bounds as number[]).length + 1);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(3);
    expect(byName.get('quiver_audit_chain_length')?.gauge).toBeDefined();
    expect(
      byName.get('quiver_nodejs_heap_size_used_bytes')?.gauge?.data_points[0]?.as_double,
    ).toBeGreaterThan(0);
  });

  it('rejects an OTLP protocol it cannot send', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL/,
    );
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' })).toThrow(
      /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL/,
    );
  });
});
