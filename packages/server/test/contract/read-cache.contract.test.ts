import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryReadCache } from '../../src/adapters/memory/memory-cache.js';
import { RedisBus } from '../../src/adapters/redis/redis-bus.js';
import type { ReadCache } from '../../src/ports/cache.js';
import {
  cachedRead,
  cacheKeys,
  cacheTags,
  tagsOfChange,
  versionMember,
} from '../../src/services/cached-reads.js';
import { cacheBuses, REDIS_URL } from '../support/redis.js';
import { waitFor } from '../support/serving.js';

const BUSES = await cacheBuses();
const MB = 1024 * 1024;

describe.each(BUSES)('read cache (%s bus)', (bus) => {
  const open: ReadCache[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  /** Two instances sharing one installation: on the memory bus they are independent (one process each). */
  async function pair(maxBytes = 8 * MB): Promise<[ReadCache, ReadCache]> {
    const channel = `quiver:test:${randomUUID()}`;
    const make = async () =>
      new MemoryReadCache({
        maxBytes,
        ttlMs: 60_000,
        bus: bus === 'redis' ? await RedisBus.connect(REDIS_URL, channel, randomUUID()) : undefined,
      });
    const caches: [ReadCache, ReadCache] = [await make(), await make()];
    open.push(...caches);
    return caches;
  }

  it('serves what it was given until a change drops one of its tags', async () => {
    const [cache] = await pair();
    cache.set('model a/b', { name: 'b' }, ['m:a/b', 'n:a'], cache.ticket());
    cache.set('model a/c', { name: 'c' }, ['m:a/c', 'n:a'], cache.ticket());
    expect(cache.get('model a/b')).toEqual({ name: 'b' });
    cache.invalidate(['m:a/b']);
    expect(cache.get('model a/b')).toBeUndefined();
    expect(cache.get('model a/c')).toEqual({ name: 'c' });
    cache.invalidate(['n:a']);
    expect(cache.get('model a/c')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 2 });
  });

  it('never keeps a read that a change overtook (the ticket is taken before reading)', async () => {
    const [cache] = await pair();
    const ticket = cache.ticket();
    // ... the store is read here, then a change commits and invalidates before the result is kept:
    cache.invalidate(['m:a/b']);
    cache.set('model a/b', { stale: true }, ['m:a/b'], ticket);
    expect(cache.get('model a/b')).toBeUndefined();
    // A read that started after the change is kept.
    cache.set('model a/b', { fresh: true }, ['m:a/b'], cache.ticket());
    expect(cache.get('model a/b')).toEqual({ fresh: true });
  });

  it('cachedRead loads once, then serves from memory, and loads again after a change', async () => {
    const [cache] = await pair();
    let loads = 0;
    const load = async () => ({ n: ++loads });
    expect(await cachedRead(cache, 'k', ['t'], load)).toEqual({ n: 1 });
    expect(await cachedRead(cache, 'k', ['t'], load)).toEqual({ n: 1 });
    cache.invalidate(['t']);
    expect(await cachedRead(cache, 'k', ['t'], load)).toEqual({ n: 2 });
    // Errors are not cached.
    await expect(cachedRead(cache, 'e', ['t'], () => Promise.reject(new Error('nope')))).rejects.toThrow(
      'nope',
    );
    expect(cache.get('e')).toBeUndefined();
  });

  it('freezes what it keeps, so no reader can change what the next one gets', async () => {
    const [cache] = await pair();
    const value = { labels: { team: 'a' } };
    cache.set('k', value, ['t'], cache.ticket());
    const got = cache.get<typeof value>('k')!;
    expect(() => {
      got.labels.team = 'b';
    }).toThrow(TypeError);
  });

  it('stays within its byte budget, least recently used out first', async () => {
    const [cache] = await pair(64 * 1024);
    for (let i = 0; i < 200; i++) cache.set(`k${i}`, { body: 'x'.repeat(1000) }, ['t'], cache.ticket());
    const stats = cache.stats();
    expect(stats.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(stats.entries).toBeLessThan(200);
    expect(cache.get('k199')).toBeDefined();
    expect(cache.get('k0')).toBeUndefined();
  });

  it('takes bulk offers into free room only, never evicting what single reads keep', async () => {
    const [cache] = await pair(64 * 1024);
    const body = { body: 'x'.repeat(1000) };
    for (let i = 0; i < 20; i++) cache.set(`hot${i}`, body, ['t'], cache.ticket());
    // A sweep far larger than the budget: it fills what is left and stops there.
    for (let i = 0; i < 200; i++) cache.offer(`bulk${i}`, body, ['t'], cache.ticket());
    const stats = cache.stats();
    expect(stats.bytes).toBeLessThanOrEqual(64 * 1024);
    for (let i = 0; i < 20; i++) expect(cache.get(`hot${i}`), `hot${i}`).toEqual(body);
    expect(cache.get('bulk0')).toEqual(body);
    expect(cache.get('bulk199')).toBeUndefined();
    // An offer replacing an entry of the same size fits even when the cache is full.
    const ticket = cache.ticket();
    cache.offer('hot0', { body: 'y'.repeat(1000) }, ['t'], ticket);
    expect(cache.get('hot0')).toEqual({ body: 'y'.repeat(1000) });
  });

  it('refuses an offer to a full cache without serialising the value to size it', async () => {
    const [cache] = await pair(64 * 1024);
    for (let i = 0; cache.stats().bytes < 64 * 1024 - 1100; i++)
      cache.set(`hot${i}`, { body: 'x'.repeat(1000) }, ['t'], cache.ticket());
    let serialised = 0;
    const value = {
      toJSON() {
        serialised++;
        return { body: 'y'.repeat(1000) };
      },
    };
    // One entry that leaves 10 bytes: less room than any key and its bookkeeping.
    const room = 64 * 1024 - cache.stats().bytes;
    // Its size counts the key (1), the JSON {"b":"…"} (8 + length) and 64 of bookkeeping.
    cache.set('f', { b: 'z'.repeat(room - 10 - 1 - 8 - 64) }, ['t'], cache.ticket());
    expect(64 * 1024 - cache.stats().bytes).toBe(10);
    cache.offer('bulk', value, ['t'], cache.ticket());
    expect(serialised).toBe(0);
    expect(cache.get('bulk')).toBeUndefined();
  });

  it('never keeps a bulk offer that a change overtook', async () => {
    const [cache] = await pair();
    const ticket = cache.ticket();
    cache.invalidate(['m:a/b']);
    cache.offer('status a/b/1', { status: 'registered' }, ['m:a/b'], ticket);
    expect(cache.get('status a/b/1')).toBeUndefined();
    cache.offer('status a/b/1', { status: 'validated' }, ['m:a/b'], cache.ticket());
    expect(cache.get('status a/b/1')).toEqual({ status: 'validated' });
  });

  it('voids everything rather than forget a stamp when it has seen too many tags', async () => {
    const cache = new MemoryReadCache({ maxBytes: MB, ttlMs: 60_000, maxTags: 10 });
    open.push(cache);
    cache.set('k', 1, ['keep'], cache.ticket());
    for (let i = 0; i < 20; i++) cache.invalidate([`other-${i}`]);
    expect(cache.get('k')).toBeUndefined();
    cache.set('k', 2, ['keep'], cache.ticket());
    expect(cache.get('k')).toBe(2);
  });

  it('spreads the lives of entries filled together over the last fifth of the TTL, never past it', () => {
    // lru-cache takes a start time of 0 for "no TTL": the clock starts later.
    let now = 10_000;
    // Each entry, group or member group draws its life in turn: 1000 × (1 − 0.2 × draw).
    const draws = [0, 0.5, 0.999, 0.25];
    const cache = new MemoryReadCache({
      maxBytes: MB,
      ttlMs: 1_000,
      now: () => now,
      random: () => draws.shift() ?? 0,
    });
    open.push(cache);
    cache.set('a', 'a', [], cache.ticket()); // lives 1000 ms
    cache.offer('b', 'b', [], cache.ticket()); // 900 ms
    cache.setMember('g', '1', 'g1', [], cache.ticket()); // 800 ms, from its first member
    now = 10_500;
    cache.setMember('g', '2', 'g2', [], cache.ticket()); // joins the group: no new life
    cache.set('c', 'c', [], cache.ticket()); // 950 ms, from 500
    now = 10_799;
    expect([cache.get('a'), cache.get('b'), cache.getMember('g', '2'), cache.get('c')]).toEqual([
      'a',
      'b',
      'g2',
      'c',
    ]);
    now = 10_801;
    expect(cache.getMember('g', '1')).toBeUndefined();
    expect(cache.getMember('g', '2')).toBeUndefined();
    now = 10_901;
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('a');
    now = 11_001;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toBe('c');
    now = 11_451;
    expect(cache.get('c')).toBeUndefined();
  });

  it.runIf(bus === 'redis')('drops entries in the other instance when this one invalidates', async () => {
    const [a, b] = await pair();
    b.set('model a/b', { v: 1 }, [cacheTags.model('a', 'b')], b.ticket());
    b.set('model a/c', { v: 1 }, [cacheTags.model('a', 'c')], b.ticket());
    a.invalidate(tagsOfChange('namespaces/a/models/b/versions/3'));
    await waitFor(
      async () => b.get('model a/b'),
      (v) => v === undefined,
      5_000,
      'the invalidation to reach the other instance',
    );
    expect(b.get('model a/c')).toEqual({ v: 1 });
  });

  it('keeps members in groups: found by group and member, dropped with their group', async () => {
    const [cache] = await pair();
    const tags = ['n:a', 'v:a/b'];
    cache.setMember('version a/b', '1', 'one', tags, cache.ticket());
    cache.offerMember('version a/b', '2', 'two', tags, cache.ticket());
    cache.setMember('version a/c', '1', 'other', ['n:a', 'v:a/c'], cache.ticket());
    expect(cache.getMember('version a/b', '1')).toBe('one');
    expect(cache.getMember('version a/b', '2')).toBe('two');
    expect(cache.getMember('version a/b', '3')).toBeUndefined();
    expect(cache.getMember('version a/x', '1')).toBeUndefined();
    // A member may be replaced; the group still counts as one entry.
    cache.setMember('version a/b', '1', 'uno', tags, cache.ticket());
    expect(cache.getMember('version a/b', '1')).toBe('uno');
    expect(cache.stats().entries).toBe(2);
    cache.invalidate(['v:a/b']);
    expect(cache.getMember('version a/b', '1')).toBeUndefined();
    expect(cache.getMember('version a/b', '2')).toBeUndefined();
    expect(cache.getMember('version a/c', '1')).toBe('other');
  });

  it('never adds a member that a change overtook, and a late member never revives a stale group', async () => {
    const [cache] = await pair();
    const tags = ['v:a/b'];
    const before = cache.ticket();
    cache.setMember('version a/b', '1', 'old', tags, before);
    const slow = cache.ticket();
    cache.invalidate(tags);
    // Read before the change: refused.
    cache.offerMember('version a/b', '2', 'stale', tags, slow);
    cache.setMember('version a/b', '2', 'stale', tags, slow);
    expect(cache.getMember('version a/b', '2')).toBeUndefined();
    // Read after it: kept, in a new group without the member the change made stale.
    cache.setMember('version a/b', '2', 'fresh', tags, cache.ticket());
    expect(cache.getMember('version a/b', '2')).toBe('fresh');
    expect(cache.getMember('version a/b', '1')).toBeUndefined();
  });

  it('counts every member in the byte budget and offers members into free room only', async () => {
    const [cache] = await pair(64 * 1024);
    const body = 'x'.repeat(1000);
    for (let i = 0; i < 20; i++) cache.set(`hot${i}`, body, ['t'], cache.ticket());
    for (let i = 0; i < 200; i++) cache.offerMember('version a/b', String(i), body, ['t'], cache.ticket());
    expect(cache.stats().bytes).toBeLessThanOrEqual(64 * 1024);
    for (let i = 0; i < 20; i++) expect(cache.get(`hot${i}`), `hot${i}`).toBe(body);
    expect(cache.getMember('version a/b', '0')).toBe(body);
    expect(cache.getMember('version a/b', '199')).toBeUndefined();
    // setMember may evict: a group grown past the budget pushes out the least recently used.
    for (let i = 0; i < 200; i++) cache.setMember('version a/c', String(i), body, ['t'], cache.ticket());
    expect(cache.stats().bytes).toBeLessThanOrEqual(64 * 1024);
  });

  it('keeps any interleaving of reads and changes coherent (property)', async () => {
    const [cache] = await pair();
    // A model of the store: a version counter per key. Reads take a ticket, may be overtaken by
    // writes before they are kept; a later get must never return an older value than the store's.
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('read', 'write', 'slow-read'), fc.integer({ min: 0, max: 3 })), {
          maxLength: 60,
        }),
        async (steps) => {
          const store = [0, 0, 0, 0];
          const pending: { key: number; ticket: number; value: number }[] = [];
          for (const [op, k] of steps) {
            const key = `p${k}`;
            if (op === 'write') {
              store[k]!++;
              cache.invalidate([`t${k}`]);
            } else if (op === 'slow-read') {
              pending.push({ key: k, ticket: cache.ticket(), value: store[k]! });
            } else {
              const done = pending.shift();
              if (done) cache.set(`p${done.key}`, { v: done.value }, [`t${done.key}`], done.ticket);
              const hit = cache.get<{ v: number }>(key);
              if (hit) expect(hit.v).toBe(store[k]);
              else cache.set(key, { v: store[k] }, [`t${k}`], cache.ticket());
            }
          }
          for (let k = 0; k < 4; k++) cache.invalidate([`t${k}`]);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('tags of a change', () => {
  it('names the model, its versions, its namespace lists and the cross-namespace lists for anything under a model', () => {
    const all = ['m:a/b', 'l:a', 'l:-', 'v:a/b'];
    expect(tagsOfChange('namespaces/a/models/b/versions/3', 'TransitionVersion')).toEqual(all);
    expect(tagsOfChange('namespaces/a/models/b/aliases/prod', 'SetAlias')).toEqual(all);
    expect(tagsOfChange('namespaces/a/models/b', 'UpdateModel')).toEqual(all);
    expect(tagsOfChange('namespaces/a/models/b', 'DeleteModel')).toEqual(all);
    // Without an action (an unknown change) everything under the model goes.
    expect(tagsOfChange('namespaces/a/models/b')).toEqual(all);
  });
  it('leaves the versions already cached alone when a new version is registered', () => {
    expect(tagsOfChange('namespaces/a/models/b', 'CreateVersion')).toEqual(['m:a/b', 'l:a', 'l:-']);
  });
  it('drops everything in a namespace when the namespace changes', () => {
    expect(tagsOfChange('namespaces/a')).toEqual(['n:a', 'l:a', 'l:-']);
  });
  it('leaves the cache alone for changes outside models', () => {
    expect(tagsOfChange('deployments/d1')).toEqual([]);
    expect(tagsOfChange('artifacts/sha256:00')).toEqual([]);
  });
});

describe('version names as cache members', () => {
  it('cuts a name as it came into the group single reads fill and the member', () => {
    expect(versionMember('namespaces/a/models/b/versions/3', 'version')).toEqual({
      key: cacheKeys.versions('a', 'b'),
      member: '3',
    });
    expect(versionMember('namespaces/a/models/b/versions/@champion', 'status')).toEqual({
      key: cacheKeys.statuses('a', 'b'),
      member: '@champion',
    });
  });

  it('answers nothing for what cannot be a version name, and never throws', () => {
    expect(versionMember('nonsense', 'version')).toBeUndefined();
    expect(versionMember(42 as unknown as string, 'version')).toBeUndefined();
    // Odd but cut: such groups are never filled (only parsed names are), so these simply miss.
    expect(versionMember('/versions/', 'version')).toEqual({ key: 'version ', member: '' });
  });
});
