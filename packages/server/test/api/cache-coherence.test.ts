import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQuiver, type Quiver } from '../../src/main.js';
import { type Client, client, newModel, newNamespace, newVersion } from '../support/api.js';
import { backends, testQuiver } from '../support/databases.js';
import { REDIS_URL, redisAvailable } from '../support/redis.js';
import { waitFor } from '../support/serving.js';

const BACKENDS = await backends();

/** Every read the cache serves, read twice (so the second is a hit) and checked against `expected`. */
async function readsAgree(
  api: Client,
  ns: string,
  model: string,
  expected: { description: string; status: string },
) {
  for (let i = 0; i < 2; i++) {
    const m = await api.get(`/v1/namespaces/${ns}/models/${model}`);
    expect(m.body.description).toBe(expected.description);
    const v = await api.get(`/v1/namespaces/${ns}/models/${model}/versions/1`);
    expect(v.body.status).toBe(expected.status);
    const name = `namespaces/${ns}/models/${model}/versions/1`;
    const batch = await api.post('/v1/versions:batchGet', { names: [name] });
    expect(batch.body.versions[0].status).toBe(expected.status);
    const status = await api.post('/v1/versions:batchGetStatus', { names: [name] });
    expect(status.body.versions[0]).toMatchObject({ name, version: 1, status: expected.status });
    const list = await api.get(
      `/v1/namespaces/${ns}/models?filter=${encodeURIComponent(`model_id="${model}"`)}`,
    );
    expect(list.body.models.map((x: { description: string }) => x.description)).toEqual([
      expected.description,
    ]);
  }
}

describe.each(BACKENDS)('read cache coherence in one instance (%s)', (backend) => {
  let ctx: Awaited<ReturnType<typeof testQuiver>>;
  let api: Client;

  beforeAll(async () => {
    ctx = await testQuiver(backend);
    api = client(ctx.quiver.rest);
    await newNamespace(api, 'cached');
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('answers every read after a change with the change, never with the cached state before it', async () => {
    await newModel(api, 'cached', 'scorer', { description: 'one' });
    await newVersion(api, 'cached', 'scorer');
    await readsAgree(api, 'cached', 'scorer', { description: 'one', status: 'registered' });

    expect((await api.patch('/v1/namespaces/cached/models/scorer', { description: 'two' })).status).toBe(200);
    await readsAgree(api, 'cached', 'scorer', { description: 'two', status: 'registered' });

    const moved = await api.post('/v1/namespaces/cached/models/scorer/versions/1:transition', {
      status: 'validated',
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    await readsAgree(api, 'cached', 'scorer', { description: 'two', status: 'validated' });

    expect((await api.put('/v1/namespaces/cached/models/scorer/aliases/prod', { version: 1 })).status).toBe(
      200,
    );
    expect((await api.get('/v1/namespaces/cached/models/scorer/versions/@prod')).body.aliases).toEqual([
      'prod',
    ]);
    expect((await api.get('/v1/namespaces/cached/models/scorer')).body.aliases).toEqual({ prod: 1 });

    await newVersion(api, 'cached', 'scorer');
    expect((await api.get('/v1/namespaces/cached/models/scorer')).body.latest_version).toBe(2);

    expect((await api.delete('/v1/namespaces/cached/models/scorer?force=true')).status).toBe(204);
    expect((await api.get('/v1/namespaces/cached/models/scorer')).status).toBe(404);
    expect((await api.get('/v1/namespaces/cached/models/scorer/versions/1')).status).toBe(404);
    const gone = await api.post('/v1/versions:batchGetStatus', {
      names: ['namespaces/cached/models/scorer/versions/1'],
    });
    expect(gone.body).toEqual({ versions: [], missing: ['namespaces/cached/models/scorer/versions/1'] });
  });

  it('answers a repeated batch from memory, and a change to one model is seen at once', async () => {
    const names: string[] = [];
    for (const model of ['board-a', 'board-b']) {
      await newModel(api, 'cached', model);
      for (let v = 1; v <= 3; v++) {
        await newVersion(api, 'cached', model);
        names.push(`namespaces/cached/models/${model}/versions/${v}`);
      }
    }
    const counters = async () => {
      const text = (await api.get('/metrics')).body as string;
      const read = (name: string) => Number(text.match(new RegExp(`^${name} (\\d+)`, 'm'))?.[1]);
      return { hits: read('quiver_cache_hits_total'), misses: read('quiver_cache_misses_total') };
    };
    for (const path of ['/v1/versions:batchGetStatus', '/v1/versions:batchGet']) {
      const first = await api.post(path, { names });
      expect(first.status).toBe(200);
      const before = await counters();
      const second = await api.post(path, { names });
      expect(second.body).toEqual(first.body);
      const after = await counters();
      expect(after.hits - before.hits, path).toBe(names.length);
      expect(after.misses - before.misses, path).toBe(0);
    }
    // A new version of board-a changes the model, not its cached versions: they still hit.
    await newVersion(api, 'cached', 'board-a');
    expect((await api.get('/v1/namespaces/cached/models/board-a')).body.latest_version).toBe(4);
    const beforeNew = await counters();
    const again = await api.post('/v1/versions:batchGetStatus', { names });
    expect(again.body.versions.map((v: { status: string }) => v.status)).toEqual(Array(6).fill('registered'));
    const afterNew = await counters();
    expect(afterNew.hits - beforeNew.hits).toBe(names.length);
    const withNew = await api.post('/v1/versions:batchGetStatus', {
      names: ['namespaces/cached/models/board-a/versions/4'],
    });
    expect(withNew.body.versions.map((v: { version: number }) => v.version)).toEqual([4]);

    const moved = await api.post('/v1/namespaces/cached/models/board-a/versions/2:transition', {
      status: 'validated',
    });
    expect(moved.status).toBe(200);
    const before = await counters();
    const status = await api.post('/v1/versions:batchGetStatus', { names });
    const full = await api.post('/v1/versions:batchGet', { names });
    const statuses = (body: { versions: { name: string; status: string }[] }) =>
      Object.fromEntries(body.versions.map((v) => [v.name, v.status]));
    for (const body of [status.body, full.body]) {
      expect(statuses(body)).toEqual(
        Object.fromEntries(
          names.map((n) => [
            n,
            n === 'namespaces/cached/models/board-a/versions/2' ? 'validated' : 'registered',
          ]),
        ),
      );
    }
    // Only board-a's three versions were dropped (in each of the two reads); board-b's still hit.
    const after = await counters();
    expect(after.misses - before.misses).toBe(6);
    expect(after.hits - before.hits).toBe(6);
  });

  it('counts what it answers from memory in /metrics', async () => {
    await newModel(api, 'cached', 'counted');
    for (let i = 0; i < 3; i++) await api.get('/v1/namespaces/cached/models/counted');
    const text = (await api.get('/metrics')).body as string;
    expect(Number(text.match(/^quiver_cache_hits_total (\d+)/m)?.[1])).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^quiver_cache_misses_total \d+/m);
  });
});

describe.runIf(BACKENDS.includes('postgres') && (await redisAvailable()))(
  'read cache coherence across instances sharing PostgreSQL and Redis',
  () => {
    let first: Awaited<ReturnType<typeof testQuiver>>;
    let second: Quiver;
    let a: Client;
    let b: Client;

    beforeAll(async () => {
      first = await testQuiver('postgres', { env: { QUIVER_REDIS_URL: REDIS_URL } });
      second = await createQuiver(first.db.config, { logger: false, postgresSchema: first.db.schema! });
      a = client(first.quiver.rest);
      b = client(second.rest);
      await newNamespace(a, 'shared');
    });
    afterAll(async () => {
      await second?.close();
      await first?.close();
    });

    it("drops the other instance's cached reads when one instance changes them", async () => {
      await newModel(a, 'shared', 'ranker', { description: 'before' });
      await newVersion(a, 'shared', 'ranker');
      // B caches the model and the version.
      await readsAgree(b, 'shared', 'ranker', { description: 'before', status: 'registered' });

      expect((await a.patch('/v1/namespaces/shared/models/ranker', { description: 'after' })).status).toBe(
        200,
      );
      expect(
        (await a.post('/v1/namespaces/shared/models/ranker/versions/1:transition', { status: 'rejected' }))
          .status,
      ).toBe(200);
      // Within the time the invalidation takes to cross Redis, B serves the change.
      await waitFor(
        async () => (await b.get('/v1/namespaces/shared/models/ranker/versions/1')).body.status,
        (s) => s === 'rejected',
        5_000,
        'the other instance to drop its cached version',
      );
      await readsAgree(b, 'shared', 'ranker', { description: 'after', status: 'rejected' });
    });
  },
);
