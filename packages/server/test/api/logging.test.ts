import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyMlp } from '../../src/dev/onnx-builder.js';
import { createQuiver, type Quiver } from '../../src/main.js';
import { quiverLogger } from '../../src/telemetry/logger.js';
import { AUTH, backends, TEST_TOKEN, type TestDatabase, testDatabase } from '../support/databases.js';
import { waitFor } from '../support/serving.js';

const BACKENDS = await backends();
/** Anything shaped like an API token secret. */
const SECRET = /qvr_[A-Za-z0-9_-]{16,}/;

describe.each(BACKENDS)('logs of a full run at debug level (%s)', (backend) => {
  let db: TestDatabase;
  let quiver: Quiver;
  const lines: string[] = [];
  const spans = new InMemorySpanExporter();
  const call = (method: string, url: string, payload?: unknown, headers: Record<string, string> = AUTH) =>
    quiver.rest.inject({
      method: method as 'GET',
      url,
      headers: {
        ...headers,
        ...(payload instanceof Uint8Array ? { 'content-type': 'application/octet-stream' } : {}),
      },
      ...(payload !== undefined
        ? { payload: payload instanceof Uint8Array ? Buffer.from(payload) : (payload as object) }
        : {}),
    });

  beforeAll(async () => {
    db = await testDatabase(backend, {
      QUIVER_LOG_LEVEL: 'debug',
      QUIVER_HTTP_PORT: '0',
      QUIVER_GRPC_PORT: '0',
      QUIVER_HTTP_HOST: '127.0.0.1',
    });
    quiver = await createQuiver(db.config, {
      pollMs: 50,
      logStream: { write: (line: string) => void lines.push(line) },
      spanProcessors: [new SimpleSpanProcessor(spans)],
      ...(db.schema ? { postgresSchema: db.schema } : {}),
    });
    await quiver.listen();
  });
  afterAll(async () => {
    await quiver?.close();
    await db?.drop();
  });

  it('never writes the admin token or any token secret, and carries request and trace ids', async () => {
    expect((await call('POST', '/v1/namespaces', { namespace_id: 'fraud' })).statusCode).toBe(201);
    expect((await call('POST', '/v1/namespaces/fraud/models', { model_id: 'scorer' })).statusCode).toBe(201);
    const up = await call('POST', '/v1/artifacts', tinyMlp({ seed: 5 }).bytes);
    expect(up.statusCode).toBe(201);
    const created = await call('POST', '/v1/namespaces/fraud/models/scorer/versions', {
      artifact: { digest: up.json().digest },
    });
    expect(created.statusCode).toBe(201);
    // A token secret is answered once; it must not reach the logs either.
    await call('POST', '/v1/principals', { principal_id: 'ci-bot', kind: 'service_account' });
    const token = await call('POST', '/v1/principals/ci-bot/tokens', {});
    expect(token.statusCode).toBe(201);
    const botSecret: string = token.json().secret;
    expect(botSecret).toMatch(SECRET);
    expect(
      (await call('GET', '/v1/whoami', undefined, { authorization: `Bearer ${botSecret}` })).statusCode,
    ).toBe(200);
    // Wrong credentials are logged as failures, without the credential.
    const forged = `qvr_${'x'.repeat(40)}`;
    expect(
      (await call('GET', '/v1/namespaces', undefined, { authorization: `Bearer ${forged}` })).statusCode,
    ).toBe(401);

    const deploy = await call('POST', '/v1/deployments', {
      deployment_id: 'fraud-prod',
      model: 'namespaces/fraud/models/scorer',
      version: 1,
    });
    expect(deploy.statusCode).toBe(202);
    await waitFor(
      async () => (await call('GET', '/v1/deployments/fraud-prod')).json(),
      (d) => d.status === 'ready',
      20_000,
      'the deployment to be ready',
    );
    const infer = await waitFor(
      () =>
        call('POST', '/v2/models/fraud-prod/infer', {
          inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }],
        }),
      (r) => r.statusCode === 200,
      10_000,
      'the inference to answer',
    );
    expect(infer.statusCode).toBe(200);
    expect((await call('GET', '/v1/audit/events?page_size=50')).statusCode).toBe(200);
    expect((await call('GET', '/v1/audit:verify')).statusCode).toBe(200);

    const text = lines.join('');
    expect(lines.length).toBeGreaterThan(10);
    expect(text).not.toContain(TEST_TOKEN);
    expect(text).not.toContain(botSecret);
    expect(text).not.toContain(forged);
    expect(text).not.toMatch(SECRET);

    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = records.filter((r) => r.msg === 'request completed');
    const deployLine = requests.find((r) => r.route === '/v1/deployments' && r.method === 'POST');
    expect(deployLine).toMatchObject({
      level: 20,
      status_code: 202,
      principal: expect.stringContaining('admin'),
      request_id: expect.any(String),
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    const server = spans.getFinishedSpans().find((s) => s.name === 'POST /v1/deployments')!;
    expect(deployLine!.trace_id).toBe(server.spanContext().traceId);
    expect(deployLine!.span_id).toBe(server.spanContext().spanId);
    expect(requests.find((r) => r.route === '/v1/whoami')?.principal).toContain('ci-bot');
    // Route templates, never the raw URL with its query.
    for (const r of requests) expect(String(r.route ?? '')).not.toContain('?');
  });
});

describe('the logger', () => {
  it('redacts credentials wherever a log call puts them', () => {
    const out: string[] = [];
    const logger = quiverLogger('debug', false, { write: (line: string) => void out.push(line) });
    const bearer = `Bearer ${TEST_TOKEN}`;
    logger.info({ req: { headers: { authorization: bearer } } }, 'request');
    logger.info({ headers: { authorization: bearer, cookie: 'sid=1' } }, 'headers');
    logger.warn({ token: TEST_TOKEN, config: { bootstrapToken: TEST_TOKEN } }, 'config');
    logger.info({ created: { secret: TEST_TOKEN } }, 'created a token');
    expect(out).toHaveLength(4);
    expect(out.join('')).not.toContain(TEST_TOKEN);
    expect(out.join('')).not.toContain('sid=1');
    expect(JSON.parse(out[0]!).req.headers.authorization).toBe('[redacted]');
  });
});
