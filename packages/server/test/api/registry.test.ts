import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, client, expectError, newModel, newNamespace, newVersion } from '../support/api.js';
import { backends, testQuiver } from '../support/databases.js';
import { expectResourceMeta, expectRfc3339, q, uniqueId, walkPages } from './helpers.js';

const BACKENDS = await backends();

const STATUSES = ['registered', 'validated', 'approved', 'deprecated', 'archived', 'rejected'] as const;
type Status = (typeof STATUSES)[number];

/** The lifecycle as the design brief states it, written out independently of the server's table. */
const LEGAL: Record<Status, Status[]> = {
  registered: ['validated', 'rejected'],
  validated: ['approved', 'rejected'],
  approved: ['deprecated'],
  deprecated: ['archived'],
  archived: [],
  rejected: [],
};
/** The steps that bring a fresh (registered) version to each status. */
const PATH_TO: Record<Status, Status[]> = {
  registered: [],
  validated: ['validated'],
  approved: ['validated', 'approved'],
  deprecated: ['validated', 'approved', 'deprecated'],
  archived: ['validated', 'approved', 'deprecated', 'archived'],
  rejected: ['rejected'],
};
const LEGAL_PAIRS = STATUSES.flatMap((from) => LEGAL[from].map((to) => [from, to] as const));
const ILLEGAL_PAIRS = STATUSES.flatMap((from) =>
  STATUSES.filter((to) => !LEGAL[from].includes(to)).map((to) => [from, to] as const),
);

describe.each(BACKENDS)('registry API (%s)', (backend) => {
  let ctx: Awaited<ReturnType<typeof testQuiver>>;
  let api: Client;

  beforeAll(async () => {
    ctx = await testQuiver(backend);
    api = client(ctx.quiver.rest);
  });
  afterAll(() => ctx.close());

  /** A fresh namespace with one model holding `versions` versions; returns the model's URL. */
  async function freshModel(versions = 0, modelId = 'model') {
    const ns = uniqueId('ns');
    await newNamespace(api, ns);
    await newModel(api, ns, modelId);
    for (let i = 0; i < versions; i++) await newVersion(api, ns, modelId);
    return { ns, model: modelId, url: `/v1/namespaces/${ns}/models/${modelId}` };
  }

  async function moveTo(versionUrl: string, status: Status) {
    for (const step of PATH_TO[status]) {
      const res = await api.post(`${versionUrl}:transition`, { status: step });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
  }

  async function history(versionUrl: string) {
    const res = await api.get(`${versionUrl}/history?page_size=1000`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.history as any[];
  }

  describe('namespaces', () => {
    it('creates a namespace and reads it back', async () => {
      const id = uniqueId('ns');
      const created = await api.post('/v1/namespaces', { namespace_id: id, description: 'fraud team' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ namespace_id: id, description: 'fraud team' });
      expectResourceMeta(created.body, `namespaces/${id}`);

      const read = await api.get(`/v1/namespaces/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(created.body);
    });

    it('refuses a second namespace with the same id', async () => {
      const id = uniqueId('ns');
      await newNamespace(api, id);
      expectError(
        await api.post('/v1/namespaces', { namespace_id: id }),
        409,
        'ALREADY_EXISTS',
        'NAMESPACE_EXISTS',
      );
    });

    it('answers NOT_FOUND for a namespace that does not exist', async () => {
      const res = await api.get(`/v1/namespaces/${uniqueId('missing')}`);
      expectError(res, 404, 'NOT_FOUND', 'NAMESPACE_NOT_FOUND');
    });

    it('lists namespaces in name order', async () => {
      const prefix = uniqueId('list');
      const ids = ['c', 'a', 'b'].map((s) => `${prefix}-${s}`);
      for (const id of ids) await newNamespace(api, id);
      const { items } = await walkPages(
        api,
        `/v1/namespaces?${q({ filter: `namespace_id:"${prefix}-*"` })}`,
        'namespaces',
        { pageSize: 2 },
      );
      expect(items.map((n) => n.namespace_id)).toEqual([...ids].sort());
      for (const n of items) expectResourceMeta(n, `namespaces/${n.namespace_id}`);
    });
  });

  describe('models', () => {
    it('registers a model with description and labels', async () => {
      const ns = uniqueId('ns');
      await newNamespace(api, ns);
      const res = await api.post(`/v1/namespaces/${ns}/models`, {
        model_id: 'scorer',
        description: 'fraud scorer',
        labels: { team: 'fraud', 'app.kubernetes.io/name': 'scorer' },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        namespace: `namespaces/${ns}`,
        model_id: 'scorer',
        description: 'fraud scorer',
        labels: { team: 'fraud', 'app.kubernetes.io/name': 'scorer' },
        latest_version: 0,
        aliases: {},
      });
      expectResourceMeta(res.body, `namespaces/${ns}/models/scorer`);

      const read = await api.get(`/v1/namespaces/${ns}/models/scorer`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(res.body);
      expect(read.headers.etag).toBe(res.body.etag);
    });

    it('refuses a model whose namespace does not exist', async () => {
      const res = await api.post(`/v1/namespaces/${uniqueId('missing')}/models`, { model_id: 'm' });
      expectError(res, 404, 'NOT_FOUND', 'NAMESPACE_NOT_FOUND');
    });

    it('refuses a second model with the same id in one namespace', async () => {
      const { ns } = await freshModel(0, 'dup');
      expectError(
        await api.post(`/v1/namespaces/${ns}/models`, { model_id: 'dup' }),
        409,
        'ALREADY_EXISTS',
        'MODEL_EXISTS',
      );
    });

    it('allows the same model id in two namespaces', async () => {
      const first = await freshModel(0, 'shared');
      const second = await freshModel(0, 'shared');
      const a = await api.get(first.url);
      const b = await api.get(second.url);
      expect(a.body.uid).not.toBe(b.body.uid);
    });

    it('answers NOT_FOUND for a model that does not exist', async () => {
      const { ns } = await freshModel();
      expectError(await api.get(`/v1/namespaces/${ns}/models/nope`), 404, 'NOT_FOUND', 'MODEL_NOT_FOUND');
    });

    it('lists the models of one namespace only, in name order', async () => {
      const ns = uniqueId('ns');
      const other = uniqueId('ns');
      await newNamespace(api, ns);
      await newNamespace(api, other);
      for (const id of ['charlie', 'alpha', 'bravo']) await newModel(api, ns, id);
      await newModel(api, other, 'delta');
      const res = await api.get(`/v1/namespaces/${ns}/models`);
      expect(res.status).toBe(200);
      expect(res.body.models.map((m: any) => m.model_id)).toEqual(['alpha', 'bravo', 'charlie']);
      expect(res.body.next_page_token).toBe('');
      for (const m of res.body.models) expectResourceMeta(m, `namespaces/${ns}/models/${m.model_id}`);
    });

    it('lists models across all namespaces with -', async () => {
      const prefix = uniqueId('x').replace('-', '');
      const [ns1, ns2] = [uniqueId('ns'), uniqueId('ns')];
      await newNamespace(api, ns1);
      await newNamespace(api, ns2);
      await newModel(api, ns1, `${prefix}-one`);
      await newModel(api, ns2, `${prefix}-two`);
      const res = await api.get(`/v1/namespaces/-/models?${q({ filter: `name:"${prefix}-*"` })}`);
      expect(res.status).toBe(200);
      expect(res.body.models.map((m: any) => m.name)).toEqual([
        `namespaces/${ns1}/models/${prefix}-one`,
        `namespaces/${ns2}/models/${prefix}-two`,
      ]);
    });

    it('answers NOT_FOUND when listing the models of a missing namespace', async () => {
      expectError(
        await api.get(`/v1/namespaces/${uniqueId('missing')}/models`),
        404,
        'NOT_FOUND',
        'NAMESPACE_NOT_FOUND',
      );
    });

    it('updates description and labels, replacing the labels, and changes the etag', async () => {
      const { url } = await freshModel();
      await api.patch(url, { labels: { old: 'x' } });
      const before = (await api.get(url)).body;
      const res = await api.patch(url, { description: 'new text', labels: { team: 'risk' } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ description: 'new text', labels: { team: 'risk' } });
      expect(res.body.etag).not.toBe(before.etag);
      expect(res.body.uid).toBe(before.uid);
      expect(res.body.create_time).toBe(before.create_time);
      expect(Date.parse(res.body.update_time)).toBeGreaterThanOrEqual(Date.parse(before.update_time));
      expect((await api.get(url)).body).toEqual(res.body);
    });

    it('leaves fields out of a PATCH untouched', async () => {
      const { url } = await freshModel();
      await api.patch(url, { description: 'keep me', labels: { team: 'fraud' } });
      const res = await api.patch(url, { description: 'changed' });
      expect(res.body).toMatchObject({ description: 'changed', labels: { team: 'fraud' } });
      const res2 = await api.patch(url, { labels: {} });
      expect(res2.body).toMatchObject({ description: 'changed', labels: {} });
    });

    it('rejects a PATCH of a model field that cannot change', async () => {
      const { url } = await freshModel();
      for (const field of ['model_id', 'latest_version', 'name']) {
        const res = await api.patch(url, { [field]: 'x' });
        expectError(res, 400, 'INVALID_ARGUMENT');
        expect(res.body.error.details.field).toBe(field);
      }
    });

    it('deletes a model without versions', async () => {
      const { url } = await freshModel();
      const res = await api.delete(url);
      expect(res.status).toBe(204);
      expect(res.body).toBe('');
      expectError(await api.get(url), 404, 'NOT_FOUND', 'MODEL_NOT_FOUND');
    });

    it('refuses to delete a model whose versions are not archived', async () => {
      const { url } = await freshModel(2);
      await moveTo(`${url}/versions/1`, 'archived');
      const res = await api.delete(url);
      expectError(res, 400, 'FAILED_PRECONDITION', 'MODEL_HAS_VERSIONS');
      expect(res.body.error.details.live_versions).toBe(1);
      expect((await api.get(url)).status).toBe(200);
    });

    it('deletes a model once all its versions are archived', async () => {
      const { url } = await freshModel(2);
      await moveTo(`${url}/versions/1`, 'archived');
      await moveTo(`${url}/versions/2`, 'archived');
      expect((await api.delete(url)).status).toBe(204);
      expectError(await api.get(url), 404, 'NOT_FOUND', 'MODEL_NOT_FOUND');
    });

    it('deletes a model with live versions when force=true, versions included', async () => {
      const { url, ns } = await freshModel(3);
      await api.put(`${url}/aliases/champion`, { version: 2 });
      expect((await api.delete(`${url}?force=true`)).status).toBe(204);
      expectError(await api.get(url), 404, 'NOT_FOUND', 'MODEL_NOT_FOUND');
      expectError(await api.get(`${url}/versions/1`), 404, 'NOT_FOUND', 'MODEL_NOT_FOUND');
      const batch = await api.post('/v1/versions:batchGet', {
        names: [`namespaces/${ns}/models/model/versions/1`],
      });
      expect(batch.body).toEqual({ versions: [], missing: [`namespaces/${ns}/models/model/versions/1`] });
      // The id is free again and starts from version 1.
      await newModel(api, ns, 'model');
      expect((await newVersion(api, ns, 'model')).version).toBe(1);
    });

    it('answers NOT_FOUND when deleting a missing model', async () => {
      const { ns } = await freshModel();
      expectError(await api.delete(`/v1/namespaces/${ns}/models/nope`), 404, 'NOT_FOUND', 'MODEL_NOT_FOUND');
    });

    it('shows latest_version and aliases on the model, in get and list', async () => {
      const { ns, url } = await freshModel(3);
      await api.put(`${url}/aliases/champion`, { version: 2 });
      await api.put(`${url}/aliases/staging`, { version: 3 });
      const read = await api.get(url);
      expect(read.body.latest_version).toBe(3);
      expect(read.body.aliases).toEqual({ champion: 2, staging: 3 });
      const list = await api.get(`/v1/namespaces/${ns}/models`);
      expect(list.body.models[0]).toEqual(read.body);
    });
  });

  describe('versions', () => {
    it('numbers new versions 1, 2, 3 and answers 201 with the whole resource', async () => {
      const { ns, model, url } = await freshModel();
      const numbers: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await api.post(`${url}/versions`, {
          description: `v${i + 1}`,
          labels: { stage: 'dev' },
          metadata: { accuracy: 0.9 + i / 100, params: { depth: i } },
          source_uri: `s3://bucket/model/${i + 1}`,
        });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        numbers.push(res.body.version);
        expect(res.body).toMatchObject({
          model: `namespaces/${ns}/models/${model}`,
          status: 'registered',
          description: `v${i + 1}`,
          labels: { stage: 'dev' },
          metadata: { accuracy: 0.9 + i / 100, params: { depth: i } },
          source_uri: `s3://bucket/model/${i + 1}`,
          aliases: [],
          created_by: 'admin',
        });
        expectResourceMeta(res.body, `namespaces/${ns}/models/${model}/versions/${i + 1}`);
        expect((await api.get(`${url}/versions/${i + 1}`)).body).toEqual(res.body);
      }
      expect(numbers).toEqual([1, 2, 3]);
      expect((await api.get(url)).body.latest_version).toBe(3);
    });

    it('answers NOT_FOUND when creating a version of a missing model', async () => {
      const { ns } = await freshModel();
      const res = await api.post(`/v1/namespaces/${ns}/models/nope/versions`, {});
      expectError(res, 404, 'NOT_FOUND', 'MODEL_NOT_FOUND');
    });

    it('reads a version by number and by @alias', async () => {
      const { url } = await freshModel(3);
      await api.put(`${url}/aliases/champion`, { version: 2 });
      const byNumber = await api.get(`${url}/versions/2`);
      const byAlias = await api.get(`${url}/versions/@champion`);
      expect(byNumber.status).toBe(200);
      expect(byAlias.status).toBe(200);
      expect(byAlias.body).toEqual(byNumber.body);
      expect(byNumber.body.aliases).toEqual(['champion']);
      expect(byNumber.headers.etag).toBe(byNumber.body.etag);
    });

    it('answers NOT_FOUND for a missing version number or alias', async () => {
      const { url } = await freshModel(1);
      const missing = await api.get(`${url}/versions/7`);
      expectError(missing, 404, 'NOT_FOUND', 'VERSION_NOT_FOUND');
      expect(missing.body.error.details.resource).toMatch(/\/versions\/7$/);
      expectError(await api.get(`${url}/versions/@nope`), 404, 'NOT_FOUND', 'ALIAS_NOT_FOUND');
    });

    it('rejects version references that are neither numbers nor aliases', async () => {
      const { url } = await freshModel(1);
      for (const ref of ['0', '-1', '01', 'abc', '1.5', '@', '@42', '@UPPER', '2147483648']) {
        expectError(await api.get(`${url}/versions/${encodeURIComponent(ref)}`), 400, 'INVALID_ARGUMENT');
      }
    });

    it('lists versions newest first by default, oldest first with order_by=version', async () => {
      const { url } = await freshModel(4);
      const res = await api.get(`${url}/versions`);
      expect(res.status).toBe(200);
      expect(res.body.versions.map((v: any) => v.version)).toEqual([4, 3, 2, 1]);
      const asc = await api.get(`${url}/versions?order_by=version`);
      expect(asc.body.versions.map((v: any) => v.version)).toEqual([1, 2, 3, 4]);
      const { items } = await walkPages(api, `${url}/versions`, 'versions', { pageSize: 3 });
      expect(items.map((v) => v.version)).toEqual([4, 3, 2, 1]);
    });

    it('updates description and labels of a version and nothing else', async () => {
      const { url } = await freshModel();
      const created = (await api.post(`${url}/versions`, { metadata: { a: 1 }, source_uri: 'file:///m' }))
        .body;
      const res = await api.patch(`${url}/versions/1`, { description: 'better', labels: { tier: 'gold' } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toEqual({
        ...created,
        description: 'better',
        labels: { tier: 'gold' },
        update_time: res.body.update_time,
        etag: res.body.etag,
      });
      expect(res.body.etag).not.toBe(created.etag);
      expect(res.headers.etag).toBe(res.body.etag);
      expect((await api.get(`${url}/versions/1`)).body).toEqual(res.body);
      const entries = await history(`${url}/versions/1`);
      expect(entries.at(-1)).toMatchObject({ kind: 'updated', actor: 'admin' });
    });

    it('rejects a PATCH of immutable version fields such as metadata', async () => {
      const { url } = await freshModel();
      await api.post(`${url}/versions`, { metadata: { a: 1 } });
      for (const [field, value] of [
        ['metadata', { a: 2 }],
        ['source_uri', 'file:///other'],
        ['status', 'approved'],
        ['version', 3],
      ] as const) {
        const res = await api.patch(`${url}/versions/1`, { [field]: value });
        expectError(res, 400, 'INVALID_ARGUMENT');
        expect(res.body.error.details.field).toBe(field);
        expect(res.body.error.message).toContain(`unknown field '${field}'`);
      }
      const read = await api.get(`${url}/versions/1`);
      expect(read.body).toMatchObject({ metadata: { a: 1 }, source_uri: '', status: 'registered' });
    });

    it('updates a version addressed by @alias', async () => {
      const { url } = await freshModel(2);
      await api.put(`${url}/aliases/prod`, { version: 1 });
      const res = await api.patch(`${url}/versions/@prod`, { description: 'via alias' });
      expect(res.status).toBe(200);
      expect(res.body.version).toBe(1);
      expect((await api.get(`${url}/versions/1`)).body.description).toBe('via alias');
    });
  });

  describe('lifecycle', () => {
    it.each(LEGAL_PAIRS)('moves a version from %s to %s', async (from, to) => {
      const { url } = await freshModel(1);
      const version = `${url}/versions/1`;
      await moveTo(version, from);
      const res = await api.post(`${version}:transition`, { status: to, reason: `to ${to}` });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.status).toBe(to);
      expect((await api.get(version)).body.status).toBe(to);
      expect((await history(version)).at(-1)).toMatchObject({
        kind: 'transition',
        from_status: from,
        to_status: to,
        reason: `to ${to}`,
        actor: 'admin',
      });
    });

    it('walks the whole lifecycle registered → validated → approved → deprecated → archived', async () => {
      const { url } = await freshModel(1);
      const version = `${url}/versions/1`;
      const before = (await api.get(version)).body;
      for (const status of PATH_TO.archived) {
        const res = await api.post(`${version}:transition`, { status });
        expect(res.status).toBe(200);
        expect(res.body.status).toBe(status);
      }
      const after = (await api.get(version)).body;
      expect(after.etag).not.toBe(before.etag);
      expect(after.uid).toBe(before.uid);
    });

    it.each(ILLEGAL_PAIRS)('rejects a transition from %s to %s', async (from, to) => {
      const { url } = await freshModel(1);
      const version = `${url}/versions/1`;
      await moveTo(version, from);
      const before = await history(version);
      const res = await api.post(`${version}:transition`, { status: to });
      expectError(res, 400, 'FAILED_PRECONDITION', 'ILLEGAL_TRANSITION');
      expect(res.body.error.details).toMatchObject({ from, to });
      expect([...res.body.error.details.allowed].sort()).toEqual([...LEGAL[from]].sort());
      expect((await api.get(version)).body.status).toBe(from);
      expect(await history(version)).toEqual(before);
    });

    it('moves a version addressed by @alias', async () => {
      const { url } = await freshModel(2);
      await api.put(`${url}/aliases/candidate`, { version: 2 });
      const res = await api.post(`${url}/versions/@candidate:transition`, { status: 'validated' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ version: 2, status: 'validated' });
    });

    it('rejects an unknown status', async () => {
      const { url } = await freshModel(1);
      const res = await api.post(`${url}/versions/1:transition`, { status: 'retired' });
      expectError(res, 400, 'INVALID_ARGUMENT');
      expect(res.body.error.details.field).toBe('status');
    });

    it('answers NOT_FOUND for a transition of a missing version', async () => {
      const { url } = await freshModel(1);
      const res = await api.post(`${url}/versions/5:transition`, { status: 'validated' });
      expectError(res, 404, 'NOT_FOUND', 'VERSION_NOT_FOUND');
    });
  });

  describe('history', () => {
    it('records creation, transitions and alias moves with actor, statuses, reason and time, in order', async () => {
      const { url } = await freshModel(1);
      const version = `${url}/versions/1`;
      await api.post(`${version}:transition`, { status: 'validated', reason: 'passed offline eval' });
      await api.put(`${url}/aliases/champion`, { version: 1 });
      expect((await api.delete(`${url}/aliases/champion`)).status).toBe(204);
      await api.post(`${version}:transition`, { status: 'approved', reason: 'signed off' });

      const entries = await history(version);
      expect(entries).toEqual([
        expect.objectContaining({ kind: 'created', from_status: null, to_status: 'registered', alias: null }),
        expect.objectContaining({
          kind: 'transition',
          from_status: 'registered',
          to_status: 'validated',
          reason: 'passed offline eval',
        }),
        expect.objectContaining({ kind: 'alias_set', alias: 'champion', from_status: null, to_status: null }),
        expect.objectContaining({ kind: 'alias_unset', alias: 'champion' }),
        expect.objectContaining({
          kind: 'transition',
          from_status: 'validated',
          to_status: 'approved',
          reason: 'signed off',
        }),
      ]);
      for (const e of entries) {
        expect(e.version).toBe(1);
        expect(e.actor).toBe('admin');
        expectRfc3339(e.time);
      }
      const times = entries.map((e) => Date.parse(e.time));
      expect(times).toEqual([...times].sort((a, b) => a - b));
    });

    it('keeps the history of each version apart', async () => {
      const { url } = await freshModel(2);
      await api.post(`${url}/versions/2:transition`, { status: 'rejected' });
      expect((await history(`${url}/versions/1`)).map((e) => e.kind)).toEqual(['created']);
      expect((await history(`${url}/versions/2`)).map((e) => e.kind)).toEqual(['created', 'transition']);
    });

    it('paginates the history', async () => {
      const { url } = await freshModel(2);
      // created + 3 × (alias_set, alias_unset) = 7 entries on version 1
      for (let i = 0; i < 3; i++) {
        await api.put(`${url}/aliases/a${i}`, { version: 1 });
        await api.delete(`${url}/aliases/a${i}`);
      }
      const all = await history(`${url}/versions/1`);
      expect(all).toHaveLength(7);
      const { items, pages } = await walkPages(api, `${url}/versions/1/history`, 'history', { pageSize: 2 });
      expect(pages).toBe(4);
      expect(items).toEqual(all);
    });

    it('refuses a history page token from another version', async () => {
      const { url } = await freshModel(2);
      await api.put(`${url}/aliases/a`, { version: 1 });
      const first = await api.get(`${url}/versions/1/history?page_size=1`);
      expect(first.body.next_page_token).not.toBe('');
      const res = await api.get(
        `${url}/versions/2/history?${q({ page_size: 1, page_token: first.body.next_page_token })}`,
      );
      expectError(res, 400, 'INVALID_ARGUMENT', 'INVALID_PAGE_TOKEN');
    });
  });

  describe('aliases', () => {
    it('points an alias at a version and answers with the alias resource', async () => {
      const { ns, url } = await freshModel(2);
      const res = await api.put(`${url}/aliases/champion`, { version: 1 });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({
        name: `namespaces/${ns}/models/model/aliases/champion`,
        model: `namespaces/${ns}/models/model`,
        alias: 'champion',
        version: 1,
        previous_version: null,
      });
      expectRfc3339(res.body.update_time);
      expect((await api.get(`${url}/versions/1`)).body.aliases).toEqual(['champion']);
    });

    it('moves an alias in one step and records "moved from version N"', async () => {
      const { url } = await freshModel(3);
      await api.put(`${url}/aliases/champion`, { version: 1 });
      const modelBefore = (await api.get(url)).body;
      const res = await api.put(`${url}/aliases/champion`, { version: '3' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ version: 3, previous_version: 1 });

      expect((await api.get(url)).body.aliases).toEqual({ champion: 3 });
      expect((await api.get(url)).body.etag).not.toBe(modelBefore.etag);
      expect((await api.get(`${url}/versions/1`)).body.aliases).toEqual([]);
      expect((await api.get(`${url}/versions/3`)).body.aliases).toEqual(['champion']);
      expect((await history(`${url}/versions/3`)).at(-1)).toMatchObject({
        kind: 'alias_set',
        alias: 'champion',
        reason: 'moved from version 1',
      });
    });

    it('points an alias at the version another alias names', async () => {
      const { url } = await freshModel(3);
      await api.put(`${url}/aliases/staging`, { version: 2 });
      const res = await api.put(`${url}/aliases/champion`, { version: '@staging' });
      expect(res.status).toBe(200);
      expect(res.body.version).toBe(2);
      expect((await api.get(url)).body.aliases).toEqual({ champion: 2, staging: 2 });
      expect((await api.get(`${url}/versions/2`)).body.aliases).toEqual(['champion', 'staging']);
    });

    it('records nothing new when an alias is pointed at the version it already names', async () => {
      const { url } = await freshModel(1);
      await api.put(`${url}/aliases/champion`, { version: 1 });
      const before = await history(`${url}/versions/1`);
      const res = await api.put(`${url}/aliases/champion`, { version: 1 });
      expect(res.body).toMatchObject({ version: 1, previous_version: 1 });
      expect(await history(`${url}/versions/1`)).toEqual(before);
    });

    it('removes an alias and records it', async () => {
      const { url } = await freshModel(2);
      await api.put(`${url}/aliases/champion`, { version: 2 });
      const res = await api.delete(`${url}/aliases/champion`);
      expect(res.status).toBe(204);
      expect((await api.get(url)).body.aliases).toEqual({});
      expectError(await api.get(`${url}/versions/@champion`), 404, 'NOT_FOUND', 'ALIAS_NOT_FOUND');
      expect((await history(`${url}/versions/2`)).at(-1)).toMatchObject({
        kind: 'alias_unset',
        alias: 'champion',
      });
      expectError(await api.delete(`${url}/aliases/champion`), 404, 'NOT_FOUND', 'ALIAS_NOT_FOUND');
    });

    it('answers NOT_FOUND for an alias to a missing version, and changes nothing', async () => {
      const { url } = await freshModel(1);
      await api.put(`${url}/aliases/champion`, { version: 1 });
      expectError(
        await api.put(`${url}/aliases/champion`, { version: 9 }),
        404,
        'NOT_FOUND',
        'VERSION_NOT_FOUND',
      );
      expectError(
        await api.put(`${url}/aliases/other`, { version: 9 }),
        404,
        'NOT_FOUND',
        'VERSION_NOT_FOUND',
      );
      expectError(
        await api.put(`${url}/aliases/other`, { version: '@nope' }),
        404,
        'NOT_FOUND',
        'ALIAS_NOT_FOUND',
      );
      expect((await api.get(url)).body.aliases).toEqual({ champion: 1 });
    });

    it('answers NOT_FOUND for an alias on a missing model', async () => {
      const { ns } = await freshModel(1);
      const res = await api.put(`/v1/namespaces/${ns}/models/nope/aliases/a`, { version: 1 });
      expectError(res, 404, 'NOT_FOUND', 'MODEL_NOT_FOUND');
    });

    it('rejects alias names that are only digits or break the pattern', async () => {
      const { url } = await freshModel(1);
      for (const alias of ['42', '007', 'Champion', '-lead', 'a'.repeat(64), 'a%20b']) {
        const res = await api.put(`${url}/aliases/${alias}`, { version: 1 });
        expectError(res, 400, 'INVALID_ARGUMENT');
        expect(res.body.error.details.field).toBe('alias');
      }
      expect((await api.get(url)).body.aliases).toEqual({});
      // Digits mixed with letters are fine.
      expect((await api.put(`${url}/aliases/v2-candidate`, { version: 1 })).status).toBe(200);
    });
  });

  describe('batchGet', () => {
    it('returns versions in request order, resolving aliases and repeating duplicates, and lists the missing', async () => {
      const { ns, url } = await freshModel(3);
      await api.put(`${url}/aliases/champion`, { version: 2 });
      const base = `namespaces/${ns}/models/model/versions`;
      const names = [
        `${base}/3`,
        `${base}/@champion`,
        `namespaces/${ns}/models/ghost/versions/1`,
        `${base}/1`,
        `${base}/3`,
        `${base}/99`,
        `${base}/@nope`,
        `namespaces/${uniqueId('ghost')}/models/model/versions/1`,
      ];
      const res = await api.post('/v1/versions:batchGet', { names });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.versions.map((v: any) => v.name)).toEqual([
        `${base}/3`,
        `${base}/2`,
        `${base}/1`,
        `${base}/3`,
      ]);
      expect(res.body.missing).toEqual([names[2], names[5], names[6], names[7]]);
      expect(res.body.versions[1]).toEqual((await api.get(`${url}/versions/2`)).body);
    });

    it('answers, from the store and from the read cache, exactly what a single read answers', async () => {
      // Batch answers are joined from serialised versions; a single read goes through the
      // response schema. Escapes, unicode, nesting and every optional part must agree.
      const { ns, url } = await freshModel(0);
      const created = await api.post(`${url}/versions`, {
        description: 'quote " backslash \\ tab \t line\u2028sep',
        labels: { team: 'fraud', note: 'ünïcode 雪 ❄️' },
        metadata: {
          nested: { list: [1, 2.5, -3e-7, null, true], empty: {} },
          big: 2 ** 53 - 1,
          s: '</script>',
        },
        source_uri: 's3://bucket/model.onnx',
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      await api.put(`${url}/aliases/champion`, { version: 1 });
      const single = (await api.get(`${url}/versions/1`)).body;
      const names = [`namespaces/${ns}/models/model/versions/1`];
      for (let read = 0; read < 2; read++) {
        const batch = await api.post('/v1/versions:batchGet', { names });
        expect(batch.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(batch.body).toEqual({ versions: [single], missing: [] });
        const status = await api.post('/v1/versions:batchGetStatus', { names });
        expect(status.body).toEqual({
          versions: [
            {
              name: single.name,
              version: 1,
              status: single.status,
              update_time: single.update_time,
              etag: single.etag,
            },
          ],
          missing: [],
        });
      }
    });

    it('reads versions of several models and namespaces at once', async () => {
      const a = await freshModel(2, 'a');
      const b = await freshModel(1, 'b');
      const names = [`namespaces/${b.ns}/models/b/versions/1`, `namespaces/${a.ns}/models/a/versions/2`];
      const res = await api.post('/v1/versions:batchGet', { names });
      expect(res.body.versions.map((v: any) => v.name)).toEqual(names);
      expect(res.body.missing).toEqual([]);
    });

    it('answers an empty request with empty lists', async () => {
      const res = await api.post('/v1/versions:batchGet', { names: [] });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ versions: [], missing: [] });
    });

    it('accepts 1000 names and rejects 1001 with INVALID_ARGUMENT on names', async () => {
      const { ns } = await freshModel(1);
      const names = (n: number) =>
        Array.from({ length: n }, (_, i) => `namespaces/${ns}/models/model/versions/${i + 1}`);
      const ok = await api.post('/v1/versions:batchGet', { names: names(1000) });
      expect(ok.status).toBe(200);
      expect(ok.body.versions).toHaveLength(1);
      expect(ok.body.missing).toHaveLength(999);
      // The schema (maxItems 1000) answers before the service's TOO_MANY_ITEMS (413) could.
      const tooMany = await api.post('/v1/versions:batchGet', { names: names(1001) });
      expectError(tooMany, 400, 'INVALID_ARGUMENT');
      expect(tooMany.body.error.details.field).toBe('names');
    });

    it('rejects malformed names, naming the offending entry', async () => {
      const { ns } = await freshModel(1);
      const good = `namespaces/${ns}/models/model/versions/1`;
      const bad = [
        'nonsense',
        `namespaces/${ns}/models/model`,
        `namespaces/${ns}/models/model/versions/0`,
        `namespaces/${ns}/models/model/versions/@42`,
        `namespaces/${ns.toUpperCase()}/models/model/versions/1`,
        `namespaces/${ns}/models/../versions/1`,
        `namespaces/${ns}/models/model/versions/1/extra`,
        `/namespaces/${ns}/models/model/versions/1`,
      ];
      // Read once first: names that hit the cache are not parsed, and must not let a bad one through.
      for (const path of ['/v1/versions:batchGet', '/v1/versions:batchGetStatus']) {
        expect((await api.post(path, { names: [good] })).body.versions).toHaveLength(1);
        for (const name of bad) {
          const res = await api.post(path, { names: [good, good, name] });
          expectError(res, 400, 'INVALID_ARGUMENT');
          expect(res.body.error.details.field, name).toBe('names[2]');
          expect(res.body.error.message).toContain('names[2]');
        }
      }
    });
  });
});
