import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Quiver } from '../../src/main.js';
import { AUTH, testQuiver } from '../support/databases.js';
import { tinyMlp } from '../support/onnx-models.js';
import { deployVersion, oipClient } from '../support/serving.js';

interface Family {
  name: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: { labels?: Record<string, string>; value?: string }[];
}

/** The exposition parsed by a real Prometheus text-format parser (prom2json's shape), by family name. */
function parse(text: string): Map<string, Family> {
  const families = parsePrometheusTextFormat(text) as Family[];
  return new Map(families.map((f) => [f.name, f]));
}

/** The value of a counter or gauge sample with exactly these labels. */
function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  expect(family, `metric ${name}`).toBeDefined();
  const sample = family!.metrics.find(
    (m) =>
      Object.keys(m.labels ?? {}).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  return sample ? Number(sample.value) : 0;
}

/**
 * The sample count of one labelled series of a histogram. The parser above merges the series of a
 * labelled histogram into one, so `_count` lines are read here, strictly, from the same text.
 */
function histogramCount(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const line = text
    .split('\n')
    .find((l) => l === `${name}_count${wanted ? `{${wanted}}` : ''} ${l.split(' ').at(-1)}`);
  if (line === undefined) return 0;
  const n = Number(line.split(' ').at(-1));
  expect(Number.isFinite(n), line).toBe(true);
  return n;
}

const TYPES: Record<string, Family['type']> = {
  quiver_http_requests_total: 'COUNTER',
  quiver_http_request_duration_seconds: 'HISTOGRAM',
  quiver_grpc_requests_total: 'COUNTER',
  quiver_grpc_request_duration_seconds: 'HISTOGRAM',
  quiver_inference_duration_seconds: 'HISTOGRAM',
  quiver_inference_batch_size: 'HISTOGRAM',
  quiver_model_load_seconds: 'HISTOGRAM',
  quiver_deployments: 'GAUGE',
  quiver_jobs: 'GAUGE',
  quiver_jobs_oldest_due_age_seconds: 'GAUGE',
  quiver_models_loaded: 'GAUGE',
  quiver_models_loaded_bytes: 'GAUGE',
  quiver_cache_hits_total: 'COUNTER',
  quiver_cache_misses_total: 'COUNTER',
  quiver_audit_chain_length: 'GAUGE',
  quiver_audit_checkpoint_age_seconds: 'GAUGE',
  // SQLite here; the PostgreSQL pool is checked in metrics-storage.test.ts.
  quiver_db_group_commit_batches_total: 'COUNTER',
  quiver_db_group_commit_writes_total: 'COUNTER',
  // Process metrics (prom-client defaults under the quiver_ prefix).
  quiver_nodejs_eventloop_lag_seconds: 'GAUGE',
  quiver_nodejs_heap_size_used_bytes: 'GAUGE',
  quiver_process_cpu_user_seconds_total: 'COUNTER',
  quiver_nodejs_gc_duration_seconds: 'HISTOGRAM',
};

describe('GET /metrics (REST)', () => {
  let quiver: Quiver;
  let close: () => Promise<void>;
  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    quiver.rest.inject({ headers: AUTH, method, url, ...(payload ? { payload } : {}) });
  const scrape = async () => {
    const res = await call('GET', '/metrics');
    expect(res.statusCode).toBe(200);
    return { text: res.body, families: parse(res.body), contentType: String(res.headers['content-type']) };
  };

  beforeAll(async () => {
    ({ quiver, close } = await testQuiver('sqlite'));
  });
  afterAll(() => close?.());

  it('exposes every metric with its type, route templates as labels and process metrics', async () => {
    expect((await call('POST', '/v1/namespaces', { namespace_id: 'fraud' })).statusCode).toBe(201);
    expect((await call('GET', '/v1/namespaces/fraud')).statusCode).toBe(200);
    expect((await call('GET', '/v1/namespaces/nope')).statusCode).toBe(404);
    expect((await call('GET', '/no/such/path/fraud')).statusCode).toBe(404);

    const { text, families, contentType } = await scrape();
    expect(contentType).toContain('text/plain');
    expect(contentType).toContain('version=0.0.4');
    for (const [name, type] of Object.entries(TYPES)) expect(families.get(name)?.type, name).toBe(type);

    const http = families.get('quiver_http_requests_total')!.metrics;
    const routes = new Set(http.map((m) => m.labels?.route));
    expect(routes).toContain('/v1/namespaces');
    expect(routes).toContain('/v1/namespaces/:namespace');
    expect(routes).toContain('unmatched');
    for (const route of routes) expect(route).not.toMatch(/fraud|nope|no\/such/);
    const template = { method: 'GET', route: '/v1/namespaces/:namespace' };
    expect(value(families, 'quiver_http_requests_total', { ...template, status: '200' })).toBe(1);
    expect(value(families, 'quiver_http_requests_total', { ...template, status: '404' })).toBe(1);
    expect(
      value(families, 'quiver_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }),
    ).toBe(1);
    expect(histogramCount(text, 'quiver_http_request_duration_seconds', template)).toBe(2);

    // Gauges read on scrape: the job queue from the database, deployments by status, the runtime.
    expect(value(families, 'quiver_jobs', { status: 'queued' })).toBe(0);
    expect(value(families, 'quiver_jobs', { status: 'running' })).toBe(0);
    expect(families.get('quiver_jobs_oldest_due_age_seconds')!.metrics).toHaveLength(1);
    expect(
      families
        .get('quiver_deployments')!
        .metrics.map((m) => m.labels?.status)
        .sort(),
    ).toEqual(['deleting', 'failed', 'loading', 'pending', 'ready']);
    expect(value(families, 'quiver_models_loaded')).toBe(0);
    expect(value(families, 'quiver_nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('counts grow between scrapes, /metrics included', async () => {
    const before = (await scrape()).families;
    await call('GET', '/v1/namespaces/fraud');
    await call('GET', '/v1/namespaces/fraud');
    const after = (await scrape()).families;
    const series = { method: 'GET', route: '/v1/namespaces/:namespace', status: '200' };
    expect(value(after, 'quiver_http_requests_total', series)).toBe(
      value(before, 'quiver_http_requests_total', series) + 2,
    );
    const self = { method: 'GET', route: '/metrics', status: '200' };
    expect(value(after, 'quiver_http_requests_total', self)).toBeGreaterThan(
      value(before, 'quiver_http_requests_total', self),
    );
  });

  it('is not part of the OpenAPI document', async () => {
    const doc = (await call('GET', '/openapi.json')).json();
    expect(Object.keys(doc.paths)).not.toContain('/metrics');
  });
});

describe('GET /metrics (gRPC and inference)', () => {
  let quiver: Quiver;
  let close: () => Promise<void>;
  let base: string;
  let grpc: ReturnType<typeof oipClient>;
  const mlp = tinyMlp({ seed: 7 });

  const api = async (method: string, path: string, body?: unknown) => {
    const binary = body instanceof Uint8Array;
    const res = await fetch(base + path, {
      method,
      headers: {
        ...AUTH,
        ...(body !== undefined
          ? { 'content-type': binary ? 'application/octet-stream' : 'application/json' }
          : {}),
      },
      ...(body !== undefined ? { body: binary ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
    };
  };

  beforeAll(async () => {
    ({ quiver, close } = await testQuiver('sqlite', {
      env: { QUIVER_HTTP_PORT: '0', QUIVER_GRPC_PORT: '0', QUIVER_HTTP_HOST: '127.0.0.1' },
    }));
    base = await quiver.listen();
    grpc = oipClient(quiver.grpcPort());
  });
  afterAll(async () => {
    grpc?.close();
    await close?.();
  });

  it('counts ModelInfer by method and code and times the inference of the deployment', async () => {
    await deployVersion(api, {
      ns: 'fraud',
      model: 'scorer',
      deployment: 'fraud-prod',
      bytes: mlp.bytes,
      batching: { max_batch_size: 8, max_queue_delay_us: 0 },
    });

    const answer = await grpc.call('ModelInfer', {
      model_name: 'fraud-prod',
      inputs: [
        {
          name: 'input',
          datatype: 'FP32',
          shape: [2, 4],
          contents: { fp32_contents: [0, 1, 2, 3, 4, 5, 6, 7] },
        },
      ],
    });
    expect(answer.outputs[0].shape).toEqual(['2', '3']);
    const missing = await grpc.call('ModelInfer', { model_name: 'nope', inputs: [] }).catch((e) => e);
    expect(missing.code).toBe(5);

    const res = await fetch(`${base}/metrics`);
    const text = await res.text();
    const families = parse(text);
    expect(
      value(families, 'quiver_grpc_requests_total', { method: 'ModelInfer', code: 'OK' }),
    ).toBeGreaterThanOrEqual(1);
    expect(value(families, 'quiver_grpc_requests_total', { method: 'ModelInfer', code: 'NOT_FOUND' })).toBe(
      1,
    );
    expect(histogramCount(text, 'quiver_grpc_request_duration_seconds', { method: 'ModelInfer' })).toBe(2);
    expect(
      histogramCount(text, 'quiver_inference_duration_seconds', { deployment: 'fraud-prod', version: '1' }),
    ).toBe(1);
    // A deployment that does not exist gets no series of its own.
    expect(text).not.toContain('deployment="nope"');
    expect(histogramCount(text, 'quiver_inference_batch_size')).toBe(1);
    expect(histogramCount(text, 'quiver_model_load_seconds')).toBeGreaterThanOrEqual(1);
    expect(value(families, 'quiver_models_loaded')).toBe(1);
    expect(value(families, 'quiver_models_loaded_bytes')).toBe(mlp.bytes.length);
    expect(value(families, 'quiver_deployments', { status: 'ready' })).toBe(1);
    expect(value(families, 'quiver_jobs', { status: 'running' })).toBe(0);
  });
});
