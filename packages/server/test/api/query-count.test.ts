import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, type Client, client, newModel, newNamespace, newVersion } from '../support/api.js';
import { backends, testQuiver } from '../support/databases.js';
import { uniqueId } from './helpers.js';

const BACKENDS = await backends();

/**
 * No N+1: the number of SQL statements a read issues must not grow with the data it returns.
 * Counted with Kysely's log hook; only statements (level 'query'), not errors, are counted.
 */
describe.each(BACKENDS)('query counts (%s)', (backend) => {
  let ctx: Awaited<ReturnType<typeof testQuiver>>;
  let api: Client;
  let queries = 0;

  /** A namespace of `models` models, each with `versions` versions, `aliases` aliases and two labels. */
  async function populate(models: number, versions: number, aliases: number) {
    const ns = uniqueId('ns');
    await newNamespace(api, ns);
    await Promise.all(
      Array.from({ length: models }, async (_, m) => {
        const id = `m${String(m).padStart(3, '0')}`;
        await newModel(api, ns, id, { labels: { team: 'fraud', tier: `t${m % 3}` } });
        for (let v = 0; v < versions; v++) {
          await newVersion(api, ns, id, { labels: { run: `r${v}` }, metadata: { v } });
        }
        for (let a = 0; a < aliases; a++) {
          const res = await api.put(`/v1/namespaces/${ns}/models/${id}/aliases/alias-${a}`, {
            version: (a % versions) + 1,
          });
          expect(res.status).toBe(200);
        }
      }),
    );
    return ns;
  }

  /** Statements issued while answering one request (which must succeed). */
  async function count(request: () => Promise<Answer>): Promise<number> {
    queries = 0;
    const res = await request();
    const n = queries;
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
    return n;
  }

  let small: string; // 1 model: 1 version, no aliases
  let big: string; // 1 model: 30 versions, 10 aliases
  let few: string; // 5 models: 2 versions, 1 alias each
  let many: string; // 60 models: 2 versions, 1 alias each

  beforeAll(async () => {
    ctx = await testQuiver(backend, {
      onQuery: (e) => {
        if (e.level === 'query') queries++;
      },
    });
    api = client(ctx.quiver.rest);
    [small, big, few, many] = await Promise.all([
      populate(1, 1, 0),
      populate(1, 30, 10),
      populate(5, 2, 1),
      populate(60, 2, 1),
    ]);
  });
  afterAll(() => ctx.close());

  const model = (ns: string, id = 'm000') => `/v1/namespaces/${ns}/models/${id}`;

  it('authenticates a token it has seen without a statement, and an unknown one with one read', async () => {
    await api.get('/v1/whoami');
    expect(await count(() => api.get('/v1/whoami'))).toBe(0);
    queries = 0;
    const unknown = await client(ctx.quiver.rest, `qvr_${'A'.repeat(43)}`).get('/v1/whoami');
    expect(unknown.status).toBe(401);
    expect(queries).toBeGreaterThan(0);
  });

  it('reads a model with 1 or 30 versions and 0 or 10 aliases in the same number of queries', async () => {
    const one = await count(() => api.get(model(small)));
    const thirty = await count(() => api.get(model(big)));
    expect((await api.get(model(big))).body.latest_version).toBe(30);
    expect(Object.keys((await api.get(model(big))).body.aliases)).toHaveLength(10);
    expect(thirty).toBe(one);
    expect(one).toBeLessThanOrEqual(2);
  });

  it('reads a version by number in the same number of queries however big the model', async () => {
    const one = await count(() => api.get(`${model(small)}/versions/1`));
    const thirty = await count(() => api.get(`${model(big)}/versions/30`));
    const aliased = await count(() => api.get(`${model(big)}/versions/1`));
    expect((await api.get(`${model(big)}/versions/1`)).body.aliases).toEqual(['alias-0']);
    expect(thirty).toBe(one);
    expect(aliased).toBe(one);
    expect(one).toBeLessThanOrEqual(3);
  });

  it('reads a version by @alias in the same number of queries however many aliases exist', async () => {
    await api.put(`${model(small)}/aliases/only`, { version: 1 });
    const one = await count(() => api.get(`${model(small)}/versions/@only`));
    const ten = await count(() => api.get(`${model(big)}/versions/@alias-9`));
    expect(ten).toBe(one);
    expect(one).toBeLessThanOrEqual(4);
  });

  it('lists a page of 50 models in the same number of queries for 5 or 60 models', async () => {
    const five = await count(() => api.get(`/v1/namespaces/${few}/models?page_size=50`));
    const sixty = await count(() => api.get(`/v1/namespaces/${many}/models?page_size=50`));
    const res = await api.get(`/v1/namespaces/${many}/models?page_size=50`);
    expect(res.body.models).toHaveLength(50);
    expect(res.body.models.every((m: any) => Object.keys(m.aliases).length === 1)).toBe(true);
    expect(sixty).toBe(five);
    expect(five).toBeLessThanOrEqual(3);
  });

  it('lists models with a label filter and across namespaces without extra queries per row', async () => {
    const filter = encodeURIComponent('labels.team = fraud AND labels.tier != t1');
    const five = await count(() => api.get(`/v1/namespaces/${few}/models?page_size=50&filter=${filter}`));
    const sixty = await count(() => api.get(`/v1/namespaces/${many}/models?page_size=50&filter=${filter}`));
    expect(sixty).toBe(five);
    const all = await count(() => api.get('/v1/namespaces/-/models?page_size=50'));
    expect(all).toBeLessThanOrEqual(five);
  });

  it('lists a page of versions in the same number of queries for 1 or 30 versions', async () => {
    const one = await count(() => api.get(`${model(small)}/versions?page_size=50`));
    const thirty = await count(() => api.get(`${model(big)}/versions?page_size=50`));
    expect(thirty).toBe(one);
    expect(one).toBeLessThanOrEqual(3);
  });

  it('reads the history of a version in the same number of queries for 1 or 20 entries', async () => {
    const version = `${model(small)}/versions/1`;
    const one = await count(() => api.get(`${model(few)}/versions/2/history`));
    for (let i = 0; i < 10; i++) {
      await api.put(`${model(small)}/aliases/h${i}`, { version: 1 });
      await api.delete(`${model(small)}/aliases/h${i}`);
    }
    const twenty = await count(() => api.get(`${version}/history`));
    expect((await api.get(`${version}/history`)).body.history.length).toBeGreaterThanOrEqual(20);
    expect(twenty).toBe(one);
  });

  it('reads 1 or 200 versions by number with batchGet in the same number of queries', async () => {
    const names = (n: number) =>
      Array.from(
        { length: n },
        (_, i) => `namespaces/${many}/models/m${String(i % 60).padStart(3, '0')}/versions/${(i % 2) + 1}`,
      );
    const body = (n: number) => ({ names: names(n) });
    const one = await count(() => api.post('/v1/versions:batchGet', body(1)));
    const twoHundred = await count(() => api.post('/v1/versions:batchGet', body(200)));
    const res = await api.post('/v1/versions:batchGet', body(200));
    expect(res.body.versions).toHaveLength(200);
    expect(twoHundred).toBe(one);
    expect(one).toBeLessThanOrEqual(2);
  });

  it('reads numbers and aliases mixed with batchGet in the same number of queries for 2 or 200 names', async () => {
    const names = (n: number) =>
      Array.from({ length: n }, (_, i) => {
        const m = `namespaces/${many}/models/m${String(i % 60).padStart(3, '0')}/versions`;
        return i % 2 ? `${m}/@alias-0` : `${m}/2`;
      });
    const two = await count(() => api.post('/v1/versions:batchGet', { names: names(2) }));
    const twoHundred = await count(() => api.post('/v1/versions:batchGet', { names: names(200) }));
    const res = await api.post('/v1/versions:batchGet', { names: names(200) });
    expect(res.body.versions).toHaveLength(200);
    expect(res.body.missing).toEqual([]);
    expect(twoHundred).toBe(two);
    expect(two).toBeLessThanOrEqual(3);
  });

  it('reads 1000 names, mostly missing, in a bounded number of queries', async () => {
    const names = Array.from(
      { length: 1000 },
      (_, i) =>
        `namespaces/${many}/models/m${String(i % 80).padStart(3, '0')}/versions/${i % 2 ? '@alias-0' : 1}`,
    );
    const n = await count(() => api.post('/v1/versions:batchGet', { names }));
    expect(n).toBeLessThanOrEqual(3);
  });

  it('creates a version in one statement per row it writes, its audit event included', async () => {
    const ns = await populate(1, 1, 0);
    queries = 0;
    const res = await api.post(`/v1/namespaces/${ns}/models/m000/versions`, { description: 'counted' });
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(201);
    // SQLite: begin; claim the number (finding the model in the same statement); the version; its
    // history; the audit event, sealed in JavaScript under the head's lock (one more read); commit.
    // PostgreSQL: begin; the claim, the version and its history in one statement (writable CTEs);
    // the audit event, sealed in the database as the transaction commits (ADR 009); commit.
    expect(queries).toBe(backend === 'postgres' ? 4 : 7);
  });
});
