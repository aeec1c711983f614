import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, client, expectError, newModel, newNamespace, newVersion } from '../support/api.js';
import { backends, testQuiver } from '../support/databases.js';
import { uniqueId } from './helpers.js';

const BACKENDS = await backends();

describe.each(BACKENDS)('concurrency (%s)', (backend) => {
  let ctx: Awaited<ReturnType<typeof testQuiver>>;
  let api: Client;

  beforeAll(async () => {
    ctx = await testQuiver(backend);
    api = client(ctx.quiver.rest);
  });
  afterAll(() => ctx.close());

  async function freshModel(versions = 0) {
    const ns = uniqueId('ns');
    await newNamespace(api, ns);
    await newModel(api, ns, 'm');
    for (let i = 0; i < versions; i++) await newVersion(api, ns, 'm');
    return { ns, url: `/v1/namespaces/${ns}/models/m` };
  }

  const times = <T>(n: number, make: (i: number) => Promise<T>) =>
    Promise.all(Array.from({ length: n }, (_, i) => make(i)));

  async function aliasHistory(url: string, versions: number, alias: string) {
    const entries: any[] = [];
    for (let v = 1; v <= versions; v++) {
      const res = await api.get(`${url}/versions/${v}/history?page_size=1000`);
      entries.push(...res.body.history.filter((e: any) => e.alias === alias));
    }
    return entries;
  }

  describe('version numbers', () => {
    it('numbers 50 concurrent creates 1..50 without gaps or duplicates', async () => {
      const { url } = await freshModel();
      const answers = await times(50, (i) => api.post(`${url}/versions`, { description: `c${i}` }));
      for (const res of answers) expect(res.status, JSON.stringify(res.body)).toBe(201);
      const numbers = answers.map((r) => r.body.version).sort((a, b) => a - b);
      expect(numbers).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(new Set(answers.map((r) => r.body.uid)).size).toBe(50);

      expect((await api.get(url)).body.latest_version).toBe(50);
      const list = await api.get(`${url}/versions?page_size=100`);
      expect(list.body.versions.map((v: any) => v.version)).toEqual(
        Array.from({ length: 50 }, (_, i) => 50 - i),
      );
      // Each stored version is the one its creator was told about.
      const byNumber = new Map(list.body.versions.map((v: any) => [v.version, v]));
      for (const res of answers) expect((byNumber.get(res.body.version) as any).uid).toBe(res.body.uid);
    });

    it('numbers concurrent creates on different models independently', async () => {
      const a = await freshModel();
      const b = await freshModel();
      const answers = await times(20, (i) => api.post(`${i % 2 ? a.url : b.url}/versions`, {}));
      for (const res of answers) expect(res.status).toBe(201);
      expect((await api.get(a.url)).body.latest_version).toBe(10);
      expect((await api.get(b.url)).body.latest_version).toBe(10);
    });
  });

  describe('aliases', () => {
    it('leaves an alias moved 20 times at once on one of the targets, agreeing everywhere', async () => {
      const { url } = await freshModel(21);
      await api.put(`${url}/aliases/champion`, { version: 1 });
      const answers = await times(20, (i) => api.put(`${url}/aliases/champion`, { version: i + 2 }));
      for (const res of answers) expect(res.status, JSON.stringify(res.body)).toBe(200);

      const final = (await api.get(url)).body.aliases.champion;
      expect(final).toBeGreaterThanOrEqual(2);
      expect(final).toBeLessThanOrEqual(21);
      expect((await api.get(`${url}/versions/@champion`)).body.version).toBe(final);
      const versions = (await api.get(`${url}/versions?page_size=100`)).body.versions as any[];
      expect(versions.filter((v) => v.aliases.includes('champion')).map((v) => v.version)).toEqual([final]);
      // One alias_set entry for the first assignment and one per move.
      const entries = await aliasHistory(url, 21, 'champion');
      expect(entries).toHaveLength(21);
      expect(entries.every((e) => e.kind === 'alias_set')).toBe(true);
    });

    // Concurrent movers must each see the target they replace: SqlAliasRepository.set takes the
    // model row's lock before reading it (on PostgreSQL they all once read the same old target).
    it('records each of 20 concurrent moves as moved from the version the alias left', async () => {
      for (let round = 0; round < 5; round++) {
        const { url } = await freshModel(21);
        await api.put(`${url}/aliases/champion`, { version: 1 });
        const answers = await times(20, (i) => api.put(`${url}/aliases/champion`, { version: i + 2 }));
        const final = (await api.get(url)).body.aliases.champion;

        // The moves form one chain 1 → … → final: every version the alias left is named exactly once.
        const left = answers.map((r) => r.body.previous_version).sort((a, b) => a - b);
        const targets = answers.map((r) => r.body.version);
        expect(left).toEqual([1, ...targets.filter((v) => v !== final)].sort((a, b) => a - b));

        const entries = await aliasHistory(url, 21, 'champion');
        const movedFrom = entries
          .filter((e) => e.reason !== '')
          .map((e) => Number(/^moved from version (\d+)$/.exec(e.reason)?.[1]))
          .sort((a, b) => a - b);
        expect(movedFrom).toEqual(left);
      }
    });

    it('keeps every alias of 10 set at once on the model and its versions', async () => {
      for (let round = 0; round < 3; round++) {
        const { url } = await freshModel(10);
        const answers = await times(10, (i) => api.put(`${url}/aliases/a${i}`, { version: i + 1 }));
        for (const res of answers) expect(res.status).toBe(200);
        for (let i = 0; i < 10; i++) {
          expect((await api.get(`${url}/versions/@a${i}`)).body.version).toBe(i + 1);
        }
        const expected = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`a${i}`, i + 1]));
        expect((await api.get(url)).body.aliases).toEqual(expected);
        const versions = (await api.get(`${url}/versions?page_size=100`)).body.versions as any[];
        for (const v of versions) expect(v.aliases).toEqual([`a${v.version - 1}`]);
      }
    });
  });

  describe('unique ids', () => {
    it('creates a model once when 10 requests race for the same id', async () => {
      const ns = uniqueId('ns');
      await newNamespace(api, ns);
      const answers = await times(10, () => api.post(`/v1/namespaces/${ns}/models`, { model_id: 'race' }));
      expect(answers.filter((r) => r.status === 201)).toHaveLength(1);
      for (const res of answers.filter((r) => r.status !== 201)) {
        expectError(res, 409, 'ALREADY_EXISTS', 'MODEL_EXISTS');
      }
      const list = await api.get(`/v1/namespaces/${ns}/models`);
      expect(list.body.models).toHaveLength(1);
      expect(list.body.models[0].uid).toBe(answers.find((r) => r.status === 201)!.body.uid);
    });

    it('creates a namespace once when 10 requests race for the same id', async () => {
      const id = uniqueId('ns');
      const answers = await times(10, () => api.post('/v1/namespaces', { namespace_id: id }));
      expect(answers.filter((r) => r.status === 201)).toHaveLength(1);
      for (const res of answers.filter((r) => r.status !== 201)) {
        expectError(res, 409, 'ALREADY_EXISTS', 'NAMESPACE_EXISTS');
      }
    });
  });

  describe('Idempotency-Key', () => {
    it('answers a retried create with the first result and creates nothing more', async () => {
      const { url } = await freshModel();
      const key = { 'idempotency-key': uniqueId('key') };
      const first = await api.post(`${url}/versions`, { description: 'once' }, key);
      expect(first.status).toBe(201);
      const retry = await api.post(`${url}/versions`, { description: 'once' }, key);
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual(first.body);
      expect((await api.get(url)).body.latest_version).toBe(1);
      expect((await api.get(`${url}/versions`)).body.versions).toHaveLength(1);
      // Without the key the same body is a new version.
      expect((await api.post(`${url}/versions`, { description: 'once' })).body.version).toBe(2);
    });

    it('answers a retried model create with the first result instead of ALREADY_EXISTS', async () => {
      const ns = uniqueId('ns');
      await newNamespace(api, ns);
      const key = { 'idempotency-key': uniqueId('key') };
      const first = await api.post(`/v1/namespaces/${ns}/models`, { model_id: 'once' }, key);
      const retry = await api.post(`/v1/namespaces/${ns}/models`, { model_id: 'once' }, key);
      expect(first.status).toBe(201);
      expect(retry.status).toBe(201);
      expect(retry.body.uid).toBe(first.body.uid);
      expectError(await api.post(`/v1/namespaces/${ns}/models`, { model_id: 'once' }), 409, 'ALREADY_EXISTS');
    });

    it('answers a retried transition with the first result instead of ILLEGAL_TRANSITION', async () => {
      const { url } = await freshModel(1);
      const key = { 'idempotency-key': uniqueId('key') };
      const first = await api.post(`${url}/versions/1:transition`, { status: 'validated' }, key);
      const retry = await api.post(`${url}/versions/1:transition`, { status: 'validated' }, key);
      expect(first.status).toBe(200);
      expect(retry.status).toBe(200);
      expect(retry.body).toEqual(first.body);
      const history = (await api.get(`${url}/versions/1/history`)).body.history;
      expect(history.filter((e: any) => e.kind === 'transition')).toHaveLength(1);
    });

    it('rejects the same key with a different body as IDEMPOTENCY_KEY_REUSED', async () => {
      const { url, ns } = await freshModel();
      const key = { 'idempotency-key': uniqueId('key') };
      expect((await api.post(`${url}/versions`, { description: 'a' }, key)).status).toBe(201);
      const res = await api.post(`${url}/versions`, { description: 'b' }, key);
      expectError(res, 400, 'INVALID_ARGUMENT', 'IDEMPOTENCY_KEY_REUSED');
      expect(res.body.error.details.field).toBe('Idempotency-Key');
      // The same body for another model is a different request too.
      await newModel(api, ns, 'other');
      const other = await api.post(`/v1/namespaces/${ns}/models/other/versions`, { description: 'a' }, key);
      expectError(other, 400, 'INVALID_ARGUMENT', 'IDEMPOTENCY_KEY_REUSED');
      expect((await api.get(url)).body.latest_version).toBe(1);
      expect((await api.get(`/v1/namespaces/${ns}/models/other`)).body.latest_version).toBe(0);
    });

    it('creates exactly one version when 10 requests with the same key arrive at once', async () => {
      const { url } = await freshModel();
      const key = { 'idempotency-key': uniqueId('key') };
      const answers = await times(10, () => api.post(`${url}/versions`, { description: 'same' }, key));
      for (const res of answers) expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(new Set(answers.map((r) => r.body.uid)).size).toBe(1);
      expect(answers[0]!.body.version).toBe(1);
      expect((await api.get(url)).body.latest_version).toBe(1);
      expect((await api.get(`${url}/versions`)).body.versions).toHaveLength(1);
    });

    it('keeps keys of different operations apart', async () => {
      const { url } = await freshModel(1);
      const key = { 'idempotency-key': uniqueId('key') };
      expect((await api.post(`${url}/versions`, {}, key)).status).toBe(201);
      const res = await api.patch(url, { description: 'x' }, key);
      expect(res.status).toBe(200);
      expect(res.body.description).toBe('x');
    });
  });

  describe('ETags', () => {
    it('sends the etag as a header on reads and updates', async () => {
      const { url } = await freshModel(1);
      const model = await api.get(url);
      expect(model.headers.etag).toBe(model.body.etag);
      const version = await api.get(`${url}/versions/1`);
      expect(version.headers.etag).toBe(version.body.etag);
    });

    it('refuses a model PATCH with a stale If-Match as 412 ETAG_MISMATCH and changes nothing', async () => {
      const { ns, url } = await freshModel();
      const stale = (await api.get(url)).body.etag;
      await newVersion(api, ns, 'm'); // a new version changes the model (latest_version)
      const current = await api.get(url);
      expect(current.body.etag).not.toBe(stale);
      const res = await api.patch(url, { description: 'lost update' }, { 'if-match': stale });
      expectError(res, 412, 'FAILED_PRECONDITION', 'ETAG_MISMATCH');
      expect(res.body.error.details.etag).toBe(current.body.etag);
      expect((await api.get(url)).body).toEqual(current.body);
    });

    it('applies a model PATCH with the current If-Match and answers a new etag', async () => {
      const { url } = await freshModel();
      const current = await api.get(url);
      const res = await api.patch(
        url,
        { description: 'fresh' },
        { 'if-match': current.headers.etag as string },
      );
      expect(res.status).toBe(200);
      expect(res.body.description).toBe('fresh');
      expect(res.headers.etag).toBe(res.body.etag);
      expect(res.body.etag).not.toBe(current.body.etag);
      // The old etag is now stale.
      const again = await api.patch(url, { description: 'again' }, { 'if-match': current.body.etag });
      expectError(again, 412, 'FAILED_PRECONDITION', 'ETAG_MISMATCH');
      expect((await api.patch(url, { description: 'any' }, { 'if-match': '*' })).status).toBe(200);
    });

    it('honours If-Match on version PATCH', async () => {
      const { url } = await freshModel(1);
      const v = `${url}/versions/1`;
      const first = await api.get(v);
      await api.post(`${v}:transition`, { status: 'validated' });
      const stale = await api.patch(v, { description: 'x' }, { 'if-match': first.body.etag });
      expectError(stale, 412, 'FAILED_PRECONDITION', 'ETAG_MISMATCH');
      const current = await api.get(v);
      const ok = await api.patch(v, { description: 'x' }, { 'if-match': current.body.etag });
      expect(ok.status).toBe(200);
      expect(ok.headers.etag).toBe(ok.body.etag);
      expect(ok.body.etag).not.toBe(current.body.etag);
    });

    it('honours If-Match on model DELETE', async () => {
      const { url } = await freshModel();
      const stale = (await api.get(url)).body.etag;
      await api.patch(url, { description: 'changed' });
      expectError(await api.delete(url, { 'if-match': stale }), 412, 'FAILED_PRECONDITION', 'ETAG_MISMATCH');
      const current = (await api.get(url)).body.etag;
      expect((await api.delete(url, { 'if-match': current })).status).toBe(204);
    });

    // If-Match is checked against the same read whose revision the compare-and-set uses, so a
    // writer committing in between makes the PATCH fail with ETAG_MISMATCH (once a lost update).
    for (const [what, path] of [
      ['model', ''],
      ['version', '/versions/1'],
    ] as const) {
      it(`lets only one of 10 concurrent ${what} PATCHes with the same If-Match win`, async () => {
        for (let round = 0; round < 30; round++) {
          const { url: modelUrl } = await freshModel(1);
          const url = `${modelUrl}${path}`;
          const etag = (await api.get(url)).body.etag;
          const answers = await times(10, (i) =>
            api.patch(url, { description: `d${i}` }, { 'if-match': etag }),
          );
          const winners = answers.filter((r) => r.status === 200);
          expect(winners, `round ${round}`).toHaveLength(1);
          for (const res of answers.filter((r) => r.status !== 200)) {
            // A loser sees the new etag (412) or loses the compare-and-set (409 ABORTED, safe to retry).
            if (res.status === 412) expectError(res, 412, 'FAILED_PRECONDITION', 'ETAG_MISMATCH');
            else expectError(res, 409, 'ABORTED', 'CONCURRENT_UPDATE');
          }
          expect((await api.get(url)).body.description).toBe(winners[0]!.body.description);
        }
      });
    }
  });

  describe('transitions', () => {
    it('applies one of 10 concurrent identical transitions and refuses the rest', async () => {
      const { url } = await freshModel(1);
      const answers = await times(10, () =>
        api.post(`${url}/versions/1:transition`, { status: 'validated' }),
      );
      expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
      for (const res of answers.filter((r) => r.status !== 200)) {
        if (res.status === 409) expectError(res, 409, 'ABORTED', 'CONCURRENT_UPDATE');
        else expectError(res, 400, 'FAILED_PRECONDITION', 'ILLEGAL_TRANSITION');
      }
      const history = (await api.get(`${url}/versions/1/history`)).body.history;
      expect(history.filter((e: any) => e.kind === 'transition')).toHaveLength(1);
    });
  });
});
