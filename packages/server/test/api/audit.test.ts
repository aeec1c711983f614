import { createHash } from 'node:crypto';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyMlp } from '../../src/dev/onnx-builder.js';
import { checkpointSignatureValid } from '../../src/domain/audit-chain.js';
import { createQuiver, type Quiver } from '../../src/main.js';
import { type Answer, type Client, client, expectError } from '../support/api.js';
import { AUTH, backends, testDatabase, testQuiver } from '../support/databases.js';

const BACKENDS = await backends();

/** POST, PUT, PATCH and DELETE routes that change nothing (reads with a body); every other one must be audited. */
const READS_WITH_A_BODY = new Set([
  'POST /v1/versions:batchGet',
  'POST /v1/versions:batchGetStatus',
  'POST /v1/deployments:batchGet',
]);

describe.each(BACKENDS)('audit log over REST (%s)', (backend) => {
  let quiver: Quiver;
  let close: () => Promise<void>;
  let api: Client;

  beforeAll(async () => {
    ({ quiver, close } = await testQuiver(backend));
    api = client(quiver.rest);
  });
  afterAll(() => close?.());

  const head = () => quiver.store.read((r) => r.audit.head());
  /** Runs a call and returns the events it appended (read from the store, so the reading is not itself audited). */
  async function appended(call: () => Promise<Answer>) {
    const before = (await head()).seq;
    const answer = await call();
    const events = await quiver.store.read((r) => r.audit.scan(before, Number.MAX_SAFE_INTEGER, 100));
    return { answer, events };
  }
  const upload = async (bytes: Uint8Array) => {
    const res = await quiver.rest.inject({
      method: 'POST',
      url: '/v1/artifacts',
      payload: Buffer.from(bytes),
      headers: { 'content-type': 'application/octet-stream', ...AUTH },
    });
    return { status: res.statusCode, body: res.json(), headers: res.headers } as Answer;
  };

  it('appends exactly one event for every mutation route, naming its action and resource', async () => {
    const onnx = tinyMlp().bytes;
    const digest = `sha256:${createHash('sha256').update(onnx).digest('hex')}`;
    const m = 'namespaces/audit/models/scorer';
    const v1 = `${m}/versions/1`;
    let token = '';
    let binding = '';
    const remember = (answer: Answer, set: (body: any) => void) => {
      if (answer.status < 300) set(answer.body);
      return answer;
    };
    /** Route (as OpenAPI names it), the call, the action its event names, and its resource (when this test owns it). */
    const cases: [route: string, call: () => Promise<Answer>, action: string, resource?: string][] = [
      [
        'POST /v1/namespaces',
        () => api.post('/v1/namespaces', { namespace_id: 'audit' }),
        'CreateNamespace',
        'namespaces/audit',
      ],
      [
        'POST /v1/namespaces/{namespace}/models',
        () => api.post('/v1/namespaces/audit/models', { model_id: 'scorer' }),
        'CreateModel',
        m,
      ],
      [
        'POST /v1/namespaces/{namespace}/models',
        () => api.post('/v1/namespaces/audit/models', { model_id: 'gone' }),
        'CreateModel',
        'namespaces/audit/models/gone',
      ],
      [
        'PATCH /v1/namespaces/{namespace}/models/{model}',
        () => api.patch(`/v1/${m}`, { description: 'd' }),
        'UpdateModel',
        m,
      ],
      ['POST /v1/artifacts', () => upload(onnx), 'UploadArtifact', `artifacts/${digest}`],
      [
        'POST /v1/namespaces/{namespace}/models/{model}/versions',
        () => api.post(`/v1/${m}/versions`, { artifact: { digest } }),
        'CreateVersion',
        `${m}/versions/1`,
      ],
      [
        'PATCH /v1/namespaces/{namespace}/models/{model}/versions/{version}',
        () => api.patch(`/v1/${m}/versions/1`, { description: 'v' }),
        'UpdateVersion',
        `${m}/versions/1`,
      ],
      [
        'POST /v1/namespaces/{namespace}/models/{model}/versions/{version}:transition',
        () => api.post(`/v1/${m}/versions/1:transition`, { status: 'validated' }),
        'TransitionVersion',
        `${m}/versions/1`,
      ],
      [
        'PUT /v1/namespaces/{namespace}/models/{model}/aliases/{alias}',
        () => api.put(`/v1/${m}/aliases/champion`, { version: 1 }),
        'SetAlias',
        `${m}/aliases/champion`,
      ],
      [
        'DELETE /v1/namespaces/{namespace}/models/{model}/aliases/{alias}',
        () => api.delete(`/v1/${m}/aliases/champion`),
        'DeleteAlias',
        `${m}/aliases/champion`,
      ],
      [
        'POST /v1/deployments',
        () => api.post('/v1/deployments', { deployment_id: 'audited', model: m, version: 1 }),
        'CreateDeployment',
        'deployments/audited',
      ],
      [
        'PATCH /v1/deployments/{deployment}',
        () => api.patch('/v1/deployments/audited', { replicas: 2 }),
        'UpdateDeployment',
        'deployments/audited',
      ],
      [
        'DELETE /v1/deployments/{deployment}',
        () => api.delete('/v1/deployments/audited'),
        'DeleteDeployment',
        'deployments/audited',
      ],
      ['POST /v1/audit:checkpoint', () => api.post('/v1/audit:checkpoint'), 'CreateAuditCheckpoint', 'audit'],
      // Lineage and IAM: their own suites test what they do; here, that each one is audited once.
      [
        'POST /v1/namespaces/{namespace}/datasets',
        () => api.post('/v1/namespaces/audit/datasets', { dataset_id: 'tx' }),
        'CreateDataset',
      ],
      [
        'POST /v1/namespaces/{namespace}/datasets/{dataset}/versions',
        () =>
          api.post('/v1/namespaces/audit/datasets/tx/versions', {
            uri: 's3://data/tx/',
            digest: `sha256:${'a'.repeat(64)}`,
          }),
        'CreateDatasetVersion',
      ],
      [
        'POST /v1/namespaces/{namespace}/runs',
        () => api.post('/v1/namespaces/audit/runs', { run_id: 'train-1', kind: 'training' }),
        'CreateRun',
      ],
      [
        'PATCH /v1/namespaces/{namespace}/runs/{run}',
        () => api.patch('/v1/namespaces/audit/runs/train-1', { status: 'succeeded' }),
        'UpdateRun',
      ],
      [
        'POST /v1/namespaces/{namespace}/models/{model}/versions/{version}:recordLineage',
        () => api.post(`/v1/${v1}:recordLineage`, { produced_by: 'namespaces/audit/runs/train-1' }),
        'RecordLineage',
      ],
      [
        'PATCH /v1/namespaces/{namespace}/policy',
        () => api.patch('/v1/namespaces/audit/policy', { separation_of_duties: true }),
        'UpdateNamespacePolicy',
      ],
      [
        'POST /v1/principals',
        () => api.post('/v1/principals', { principal_id: 'ci-bot' }),
        'CreatePrincipal',
      ],
      [
        'PATCH /v1/principals/{principal}',
        () => api.patch('/v1/principals/ci-bot', { display_name: 'CI' }),
        'UpdatePrincipal',
      ],
      [
        'POST /v1/principals/{principal}/tokens',
        async () =>
          remember(
            await api.post('/v1/principals/ci-bot/tokens', { description: 't' }),
            (b) => (token = b.token_id),
          ),
        'CreateToken',
      ],
      [
        'POST /v1/principals/{principal}/tokens/{token}:revoke',
        () => api.post(`/v1/principals/ci-bot/tokens/${token}:revoke`),
        'RevokeToken',
      ],
      [
        'POST /v1/roles',
        () => api.post('/v1/roles', { role_id: 'reader', permissions: ['audit.read'] }),
        'CreateRole',
      ],
      [
        'PATCH /v1/roles/{role}',
        () => api.patch('/v1/roles/reader', { description: 'reads the log' }),
        'UpdateRole',
      ],
      [
        'POST /v1/roleBindings',
        async () =>
          remember(
            await api.post('/v1/roleBindings', {
              role: 'roles/reader',
              member: 'principals/ci-bot',
              scope: 'global',
            }),
            (b) => (binding = b.binding_id),
          ),
        'CreateRoleBinding',
      ],
      [
        'DELETE /v1/roleBindings/{binding}',
        () => api.delete(`/v1/roleBindings/${binding}`),
        'DeleteRoleBinding',
      ],
      ['DELETE /v1/roles/{role}', () => api.delete('/v1/roles/reader'), 'DeleteRole'],
      [
        'DELETE /v1/namespaces/{namespace}/models/{model}',
        () => api.delete('/v1/namespaces/audit/models/gone'),
        'DeleteModel',
        'namespaces/audit/models/gone',
      ],
    ];
    for (const [route, call, action, resource] of cases) {
      const { answer, events } = await appended(call);
      expect(answer.status, `${route}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
      expect(events, route).toHaveLength(1);
      expect(events[0], route).toMatchObject({
        action,
        ...(resource ? { resource } : {}),
        outcome: 'success',
      });
      // The authenticated caller, as the transport put it in the call context.
      expect(events[0]!.principal, route).not.toMatch(/^(anonymous)?$/);
      expect(events[0]!.change_digest, route).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(events[0]!.client_address, route).toBe('127.0.0.1');
    }
    // No mutation route may be forgotten: each one in the OpenAPI document has its case above.
    const spec = (await api.get('/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const mutating = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((verb) => ['post', 'put', 'patch', 'delete'].includes(verb))
        .map((verb) => `${verb.toUpperCase()} ${path}`)
        .filter((route) => route.includes(' /v1/') && !READS_WITH_A_BODY.has(route)),
    );
    const covered = new Set(cases.map(([route]) => route));
    expect(
      mutating.filter((route) => !covered.has(route)),
      'mutation routes without an audit case',
    ).toEqual([]);
  });

  it('records the deployment’s operation in the details of an event whose result is an operation', async () => {
    await api.post('/v1/namespaces', { namespace_id: 'ops' });
    await api.post('/v1/namespaces/ops/models', { model_id: 'm' });
    await api.post('/v1/namespaces/ops/models/m/versions', {});
    const { answer, events } = await appended(() =>
      api.post('/v1/deployments', { deployment_id: 'ops-d', model: 'namespaces/ops/models/m', version: 1 }),
    );
    expect(events[0]!.details).toEqual({ result: answer.body.name });
  });

  it('appends nothing for a failed mutation or an idempotent replay, and no change commits without its event', async () => {
    expect(
      (await appended(() => api.post('/v1/namespaces/nowhere/models', { model_id: 'x' }))).events,
    ).toEqual([]);
    const key = { 'idempotency-key': `audit-${backend}` };
    expect(
      (await appended(() => api.post('/v1/namespaces', { namespace_id: 'once' }, key))).events,
    ).toHaveLength(1);
    const replay = await appended(() => api.post('/v1/namespaces', { namespace_id: 'once' }, key));
    expect(replay.answer.status).toBe(201);
    expect(replay.events).toEqual([]);

    // Make every append fail inside the database: the change it belongs to must roll back with it.
    const refuse =
      backend === 'sqlite'
        ? [
            sql`create trigger refuse_audit before insert on audit_events begin select raise(abort, 'no audit'); end`,
          ]
        : [
            sql`create function refuse_audit() returns trigger language plpgsql as $$ begin raise exception 'no audit'; end $$`,
            sql`create trigger refuse_audit before insert on audit_events for each row execute function refuse_audit()`,
          ];
    for (const s of refuse) await s.execute(quiver.store.db);
    try {
      const failed = await api.post('/v1/namespaces', { namespace_id: 'unaudited' });
      expect(failed.status).toBe(500);
    } finally {
      await sql
        .raw(`drop trigger refuse_audit${backend === 'postgres' ? ' on audit_events' : ''}`)
        .execute(quiver.store.db);
    }
    expectError(await api.get('/v1/namespaces/unaudited'), 404, 'NOT_FOUND', 'NAMESPACE_NOT_FOUND');
  });

  it('records artifact downloads and audit reads as sensitive reads', async () => {
    const stored = await upload(new TextEncoder().encode(`secret weights ${backend}`));
    const download = await appended(() => api.get(`/v1/artifacts/${stored.body.digest}`));
    expect(download.answer.status).toBe(200);
    expect(download.events).toMatchObject([
      { action: 'DownloadArtifact', resource: `artifacts/${stored.body.digest}`, outcome: 'success' },
    ]);
    const read = await appended(() => api.get('/v1/audit/events?page_size=1'));
    expect(read.events).toMatchObject([
      { action: 'ReadAudit', resource: 'audit/events', permission: 'audit.read' },
    ]);
  });

  it('lists events with filters and page tokens, each carrying its hashes', async () => {
    await api.post('/v1/namespaces', { namespace_id: 'listed' });
    const all = await api.get('/v1/audit/events?resource=namespaces/listed&action=CreateNamespace');
    expect(all.status).toBe(200);
    expect(all.body.events).toHaveLength(1);
    // The change is recorded under the permission the route checked.
    expect(all.body.events[0]).toMatchObject({ principal: 'admin', permission: 'namespaces.create' });
    expect(Object.keys(all.body.events[0]).sort()).toEqual(
      [
        'action',
        'change_digest',
        'client_address',
        'details',
        'hash',
        'outcome',
        'permission',
        'prev_hash',
        'principal',
        'request_id',
        'resource',
        'seq',
        'time',
        'trace_id',
      ].sort(),
    );
    const me = all.body.events[0].principal;
    const first = await api.get(`/v1/audit/events?page_size=2&principal=${me}&order_by=seq%20desc`);
    expect(first.body.events).toHaveLength(2);
    expect(first.body.events[0].seq).toBeGreaterThan(first.body.events[1].seq);
    const next = await api.get(
      `/v1/audit/events?page_size=2&principal=${me}&order_by=seq%20desc&page_token=${first.body.next_page_token}`,
    );
    expect(next.body.events[0].seq).toBeLessThan(first.body.events[1].seq);
    const since = encodeURIComponent(all.body.events[0].time);
    const prefixed = await api.get(`/v1/audit/events?resource=namespaces/listed*&since=${since}`);
    expect(prefixed.body.events.map((e: { seq: number }) => e.seq)).toEqual([all.body.events[0].seq]);

    expectError(await api.get('/v1/audit/events?since=yesterday'), 400, 'INVALID_ARGUMENT');
    expectError(await api.get('/v1/audit/events?outcome=maybe'), 400, 'INVALID_ARGUMENT');
    expectError(await api.get('/v1/audit/events?colour=red'), 400, 'INVALID_ARGUMENT');
    expectError(
      await api.get('/v1/audit/events?order_by=principal'),
      400,
      'INVALID_ARGUMENT',
      'INVALID_ORDER_BY',
    );
    expectError(
      await api.get('/v1/audit/events?page_token=forged'),
      400,
      'INVALID_ARGUMENT',
      'INVALID_PAGE_TOKEN',
    );
  });

  it('exports JSON Lines in seq order', async () => {
    const res = await quiver.rest.inject({
      method: 'GET',
      url: '/v1/audit/events:export?action=CreateNamespace',
      headers: AUTH,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    const lines = res.body
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.every((e) => e.action === 'CreateNamespace' && /^[0-9a-f]{64}$/.test(e.hash))).toBe(true);
    expect(lines.map((e) => e.seq)).toEqual([...lines.map((e) => e.seq)].sort((a, b) => a - b));
    expectError(await api.get('/v1/audit/events:export?until=soon'), 400, 'INVALID_ARGUMENT');
  });

  it('verifies the chain as JSON or with progress as Server-Sent Events, and publishes the key of its checkpoints', async () => {
    const made = await api.post('/v1/audit:checkpoint');
    expect(made.status).toBe(201);
    const verdict = await api.get('/v1/audit:verify');
    expect(verdict.status).toBe(200);
    const cps = await api.get('/v1/audit/checkpoints?page_size=1000');
    expect(cps.body.checkpoints.at(-1)).toEqual(made.body);
    expect(verdict.body).toMatchObject({ valid: true, checkpoints_checked: cps.body.checkpoints.length });
    expect(verdict.body.events_checked).toBe(verdict.body.head_seq);
    expect(verdict.body.first_invalid).toBeUndefined();

    const sse = await quiver.rest.inject({
      method: 'GET',
      url: '/v1/audit:verify',
      headers: { accept: 'text/event-stream', ...AUTH },
    });
    expect(sse.headers['content-type']).toContain('text/event-stream');
    expect(sse.body).toMatch(/event: progress\ndata: \{"events_checked":\d+,"total":\d+\}/);
    const result = /event: result\ndata: (.*)\n/.exec(sse.body);
    expect(JSON.parse(result![1]!)).toMatchObject({ valid: true });

    const key = (await api.get('/v1/audit/public-key')).body;
    expect(key).toMatchObject({ algorithm: 'Ed25519', key_id: quiver.audit.publicKey().key_id });
    expect(key.public_key).toContain('BEGIN PUBLIC KEY');
    expect(checkpointSignatureValid(made.body, key.public_key)).toBe(true);
  });

  it('keeps one unforked chain under 50 concurrent writers', async () => {
    await api.post('/v1/namespaces', { namespace_id: 'busy' });
    await api.post('/v1/namespaces/busy/models', { model_id: 'm' });
    const before = (await head()).seq;
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        i % 2 === 0
          ? api.post('/v1/namespaces/busy/models/m/versions', { description: `v${i}` })
          : api.post('/v1/namespaces/busy/models', { model_id: `m${i}` }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
    const events = await quiver.store.read((r) => r.audit.scan(before, Number.MAX_SAFE_INTEGER, 1000));
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => before + i + 1));
    expect(new Set(events.map((e) => e.prev_hash)).size).toBe(50);
    expect(await quiver.audit.verify({ actor: { principal: 'test' }, requestId: 'verify' })).toMatchObject({
      valid: true,
    });
  });
});

describe('audit log with tracing on', () => {
  it('records the trace id of the request that made the change', async () => {
    const db = await testDatabase('sqlite');
    const quiver = await createQuiver(db.config, {
      logger: false,
      spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())],
    });
    try {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const res = await client(quiver.rest).post(
        '/v1/namespaces',
        { namespace_id: 'traced' },
        { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, 'x-request-id': 'req-traced' },
      );
      expect(res.status).toBe(201);
      const [event] = await quiver.store.read((r) =>
        r.audit.list({ resource: 'namespaces/traced' }, null, false, 10),
      );
      expect(event).toMatchObject({ trace_id: traceId, request_id: 'req-traced', action: 'CreateNamespace' });
    } finally {
      await quiver.close();
      await db.drop();
    }
  });
});
