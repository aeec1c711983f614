import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/domain/validation.js';
import { type Client, client, expectError, newModel, newNamespace } from '../support/api.js';
import { backends, testQuiver } from '../support/databases.js';
import { lineageBuilders } from '../support/lineage.js';
import { uniqueId } from './helpers.js';

const BACKENDS = await backends();

/** Datasets, runs and recording lineage through REST, including every way to get it wrong. */
describe.each(BACKENDS)('lineage recording (%s)', (backend) => {
  let ctx: Awaited<ReturnType<typeof testQuiver>>;
  let api: Client;
  let b: ReturnType<typeof lineageBuilders>;
  let ns: string;

  beforeAll(async () => {
    ctx = await testQuiver(backend);
    api = client(ctx.quiver.rest);
    b = lineageBuilders(api);
    ns = uniqueId('ns');
    await newNamespace(api, ns);
  });
  afterAll(() => ctx.close());

  it('creates datasets with versions identified by URI + digest and lists them', async () => {
    const ds = await b.dataset(ns, 'transactions');
    expect(ds).toMatchObject({ name: `namespaces/${ns}/datasets/transactions`, latest_version: 0 });
    const body = {
      uri: 's3://lake/tx/2024-04/',
      digest: `sha256:${'a'.repeat(64)}`,
      size_bytes: 10,
      format: 'parquet',
    };
    const v1 = await api.post(`/v1/namespaces/${ns}/datasets/transactions/versions`, body);
    expect(v1.status).toBe(201);
    expect(v1.body).toMatchObject({ name: `namespaces/${ns}/datasets/transactions/versions/1`, ...body });
    const again = await api.post(`/v1/namespaces/${ns}/datasets/transactions/versions`, body);
    expectError(again, 409, 'ALREADY_EXISTS', 'DATASET_VERSION_EXISTS');
    expect(again.body.error.details.resource).toBe(v1.body.name);
    await b.datasetVersion(ns, 'transactions');
    const page = await api.get(`/v1/namespaces/${ns}/datasets/transactions/versions?page_size=1`);
    expect(page.body.versions.map((v: any) => v.version)).toEqual([2]);
    const next = await api.get(
      `/v1/namespaces/${ns}/datasets/transactions/versions?page_size=1&page_token=${encodeURIComponent(page.body.next_page_token)}`,
    );
    expect(next.body.versions.map((v: any) => v.version)).toEqual([1]);
    expect(
      (await api.get(`/v1/namespaces/${ns}/datasets`)).body.datasets.map((d: any) => d.dataset_id),
    ).toContain('transactions');
    expectError(
      await api.post(`/v1/namespaces/${ns}/datasets`, { dataset_id: 'transactions' }),
      409,
      'ALREADY_EXISTS',
      'DATASET_EXISTS',
    );
  });

  it('refuses dataset versions without a URI scheme or a well-formed digest', async () => {
    await b.dataset(ns, 'shaky');
    const url = `/v1/namespaces/${ns}/datasets/shaky/versions`;
    expectError(
      await api.post(url, { uri: 'no-scheme', digest: `sha256:${'a'.repeat(64)}` }),
      400,
      'INVALID_ARGUMENT',
    );
    expectError(await api.post(url, { uri: 's3://x/y', digest: 'sha256:XYZ' }), 400, 'INVALID_ARGUMENT');
    expectError(await api.get(`${url}/01`), 400, 'INVALID_ARGUMENT');
    expectError(await api.get(`${url}/7`), 404, 'NOT_FOUND', 'DATASET_VERSION_NOT_FOUND');
  });

  it('records runs, finishes them with PATCH and refuses bad kinds and times', async () => {
    const run = await api.post(`/v1/namespaces/${ns}/runs`, {
      run_id: 'train-1',
      kind: 'training',
      status: 'running',
      code_commit: '3f2a9c1',
      parameters: { lr: 0.01, epochs: 5 },
      environment: { torch: '2.3' },
      start_time: '2024-04-01T10:00:00Z',
    });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    const done = await api.patch(`/v1/namespaces/${ns}/runs/train-1`, {
      status: 'succeeded',
      metrics: { auc: 0.93 },
      end_time: '2024-04-01T11:00:00Z',
    });
    expect(done.body).toMatchObject({
      status: 'succeeded',
      metrics: { auc: 0.93 },
      end_time: '2024-04-01T11:00:00.000Z',
    });
    const stale = await api.patch(
      `/v1/namespaces/${ns}/runs/train-1`,
      { status: 'failed' },
      { 'if-match': run.body.etag },
    );
    expectError(stale, 412, 'FAILED_PRECONDITION', 'ETAG_MISMATCH');
    const list = await api.get(
      `/v1/namespaces/${ns}/runs?filter=${encodeURIComponent('status = succeeded')}`,
    );
    expect(list.body.runs.map((r: any) => r.run_id)).toEqual(['train-1']);
    expectError(
      await api.post(`/v1/namespaces/${ns}/runs`, { run_id: 'r2', kind: 'inference' }),
      400,
      'INVALID_ARGUMENT',
    );
    const backwards = await api.post(`/v1/namespaces/${ns}/runs`, {
      run_id: 'r3',
      kind: 'evaluation',
      start_time: '2024-04-02T00:00:00Z',
      end_time: '2024-04-01T00:00:00Z',
    });
    expectError(backwards, 400, 'INVALID_ARGUMENT');
    expectError(await api.get(`/v1/namespaces/${ns}/runs/nope`), 404, 'NOT_FOUND', 'RUN_NOT_FOUND');
  });

  it('records lineage at creation and adds to it later, until approval freezes it', async () => {
    const model = uniqueId('m');
    await newModel(api, ns, model);
    await b.dataset(ns, 'train');
    const [d1, d2, d3] = [
      await b.datasetVersion(ns, 'train'),
      await b.datasetVersion(ns, 'train'),
      await b.datasetVersion(ns, 'train'),
    ];
    const run = await b.run(ns, uniqueId('run'));
    const parent = await b.version(ns, model);
    const v = await b.version(ns, model, { trained_on: [d1], produced_by: run, derived_from: [parent] });
    const added = await b.record(v, { trained_on: [d1, d2], evaluated_on: [d3] });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body).toEqual({
      version: v,
      trained_on: [d1, d2],
      evaluated_on: [d3],
      produced_by: run,
      derived_from: [parent],
      frozen: false,
    });
    await b.transition(v, 'validated', 'approved');
    const frozen = await b.record(v, { evaluated_on: [d1] });
    expectError(frozen, 400, 'FAILED_PRECONDITION', 'LINEAGE_FROZEN');
    expect(frozen.body.error.message).toContain('approved');
    const graph = await api.get(`/v1/${v}/lineage?depth=1`);
    expect(graph.body.nodes.filter((n: any) => n.type === 'dataset_version')).toHaveLength(3);
  });

  it('answers a replayed Idempotency-Key with the first result', async () => {
    const model = uniqueId('m');
    await newModel(api, ns, model);
    await b.dataset(ns, 'replay');
    const d = await b.datasetVersion(ns, 'replay');
    const v = await b.version(ns, model);
    const first = await b.record(v, { trained_on: [d] }, { 'idempotency-key': 'lineage-1' });
    const second = await b.record(v, { trained_on: [d] }, { 'idempotency-key': 'lineage-1' });
    expect(second.body).toEqual(first.body);
    const timeline = await api.get(`/v1/${v}/timeline`);
    expect(timeline.body.entries.filter((e: any) => e.kind === 'lineage_recorded')).toHaveLength(1);
  });

  it('rejects derived-from cycles and names them', async () => {
    const [m1, m2] = [uniqueId('a'), uniqueId('b')];
    await newModel(api, ns, m1);
    await newModel(api, ns, m2);
    const a = await b.version(ns, m1);
    const bb = await b.version(ns, m2, { derived_from: [a] });
    const c = await b.version(ns, m1, { derived_from: [bb] });
    const cycle = await b.record(a, { derived_from: [c] });
    expectError(cycle, 400, 'FAILED_PRECONDITION', 'LINEAGE_CYCLE');
    expect(cycle.body.error.details.cycle).toEqual([a, c, bb, a]);
    expect(cycle.body.error.message).toContain(`${a} → ${c} → ${bb} → ${a}`);
    expectError(await b.record(a, { derived_from: [a] }), 400, 'FAILED_PRECONDITION', 'LINEAGE_CYCLE');
    const byAlias = await api.put(`/v1/namespaces/${ns}/models/${m1}/aliases/latest`, { version: 2 });
    expect(byAlias.status).toBe(200);
    expectError(
      await b.record(a, { derived_from: [`namespaces/${ns}/models/${m1}/versions/@latest`] }),
      400,
      'FAILED_PRECONDITION',
      'LINEAGE_CYCLE',
    );
  });

  it('refuses to delete a model whose versions other models derive from, and deletes it once they are gone', async () => {
    const [parentModel, childModel] = [uniqueId('base'), uniqueId('tuned')];
    await newModel(api, ns, parentModel);
    await newModel(api, ns, childModel);
    const parent = await b.version(ns, parentModel);
    const child = await b.version(ns, childModel, { derived_from: [parent] });
    const refused = await api.delete(`/v1/namespaces/${ns}/models/${parentModel}?force=true`);
    expectError(refused, 400, 'FAILED_PRECONDITION', 'MODEL_HAS_DESCENDANTS');
    expect(refused.body.error.details.descendants).toEqual([child]);
    // The lineage is intact.
    const up = await api.get(`/v1/${child}/lineage?direction=upstream&depth=1`);
    expect(up.body.nodes.map((n: { name: string }) => n.name)).toContain(parent);
    expect((await api.delete(`/v1/namespaces/${ns}/models/${childModel}?force=true`)).status).toBe(204);
    expect((await api.delete(`/v1/namespaces/${ns}/models/${parentModel}?force=true`)).status).toBe(204);
  });

  it('enforces per-version edge limits, in one request and accumulated', async () => {
    const model = uniqueId('m');
    await newModel(api, ns, model);
    const max = LIMITS.lineageDerivedFrom;
    const parents: string[] = [];
    for (let i = 0; i <= max; i++) parents.push(await b.version(ns, model));
    const child = await b.version(ns, model);
    expectError(await b.record(child, { derived_from: parents }), 400, 'INVALID_ARGUMENT');
    expect((await b.record(child, { derived_from: parents.slice(0, max - 1) })).status).toBe(200);
    expect((await b.record(child, { derived_from: parents.slice(0, max) })).status).toBe(200);
    const over = await b.record(child, { derived_from: parents.slice(max) });
    expectError(over, 400, 'INVALID_ARGUMENT', 'LINEAGE_TOO_LARGE');
    expect(over.body.error.details).toMatchObject({ max, count: max + 1 });
  });

  it('refuses a second producing run, and unknown targets without creating anything', async () => {
    const model = uniqueId('m');
    await newModel(api, ns, model);
    const [r1, r2] = [await b.run(ns, uniqueId('r')), await b.run(ns, uniqueId('r'))];
    const v = await b.version(ns, model, { produced_by: r1 });
    expect((await b.record(v, { produced_by: r1 })).status).toBe(200);
    expectError(await b.record(v, { produced_by: r2 }), 400, 'FAILED_PRECONDITION', 'LINEAGE_CONFLICT');
    const url = `/v1/namespaces/${ns}/models/${model}/versions`;
    const missing = [
      [{ trained_on: [`namespaces/${ns}/datasets/none/versions/1`] }, 'DATASET_VERSION_NOT_FOUND'],
      [{ produced_by: `namespaces/${ns}/runs/none` }, 'RUN_NOT_FOUND'],
      [{ derived_from: [`namespaces/${ns}/models/${model}/versions/99`] }, 'VERSION_NOT_FOUND'],
    ] as const;
    for (const [lineage, reason] of missing)
      expectError(await api.post(url, { lineage }), 404, 'NOT_FOUND', reason);
    expect((await api.get(`/v1/namespaces/${ns}/models/${model}`)).body.latest_version).toBe(1);
  });

  it('refuses names outside the pattern: path tricks, encoded slashes, uppercase', async () => {
    const model = uniqueId('m');
    await newModel(api, ns, model);
    const v = await b.version(ns, model);
    const hostile = [
      `namespaces/${ns}/datasets/../versions/1`,
      `namespaces/${ns}/datasets/a%2Fb/versions/1`,
      `namespaces/${ns}/datasets/Train/versions/1`,
      `namespaces/${ns.toUpperCase()}/datasets/train/versions/1`,
      `namespaces/${ns}/datasets/train/versions/0`,
      `namespaces/${ns}/datasets/train/versions/1/../2`,
    ];
    for (const name of hostile) {
      const res = await b.record(v, { trained_on: [name] });
      expectError(res, 400, 'INVALID_ARGUMENT', 'INVALID_NAME');
      expect(res.body.error.details.field).toBe('lineage.trained_on[0]');
    }
    expectError(
      await b.record(v, { produced_by: `namespaces/${ns}/runs/..` }),
      400,
      'INVALID_ARGUMENT',
      'INVALID_NAME',
    );
    expectError(
      await b.record(v, { derived_from: ['namespaces/x/models/y'] }),
      400,
      'INVALID_ARGUMENT',
      'INVALID_NAME',
    );
    expectError(
      await api.get(`/v1/namespaces/${ns}/datasets/a%2Fb`),
      400,
      'INVALID_ARGUMENT',
      'INVALID_NAME',
    );
    expectError(
      await api.get(`/v1/namespaces/${ns}/datasets/Train`),
      400,
      'INVALID_ARGUMENT',
      'INVALID_NAME',
    );
    // A dot-dot segment is resolved by the URL parser before routing: it never names a run.
    expectError(await api.get(`/v1/namespaces/${ns}/runs/%2e%2e`), 404, 'NOT_FOUND', 'ROUTE_NOT_FOUND');
    expectError(await api.get(`/v1/namespaces/${ns}/runs/RUN`), 400, 'INVALID_ARGUMENT', 'INVALID_NAME');
    expectError(
      await api.post(`/v1/namespaces/${ns}/datasets`, { dataset_id: '../x' }),
      400,
      'INVALID_ARGUMENT',
    );
    expectError(await b.record(v, { trained_on: 'not-a-list' }), 400, 'INVALID_ARGUMENT');
    expectError(await b.record(v, { upstream: [] }), 400, 'INVALID_ARGUMENT');
  });
});
