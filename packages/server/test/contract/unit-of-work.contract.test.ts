import { AsyncLocalStorage } from 'node:async_hooks';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlStore } from '../../src/adapters/sql/store.js';
import { QuiverError } from '../../src/domain/errors.js';
import {
  expectQuiverError,
  newHistoryEntry,
  newModel,
  newNamespace,
  newVersion,
  T0,
  unique,
} from '../support/builders.js';
import { backends, testStore } from '../support/databases.js';

const BACKENDS = await backends();

describe.each(BACKENDS)('unit of work (%s)', (backend) => {
  let store: SqlStore;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close } = await testStore(backend));
  });
  afterAll(async () => {
    await close?.();
  });

  async function seedModel() {
    const ns = newNamespace();
    const model = newModel(0);
    const pk = await store.write(async (r) => {
      await r.namespaces.create(ns);
      await r.models.create({ ...model, namespace_pk: (await r.namespaces.pkOf(ns.namespace_id))! });
      return (await r.models.key(ns.namespace_id, model.model_id))!.pk;
    });
    return { ns: ns.namespace_id, model: model.model_id, pk };
  }

  it('leaves nothing behind when the work throws after several writes', async () => {
    const existing = await seedModel();
    const ns = newNamespace();
    const model = newModel(0, { labels: { team: 'vision' } });
    const setting = unique('setting');
    const idemKey = unique('key');
    const stage = unique('stage');
    const boom = new Error('boom');
    const err = await store
      .write(async (r) => {
        await r.namespaces.create(ns);
        const nsPk = (await r.namespaces.pkOf(ns.namespace_id))!;
        await r.models.create({ ...model, namespace_pk: nsPk });
        const pk = (await r.models.key(ns.namespace_id, model.model_id))!.pk;
        const v = await r.models.nextVersion(pk, T0);
        await r.versions.insert(newVersion(pk, v, { labels: { stage } }));
        await r.aliases.set(pk, 'champion', v, T0);
        await r.history.append(newHistoryEntry(pk, v));
        // Changes to rows that existed before the transaction must be undone too.
        await r.models.update(existing.pk, 1, { description: 'changed', labels: { x: 'y' } }, T0 + 1);
        await r.models.nextVersion(existing.pk, T0 + 1);
        await r.versions.insert(newVersion(existing.pk, 1));
        await r.aliases.set(existing.pk, 'champion', 1, T0);
        await r.idempotency.save('scope', idemKey, 'fp', { ok: true }, T0);
        await r.settings.putIfAbsent(setting, 'value');
        throw boom;
      })
      .catch((e: unknown) => e);
    expect(err).toBe(boom);

    await store.read(async (r) => {
      expect(await r.namespaces.get(ns.namespace_id)).toBeUndefined();
      expect(await r.namespaces.pkOf(ns.namespace_id)).toBeUndefined();
      expect(await r.settings.get(setting)).toBeUndefined();
      expect(await r.idempotency.find('scope', idemKey)).toBeUndefined();
      expect(await r.models.key(existing.ns, existing.model)).toMatchObject({
        revision: 1,
        latest_version: 0,
      });
      const before = await r.models.get(existing.ns, existing.model);
      expect(before).toMatchObject({ description: '', labels: {}, aliases: {} });
      expect(await r.aliases.resolve(existing.pk, 'champion')).toBeUndefined();
      expect(await r.versions.get(existing.pk, 1)).toBeUndefined();
    });
    for (const table of [
      'models',
      'model_labels',
      'model_versions',
      'version_labels',
      'aliases',
      'version_history',
    ] as const) {
      const orphans =
        table === 'models'
          ? await store.db.selectFrom('models').select('id').where('model_id', '=', model.model_id).execute()
          : table === 'version_labels'
            ? await store.db.selectFrom('version_labels').select('key').where('value', '=', stage).execute()
            : await store.db
                .selectFrom(table)
                .selectAll()
                .where('model_pk', 'not in', (eb) => eb.selectFrom('models').select('id'))
                .execute();
      expect(orphans, table).toEqual([]);
    }
  });

  it('passes a QuiverError thrown by the work through unchanged', async () => {
    const thrown = new QuiverError('MODEL_NOT_FOUND', 'nope');
    await expect(store.write(async () => Promise.reject(thrown))).rejects.toBe(thrown);
    await expect(store.read(async () => Promise.reject(thrown))).rejects.toBe(thrown);
  });

  it('returns the value of the work', async () => {
    expect(await store.write(async () => 42)).toBe(42);
    expect(await store.read(async () => 'x')).toBe('x');
  });

  it('shows writes to later reads in the same transaction', async () => {
    const ns = newNamespace();
    const model = newModel(0, { labels: { team: 'nlp' } });
    await store.write(async (r) => {
      const created = await r.namespaces.create(ns);
      expect(await r.namespaces.get(ns.namespace_id)).toEqual(created);
      const nsPk = (await r.namespaces.pkOf(ns.namespace_id))!;
      await r.models.create({ ...model, namespace_pk: nsPk });
      const key = (await r.models.key(ns.namespace_id, model.model_id))!;
      expect(key.latest_version).toBe(0);
      expect(await r.models.nextVersion(key.pk, T0)).toBe(1);
      expect((await r.models.key(ns.namespace_id, model.model_id))?.latest_version).toBe(1);
      await r.versions.insert(newVersion(key.pk, 1));
      await r.aliases.set(key.pk, 'champion', 1, T0);
      expect((await r.versions.get(key.pk, 1))?.aliases).toEqual(['champion']);
      expect((await r.models.get(ns.namespace_id, model.model_id))?.aliases).toEqual({ champion: 1 });
      expect(await r.models.countVersions(key.pk, 'archived')).toBe(1);
      const listed = await r.models.list(nsPk, {
        filter: null,
        orderBy: { field: 'name', desc: false },
        after: null,
        limit: 10,
      });
      expect(listed.map((l) => l.item.model_id)).toEqual([model.model_id]);
    });
    expect((await store.read((r) => r.models.get(ns.namespace_id, model.model_id)))?.aliases).toEqual({
      champion: 1,
    });
  });

  it('gives 20 concurrent writers distinct, consecutive version numbers', async () => {
    const m = await seedModel();
    const reserved = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.write(async (r) => {
          const v = await r.models.nextVersion(m.pk, T0 + i);
          await r.versions.insert(newVersion(m.pk, v));
          return v;
        }),
      ),
    );
    expect([...reserved].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await store.read((r) => r.models.key(m.ns, m.model))).toMatchObject({
      latest_version: 20,
      revision: 21,
    });
    expect(await store.read((r) => r.models.countVersions(m.pk, 'archived'))).toBe(20);
  });

  it('keeps the alias map of a model in step with its aliases under 20 concurrent alias writes', async () => {
    const m = await seedModel();
    await store.write(async (r) => {
      await r.models.nextVersion(m.pk, T0);
      await r.versions.insert(newVersion(m.pk, 1));
    });
    const aliases = Array.from({ length: 20 }, (_, i) => `alias-${i}`);
    await Promise.all(aliases.map((alias) => store.write((r) => r.aliases.set(m.pk, alias, 1, T0))));
    for (const alias of aliases) expect(await store.read((r) => r.aliases.resolve(m.pk, alias))).toBe(1);
    const model = await store.read((r) => r.models.get(m.ns, m.model));
    expect(model?.aliases).toEqual(Object.fromEntries(aliases.map((a) => [a, 1])));
    expect((await store.read((r) => r.versions.get(m.pk, 1)))?.aliases).toEqual([...aliases].sort());

    await Promise.all(aliases.slice(0, 10).map((alias) => store.write((r) => r.aliases.unset(m.pk, alias))));
    expect((await store.read((r) => r.models.get(m.ns, m.model)))?.aliases).toEqual(
      Object.fromEntries(aliases.slice(10).map((a) => [a, 1])),
    );
  });

  it('surfaces a unique violation inside a write as the matching QuiverError, and rolls back', async () => {
    const ns = newNamespace();
    await store.write((r) => r.namespaces.create(ns));
    const other = newNamespace();
    await expectQuiverError(
      store.write(async (r) => {
        await r.namespaces.create(other);
        await r.namespaces.create(newNamespace({ namespace_id: ns.namespace_id }));
      }),
      'NAMESPACE_EXISTS',
    );
    expect(await store.read((r) => r.namespaces.get(other.namespace_id))).toBeUndefined();

    const m = await seedModel();
    await expectQuiverError(
      store.write(async (r) =>
        r.models.create(newModel((await r.namespaces.pkOf(m.ns))!, { model_id: m.model })),
      ),
      'MODEL_EXISTS',
    );
    // The store is still usable afterwards (no connection left in a failed transaction).
    const next = newNamespace();
    await store.write((r) => r.namespaces.create(next));
    expect(await store.read((r) => r.namespaces.get(next.namespace_id))).toBeDefined();
  });

  it('isolates the writes that arrive together: each fails or commits alone, in order', async () => {
    const m = await seedModel();
    const names = Array.from({ length: 12 }, () => newNamespace());
    const boom = new Error('boom');
    const results = await Promise.allSettled(
      names.map((ns, i) =>
        store.write(async (r) => {
          await r.namespaces.create(ns);
          // Every third write changes something and then fails: its changes must vanish alone.
          if (i % 3 === 1) {
            await r.models.nextVersion(m.pk, T0);
            throw boom;
          }
          return r.models.nextVersion(m.pk, T0);
        }),
      ),
    );
    const kept = names.filter((_, i) => i % 3 !== 1);
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason),
    ).toEqual(Array(4).fill(boom));
    // The successful writes saw each other's numbers and none saw a failed one's change
    // (on SQLite they run in submission order; PostgreSQL commits them in its own order).
    const numbers = results
      .filter((r) => r.status === 'fulfilled')
      .map((r) => (r as PromiseFulfilledResult<number>).value);
    expect(backend === 'sqlite' ? numbers : numbers.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const ns of names) {
      const stored = await store.read((r) => r.namespaces.get(ns.namespace_id));
      expect(stored !== undefined).toBe(kept.includes(ns));
    }
    if (backend === 'sqlite') {
      // They really did share transactions (the point of group commit on a single-writer database).
      const stats = store.groupCommitStats!;
      expect(stats.writes).toBeGreaterThan(stats.batches);
    }
  });

  it('keeps a write that fails on a constraint from spoiling the writes committed with it', async () => {
    const m = await seedModel();
    const fresh = newNamespace();
    const [dup, ok] = await Promise.allSettled([
      store.write(async (r) =>
        r.models.create(newModel((await r.namespaces.pkOf(m.ns))!, { model_id: m.model })),
      ),
      store.write((r) => r.namespaces.create(fresh)),
    ]);
    expect(dup.status).toBe('rejected');
    expect(ok.status).toBe('fulfilled');
    expect(await store.read((r) => r.namespaces.get(fresh.namespace_id))).toBeDefined();
  });

  it("runs each write in its caller's async context, also when writes are committed together", async () => {
    // Trace spans and request-scoped state ride on AsyncLocalStorage: a write batched with others
    // must still see its own caller's store, not the batch's or another caller's.
    const callers = new AsyncLocalStorage<string>();
    const seen = await Promise.all(
      ['a', 'b', 'c', 'd'].map((who) =>
        callers.run(who, () =>
          store.write(async (r) => {
            const before = callers.getStore();
            await r.namespaces.pkOf('nobody');
            return [before, callers.getStore()];
          }),
        ),
      ),
    );
    expect(seen).toEqual([
      ['a', 'a'],
      ['b', 'b'],
      ['c', 'c'],
      ['d', 'd'],
    ]);
  });

  it('answers a ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('names its dialect', () => {
    expect(store.dialect).toBe(backend);
  });

  it.runIf(backend === 'sqlite')('keeps the SQLite file in WAL mode', async () => {
    const { rows } = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
    expect(rows[0]?.journal_mode).toBe('wal');
    const { rows: fk } = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(store.db);
    expect(fk[0]?.foreign_keys).toBe(1);
  });
});
