import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlStore } from '../../src/adapters/sql/store.js';
import { QuiverError } from '../../src/domain/errors.js';
import { parseFilter } from '../../src/domain/filter.js';
import type { Keyset } from '../../src/domain/page-token.js';
import type { Listed, Repositories } from '../../src/ports/repositories.js';
import {
  expectQuiverError,
  listQuery,
  MINUTE,
  newBulkModel,
  newBulkVersion,
  newHistoryEntry,
  newModel,
  newNamespace,
  newUid,
  newVersion,
  T0,
  unique,
} from '../support/builders.js';
import { backends, testStore } from '../support/databases.js';

const BACKENDS = await backends();

/** Reads every page of a keyset listing, `limit` rows at a time. */
async function allPages<T>(
  fetch: (after: Keyset | null, limit: number) => Promise<Listed<T>[]>,
  limit: number,
): Promise<T[]> {
  const out: T[] = [];
  let after: Keyset | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await fetch(after, limit);
    expect(page.length).toBeLessThanOrEqual(limit);
    out.push(...page.map((l) => l.item));
    if (page.length < limit) return out;
    after = page.at(-1)!.keyset;
  }
  throw new Error('listing did not end');
}

describe.each(BACKENDS)('storage repositories (%s)', (backend) => {
  let store: SqlStore;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close } = await testStore(backend));
  });
  afterAll(async () => {
    await close?.();
  });

  const write = <T>(work: (repos: Repositories) => Promise<T>) => store.write(work);
  const read = <T>(work: (repos: Repositories) => Promise<T>) => store.read(work);

  /** A namespace and an empty model in it. */
  async function seedModel(labels: Record<string, string> = {}) {
    const ns = newNamespace();
    const model = newModel(0, { labels });
    const pk = await write(async (r) => {
      await r.namespaces.create(ns);
      const nsPk = (await r.namespaces.pkOf(ns.namespace_id))!;
      await r.models.create({ ...model, namespace_pk: nsPk });
      return (await r.models.key(ns.namespace_id, model.model_id))!.pk;
    });
    return { ns: ns.namespace_id, model: model.model_id, pk };
  }

  /** A model with versions 1..n (create_time T0 + v minutes). */
  async function seedVersions(n: number) {
    const m = await seedModel();
    await write(async (r) => {
      for (let v = 1; v <= n; v++) {
        await r.models.nextVersion(m.pk, T0);
        await r.versions.insert(newVersion(m.pk, v));
      }
    });
    return m;
  }

  /** A model loaded in bulk with versions 1..n; `aliasOf(v)` names the aliases of version v (kept consistent with the model's alias map). */
  async function seedBulk(n: number, aliasOf: (v: number) => string[] = () => []) {
    const ns = newNamespace();
    const versions = Array.from({ length: n }, (_, i) => i + 1);
    const aliases = Object.fromEntries(versions.flatMap((v) => aliasOf(v).map((a) => [a, v] as const)));
    const model = newBulkModel(0, { aliases, latest_version: n });
    const pk = await write(async (r) => {
      await r.namespaces.create(ns);
      const [pk] = await r.bulk.insertModels([
        { ...model, namespace_pk: (await r.namespaces.pkOf(ns.namespace_id))! },
      ]);
      await r.bulk.insertVersions(versions.map((v) => newBulkVersion(pk!, v, { aliases: aliasOf(v) })));
      return pk!;
    });
    return { ns: ns.namespace_id, model: model.model_id, pk };
  }

  describe('namespaces', () => {
    it('creates a namespace and returns it as the API shows it', async () => {
      const input = newNamespace({ description: 'vision team', time: T0 + 1234 });
      const created = await write((r) => r.namespaces.create(input));
      expect(created).toEqual({
        name: `namespaces/${input.namespace_id}`,
        namespace_id: input.namespace_id,
        uid: input.uid,
        description: 'vision team',
        create_time: new Date(T0 + 1234).toISOString(),
        update_time: new Date(T0 + 1234).toISOString(),
        etag: expect.any(String),
      });
      expect(await read((r) => r.namespaces.get(input.namespace_id))).toEqual(created);
    });

    it('rejects a duplicate namespace id with NAMESPACE_EXISTS', async () => {
      const input = newNamespace();
      await write((r) => r.namespaces.create(input));
      const err = await expectQuiverError(
        write((r) => r.namespaces.create(newNamespace({ namespace_id: input.namespace_id }))),
        'NAMESPACE_EXISTS',
      );
      expect(err.code).toBe('ALREADY_EXISTS');
      expect(err.details).toMatchObject({ resource: `namespaces/${input.namespace_id}` });
    });

    it('answers undefined for an unknown namespace', async () => {
      expect(await read((r) => r.namespaces.get('no-such-namespace'))).toBeUndefined();
      expect(await read((r) => r.namespaces.pkOf('no-such-namespace'))).toBeUndefined();
    });

    it('gives each namespace its own primary key', async () => {
      const a = newNamespace();
      const b = newNamespace();
      await write(async (r) => {
        await r.namespaces.create(a);
        await r.namespaces.create(b);
      });
      const [pa, pb] = await read(async (r) => [
        await r.namespaces.pkOf(a.namespace_id),
        await r.namespaces.pkOf(b.namespace_id),
      ]);
      expect(typeof pa).toBe('number');
      expect(typeof pb).toBe('number');
      expect(pa).not.toBe(pb);
    });

    it('lists namespaces page by page with a keyset, by name and by create time', async () => {
      const prefix = unique('lst');
      // Names ascend while create times go down, with one tie on create_time.
      const times = [50, 40, 40, 30, 20, 10, 0];
      const inputs = times.map((t, i) => newNamespace({ namespace_id: `${prefix}-${i}`, time: T0 + t }));
      await write(async (r) => {
        for (const input of [...inputs].reverse()) await r.namespaces.create(input);
      });
      const filter = parseFilter(`namespace_id:"${prefix}-*"`);
      const ids = (field: string, desc: boolean, limit: number) =>
        read((r) =>
          allPages(
            (after, l) => r.namespaces.list(listQuery({ filter, orderBy: { field, desc }, after, limit: l })),
            limit,
          ),
        ).then((items) => items.map((n) => n.namespace_id));
      const byName = inputs.map((n) => n.namespace_id);
      for (const limit of [1, 2, 3, 100]) {
        expect(await ids('name', false, limit)).toEqual(byName);
        expect(await ids('namespace_id', true, limit)).toEqual([...byName].reverse());
      }
      // The tie at T0+40 is broken by primary key: inputs[2] was created before inputs[1].
      const byTime = [6, 5, 4, 3, 2, 1, 0].map((i) => byName[i]);
      for (const limit of [1, 2, 100]) {
        expect(await ids('create_time', false, limit)).toEqual(byTime);
        expect(await ids('create_time', true, limit)).toEqual([...byTime].reverse());
      }
    });
  });

  describe('models', () => {
    it('creates a model and reads it back with its labels and an empty alias map', async () => {
      const ns = newNamespace();
      const input = newModel(0, {
        description: 'resnet',
        labels: { team: 'vision', tier: 'gold' },
        time: T0 + 5,
      });
      const model = await write(async (r) => {
        await r.namespaces.create(ns);
        await r.models.create({ ...input, namespace_pk: (await r.namespaces.pkOf(ns.namespace_id))! });
        return r.models.get(ns.namespace_id, input.model_id);
      });
      expect(model).toEqual({
        name: `namespaces/${ns.namespace_id}/models/${input.model_id}`,
        namespace: `namespaces/${ns.namespace_id}`,
        model_id: input.model_id,
        uid: input.uid,
        description: 'resnet',
        labels: { team: 'vision', tier: 'gold' },
        latest_version: 0,
        aliases: {},
        create_time: new Date(T0 + 5).toISOString(),
        update_time: new Date(T0 + 5).toISOString(),
        etag: expect.any(String),
      });
    });

    it('rejects a duplicate model id in the same namespace with MODEL_EXISTS, not in another one', async () => {
      const m = await seedModel();
      const err = await expectQuiverError(
        write(async (r) =>
          r.models.create(newModel((await r.namespaces.pkOf(m.ns))!, { model_id: m.model })),
        ),
        'MODEL_EXISTS',
      );
      expect(err.code).toBe('ALREADY_EXISTS');
      const other = newNamespace();
      await write(async (r) => {
        await r.namespaces.create(other);
        await r.models.create(
          newModel((await r.namespaces.pkOf(other.namespace_id))!, { model_id: m.model }),
        );
      });
      expect(await read((r) => r.models.key(other.namespace_id, m.model))).toBeDefined();
    });

    it('answers undefined for an unknown model', async () => {
      const m = await seedModel();
      expect(await read((r) => r.models.get(m.ns, 'nope'))).toBeUndefined();
      expect(await read((r) => r.models.key(m.ns, 'nope'))).toBeUndefined();
      expect(await read((r) => r.models.get('nope', m.model))).toBeUndefined();
    });

    it('returns the key of a model', async () => {
      const m = await seedModel();
      const nsPk = await read((r) => r.namespaces.pkOf(m.ns));
      const model = await read((r) => r.models.get(m.ns, m.model));
      expect(await read((r) => r.models.key(m.ns, m.model))).toEqual({
        pk: m.pk,
        uid: model!.uid,
        namespace_pk: nsPk,
        namespace: m.ns,
        model_id: m.model,
        revision: 1,
        latest_version: 0,
      });
    });

    it('shows the alias map of a model', async () => {
      const m = await seedVersions(3);
      await write(async (r) => {
        await r.aliases.set(m.pk, 'staging', 3, T0);
        await r.aliases.set(m.pk, 'champion', 2, T0);
        await r.aliases.set(m.pk, 'latest', 3, T0);
      });
      const model = await read((r) => r.models.get(m.ns, m.model));
      expect(model?.aliases).toEqual({ champion: 2, latest: 3, staging: 3 });
      expect(Object.keys(model!.aliases)).toEqual(['champion', 'latest', 'staging']);
    });

    it('updates with compare-and-set on the revision and replaces the labels', async () => {
      const m = await seedModel({ team: 'vision', old: 'yes' });
      expect(
        await write((r) => r.models.update(m.pk, 1, { labels: { team: 'nlp', fresh: 'yes' } }, T0 + MINUTE)),
      ).toBe(true);
      const after = await read((r) => r.models.get(m.ns, m.model));
      expect(after?.labels).toEqual({ team: 'nlp', fresh: 'yes' });
      expect(after?.description).toBe('');
      expect(after?.update_time).toBe(new Date(T0 + MINUTE).toISOString());
      expect((await read((r) => r.models.key(m.ns, m.model)))?.revision).toBe(2);

      // The label rows were replaced too: filters see only the new labels.
      const nsPk = (await read((r) => r.namespaces.pkOf(m.ns)))!;
      const matching = (text: string) =>
        read((r) => r.models.list(nsPk, listQuery({ filter: parseFilter(text) }))).then((l) =>
          l.map((x) => x.item.model_id),
        );
      expect(await matching('labels.old:*')).toEqual([]);
      expect(await matching('labels.team=vision')).toEqual([]);
      expect(await matching('labels.team=nlp labels.fresh=yes')).toEqual([m.model]);
    });

    it('refuses an update on a stale revision and changes nothing', async () => {
      const m = await seedModel({ team: 'vision' });
      expect(await write((r) => r.models.update(m.pk, 1, { description: 'first' }, T0 + 1))).toBe(true);
      expect(
        await write((r) => r.models.update(m.pk, 1, { description: 'second', labels: { x: 'y' } }, T0 + 2)),
      ).toBe(false);
      const model = await read((r) => r.models.get(m.ns, m.model));
      expect(model?.description).toBe('first');
      expect(model?.labels).toEqual({ team: 'vision' });
      expect((await read((r) => r.models.key(m.ns, m.model)))?.revision).toBe(2);
    });

    it('deletes a model with its versions, labels, aliases and history, leaving its neighbours', async () => {
      const m = await seedModel({ team: 'vision' });
      const nsPk = (await read((r) => r.namespaces.pkOf(m.ns)))!;
      const neighbour = newModel(nsPk, { labels: { team: 'vision' } });
      await write(async (r) => {
        await r.models.create(neighbour);
        for (const v of [1, 2]) {
          await r.models.nextVersion(m.pk, T0);
          await r.versions.insert(newVersion(m.pk, v, { labels: { stage: 'dev' } }));
          await r.history.append(newHistoryEntry(m.pk, v));
        }
        await r.aliases.set(m.pk, 'champion', 2, T0);
      });
      const neighbourPk = (await read((r) => r.models.key(m.ns, neighbour.model_id)))!.pk;
      await write(async (r) => {
        await r.versions.insert(newVersion(neighbourPk, 1, { labels: { stage: 'dev' } }));
        await r.aliases.set(neighbourPk, 'champion', 1, T0);
        await r.history.append(newHistoryEntry(neighbourPk, 1));
      });

      await write((r) => r.models.delete(m.pk));

      expect(await read((r) => r.models.get(m.ns, m.model))).toBeUndefined();
      expect(await read((r) => r.models.key(m.ns, m.model))).toBeUndefined();
      expect(await read((r) => r.versions.get(m.pk, 1))).toBeUndefined();
      expect(await read((r) => r.aliases.resolve(m.pk, 'champion'))).toBeUndefined();
      expect(await read((r) => r.history.list(m.pk, 1, null, 10))).toEqual([]);
      const rows = async (
        table: 'model_labels' | 'model_versions' | 'aliases' | 'version_history',
        pk: number,
      ) =>
        Number(
          (
            await store.db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll().as('n'))
              .where('model_pk', '=', pk)
              .executeTakeFirstOrThrow()
          ).n,
        );
      for (const table of ['model_labels', 'model_versions', 'aliases', 'version_history'] as const) {
        expect(await rows(table, m.pk), table).toBe(0);
        expect(await rows(table, neighbourPk), table).toBeGreaterThan(0);
      }
      const orphanLabels = await store.db
        .selectFrom('version_labels')
        .select('version_pk')
        .where('version_pk', 'not in', (eb) => eb.selectFrom('model_versions').select('id'))
        .execute();
      expect(orphanLabels).toEqual([]);
      expect((await read((r) => r.versions.get(neighbourPk, 1)))?.labels).toEqual({ stage: 'dev' });
    });

    it('counts the versions not in the excluded status', async () => {
      const m = await seedModel();
      const statuses = ['registered', 'archived', 'approved', 'archived', 'rejected'] as const;
      await write(async (r) => {
        for (const [i, status] of statuses.entries())
          await r.versions.insert(newVersion(m.pk, i + 1, { status }));
      });
      expect(await read((r) => r.models.countVersions(m.pk, 'archived'))).toBe(3);
      expect(await read((r) => r.models.countVersions(m.pk, 'deprecated'))).toBe(5);
      expect(await read((r) => r.models.countVersions(m.pk + 100_000, 'archived'))).toBe(0);
    });

    it('reserves increasing version numbers and bumps the revision each time', async () => {
      const m = await seedModel();
      const reserved = [];
      for (let i = 0; i < 3; i++) reserved.push(await write((r) => r.models.nextVersion(m.pk, T0 + i)));
      expect(reserved).toEqual([1, 2, 3]);
      const key = await read((r) => r.models.key(m.ns, m.model));
      expect(key).toMatchObject({ latest_version: 3, revision: 4 });
      expect((await read((r) => r.models.get(m.ns, m.model)))?.update_time).toBe(
        new Date(T0 + 2).toISOString(),
      );
    });

    it('touch bumps the revision and update time', async () => {
      const m = await seedModel();
      const before = await read((r) => r.models.get(m.ns, m.model));
      await write((r) => r.models.touch(m.pk, T0 + 10 * MINUTE));
      const after = await read((r) => r.models.get(m.ns, m.model));
      expect((await read((r) => r.models.key(m.ns, m.model)))?.revision).toBe(2);
      expect(after?.update_time).toBe(new Date(T0 + 10 * MINUTE).toISOString());
      expect(after?.create_time).toBe(before?.create_time);
      expect(after?.etag).not.toBe(before?.etag);
    });
  });

  describe('models, listing', () => {
    it('lists models page by page on every order field, both directions', async () => {
      const ns = newNamespace();
      const nsPk = await write(async (r) => {
        await r.namespaces.create(ns);
        return (await r.namespaces.pkOf(ns.namespace_id))!;
      });
      // Each order differs from the insertion order and has ties, broken by primary key.
      const ids = ['m-d', 'm-a', 'm-f', 'm-c', 'm-b', 'm-e'];
      const created = [3, 1, 3, 0, 2, 1];
      const latest = [2, 2, 0, 5, 1, 0];
      const updated = [9, 8, 7, 8, 9, 7];
      await write(async (r) => {
        for (const [i, model_id] of ids.entries()) {
          await r.models.create(newModel(nsPk, { model_id, time: T0 + created[i]! }));
          const pk = (await r.models.key(ns.namespace_id, model_id))!.pk;
          for (let v = 0; v < latest[i]!; v++) await r.models.nextVersion(pk, T0);
          await r.models.touch(pk, T0 + 1000 + updated[i]!);
        }
      });
      const order = (f: (i: number) => number | string) =>
        ids
          .map((_, i) => i)
          .sort((a, b) => {
            const [x, y] = [f(a), f(b)];
            return x < y ? -1 : x > y ? 1 : a - b;
          })
          .map((i) => ids[i]);
      const expected: Record<string, (string | undefined)[]> = {
        name: order((i) => ids[i]!),
        model_id: order((i) => ids[i]!),
        create_time: order((i) => created[i]!),
        update_time: order((i) => updated[i]!),
        latest_version: order((i) => latest[i]!),
      };
      for (const [field, asc] of Object.entries(expected)) {
        for (const desc of [false, true]) {
          for (const limit of [1, 2, 4, 50]) {
            const got = await read((r) =>
              allPages(
                (after, l) => r.models.list(nsPk, listQuery({ orderBy: { field, desc }, after, limit: l })),
                limit,
              ),
            );
            expect(
              got.map((m) => m.model_id),
              `${field} ${desc ? 'desc' : 'asc'} limit ${limit}`,
            ).toEqual(desc ? [...asc].reverse() : asc);
          }
        }
      }
    });

    it('lists across all namespaces when no namespace is given', async () => {
      const a = await seedModel({ probe: 'x' });
      const b = await seedModel({ probe: 'x' });
      const listed = await read((r) =>
        r.models.list(
          null,
          listQuery({
            filter: parseFilter('labels.probe=x'),
            orderBy: { field: 'create_time', desc: false },
          }),
        ),
      );
      expect(listed.map((l) => l.item.name)).toEqual(
        expect.arrayContaining([
          `namespaces/${a.ns}/models/${a.model}`,
          `namespaces/${b.ns}/models/${b.model}`,
        ]),
      );
    });
  });

  describe('versions', () => {
    it('inserts a version and reads it back with its aliases', async () => {
      const m = await seedModel();
      const input = newVersion(m.pk, 1, {
        status: 'validated',
        description: 'first cut',
        labels: { stage: 'dev', accuracy: '0.91' },
        metadata: { framework: 'torch', params: { layers: 50 }, tags: ['a', 'b'] },
        source_uri: 's3://models/resnet/1',
        created_by: 'bob',
        time: T0 + 7,
      });
      await write(async (r) => {
        await r.versions.insert(input);
        await r.aliases.set(m.pk, 'latest', 1, T0);
        await r.aliases.set(m.pk, 'champion', 1, T0);
      });
      expect(await read((r) => r.versions.get(m.pk, 1))).toEqual({
        name: `namespaces/${m.ns}/models/${m.model}/versions/1`,
        model: `namespaces/${m.ns}/models/${m.model}`,
        uid: input.uid,
        version: 1,
        status: 'validated',
        description: 'first cut',
        labels: { stage: 'dev', accuracy: '0.91' },
        metadata: { framework: 'torch', params: { layers: 50 }, tags: ['a', 'b'] },
        source_uri: 's3://models/resnet/1',
        artifact: null,
        signature: null,
        aliases: ['champion', 'latest'],
        created_by: 'bob',
        create_time: new Date(T0 + 7).toISOString(),
        update_time: new Date(T0 + 7).toISOString(),
        etag: expect.any(String),
      });
      expect(await read((r) => r.versions.get(m.pk, 2))).toBeUndefined();
    });

    it('registers the next version with its labels and its created history entry', async () => {
      const m = await seedVersions(2);
      const before = (await read((r) => r.models.key(m.ns, m.model)))!;
      const {
        model_pk: _,
        version: __,
        ...draft
      } = newVersion(m.pk, 0, {
        description: "it's \"quoted\", 'twice' -- and ünïcødé",
        labels: { stage: 'dev', team: "o'brien" },
        metadata: { framework: 'onnx', layers: [1, 2] },
        created_by: 'carol',
        time: T0 + 9,
      });
      const key = await write((r) => r.versions.register(m.ns, m.model, draft));
      expect(key).toEqual({ ...before, revision: before.revision + 1, latest_version: 3 });
      expect(await read((r) => r.versions.get(m.pk, 3))).toMatchObject({
        uid: draft.uid,
        version: 3,
        status: 'registered',
        description: draft.description,
        labels: draft.labels,
        metadata: draft.metadata,
        source_uri: draft.source_uri,
        created_by: 'carol',
        create_time: new Date(T0 + 9).toISOString(),
        update_time: new Date(T0 + 9).toISOString(),
      });
      expect((await read((r) => r.history.list(m.pk, 3, null, 10))).map((l) => l.item)).toEqual([
        {
          version: 3,
          kind: 'created',
          from_status: null,
          to_status: 'registered',
          alias: null,
          actor: 'carol',
          reason: '',
          time: new Date(T0 + 9).toISOString(),
        },
      ]);
      // The label index has its rows: a filter finds the version.
      const found = await read((r) =>
        r.versions.list(m.pk, listQuery({ filter: parseFilter(`labels.team="o'brien"`) })),
      );
      expect(found.map((l) => l.item.version)).toEqual([3]);
      const next = await write((r) => r.versions.register(m.ns, m.model, { ...draft, uid: newUid() }));
      expect(next?.latest_version).toBe(4);
    });

    it('registers nothing for a model or namespace that does not exist', async () => {
      const m = await seedVersions(1);
      const { model_pk: _, version: __, ...draft } = newVersion(m.pk, 0);
      expect(await write((r) => r.versions.register(m.ns, 'no-such-model', draft))).toBeUndefined();
      expect(await write((r) => r.versions.register('no-such-namespace', m.model, draft))).toBeUndefined();
      expect((await read((r) => r.models.key(m.ns, m.model)))!.latest_version).toBe(1);
      expect(await read((r) => r.versions.get(m.pk, 2))).toBeUndefined();
    });

    it('returns the key of a version', async () => {
      const m = await seedVersions(2);
      const key = await read((r) => r.versions.key(m.pk, 2));
      expect(key).toEqual({
        pk: expect.any(Number),
        uid: (await read((r) => r.versions.get(m.pk, 2)))!.uid,
        model_pk: m.pk,
        version: 2,
        status: 'registered',
        revision: 1,
        created_by: 'alice',
      });
      expect(key!.pk).not.toBe((await read((r) => r.versions.key(m.pk, 1)))!.pk);
      expect(await read((r) => r.versions.key(m.pk, 3))).toBeUndefined();
    });

    it('lists versions page by page on every order field, both directions', async () => {
      const m = await seedModel();
      // create_time is not monotonic in the version number; update_time has ties broken by primary key.
      const created = [5, 1, 4, 1, 3, 9, 2];
      const updated = [2, 2, 1, 1, 2, 1, 3];
      await write(async (r) => {
        for (const [i, c] of created.entries()) {
          await r.versions.insert(newVersion(m.pk, i + 1, { time: T0 + c * MINUTE }));
          const pk = (await r.versions.key(m.pk, i + 1))!.pk;
          await r.versions.setStatus(pk, 'registered', 'validated', T0 + 100 * MINUTE + updated[i]!);
        }
      });
      const versions = [1, 2, 3, 4, 5, 6, 7];
      const by = (f: (v: number) => number) => [...versions].sort((a, b) => f(a) - f(b) || a - b);
      const expected: Record<string, number[]> = {
        version: versions,
        name: versions,
        create_time: by((v) => created[v - 1]!),
        update_time: by((v) => updated[v - 1]!),
      };
      for (const [field, asc] of Object.entries(expected)) {
        for (const desc of [false, true]) {
          for (const limit of [1, 2, 3, 50]) {
            const got = await read((r) =>
              allPages(
                (after, l) => r.versions.list(m.pk, listQuery({ orderBy: { field, desc }, after, limit: l })),
                limit,
              ),
            );
            expect(
              got.map((v) => v.version),
              `${field} ${desc ? 'desc' : 'asc'} limit ${limit}`,
            ).toEqual(desc ? [...asc].reverse() : asc);
          }
        }
      }
    });

    it('lists only the versions of the given model', async () => {
      const a = await seedVersions(2);
      await seedVersions(3);
      const listed = await read((r) =>
        r.versions.list(a.pk, listQuery({ orderBy: { field: 'version', desc: true } })),
      );
      expect(listed.map((l) => l.item.name)).toEqual(
        [2, 1].map((v) => `namespaces/${a.ns}/models/${a.model}/versions/${v}`),
      );
    });

    it('updates with compare-and-set on the revision and replaces the labels', async () => {
      const m = await seedModel();
      await write((r) => r.versions.insert(newVersion(m.pk, 1, { labels: { stage: 'dev', old: 'x' } })));
      const pk = (await read((r) => r.versions.key(m.pk, 1)))!.pk;
      expect(
        await write((r) =>
          r.versions.update(pk, 1, { description: 'tuned', labels: { stage: 'prod' } }, T0 + 99),
        ),
      ).toBe(true);
      expect(await write((r) => r.versions.update(pk, 1, { description: 'lost' }, T0 + 100))).toBe(false);
      const version = await read((r) => r.versions.get(m.pk, 1));
      expect(version).toMatchObject({ description: 'tuned', labels: { stage: 'prod' } });
      expect(version?.update_time).toBe(new Date(T0 + 99).toISOString());
      expect((await read((r) => r.versions.key(m.pk, 1)))?.revision).toBe(2);
      const labelled = (text: string) =>
        read((r) => r.versions.list(m.pk, listQuery({ filter: parseFilter(text) }))).then((l) => l.length);
      expect(await labelled('labels.old:*')).toBe(0);
      expect(await labelled('labels.stage=prod')).toBe(1);
    });

    it('sets the status only when it is still the expected one', async () => {
      const m = await seedVersions(1);
      const pk = (await read((r) => r.versions.key(m.pk, 1)))!.pk;
      expect(await write((r) => r.versions.setStatus(pk, 'registered', 'validated', T0 + 1))).toBe(true);
      expect(await write((r) => r.versions.setStatus(pk, 'registered', 'rejected', T0 + 2))).toBe(false);
      const key = await read((r) => r.versions.key(m.pk, 1));
      expect(key).toMatchObject({ status: 'validated', revision: 2 });
      expect((await read((r) => r.versions.get(m.pk, 1)))?.update_time).toBe(new Date(T0 + 1).toISOString());
    });

    it('batch-reads by number and alias, mapping duplicates back to every index and leaving out missing ones', async () => {
      const a = await seedVersions(3);
      const b = await seedVersions(2);
      await write(async (r) => {
        await r.aliases.set(a.pk, 'champion', 2, T0);
        await r.aliases.set(a.pk, 'latest', 3, T0);
        await r.aliases.set(b.pk, 'champion', 1, T0);
      });
      const lookups = [
        { namespace: a.ns, model: a.model, version: 1 }, // 0
        { namespace: a.ns, model: a.model, alias: 'champion' }, // 1 → a/2
        { namespace: b.ns, model: b.model, version: 2 }, // 2
        { namespace: a.ns, model: a.model, version: 1 }, // 3 duplicate of 0
        { namespace: a.ns, model: a.model, version: 99 }, // 4 missing version
        { namespace: a.ns, model: a.model, alias: 'nope' }, // 5 missing alias
        { namespace: b.ns, model: b.model, alias: 'champion' }, // 6 → b/1
        { namespace: a.ns, model: 'missing-model', version: 1 }, // 7 missing model
        { namespace: a.ns, model: a.model, alias: 'champion' }, // 8 duplicate of 1
        { namespace: b.ns, model: a.model, version: 1 }, // 9 model in the wrong namespace
        { namespace: a.ns, model: a.model, version: 2 }, // 10 same version as 1, by number
      ];
      const got = await read((r) => r.versions.batchGet(lookups));
      expect(got.map((g) => [g.index, g.version.name])).toEqual([
        [0, `namespaces/${a.ns}/models/${a.model}/versions/1`],
        [1, `namespaces/${a.ns}/models/${a.model}/versions/2`],
        [2, `namespaces/${b.ns}/models/${b.model}/versions/2`],
        [3, `namespaces/${a.ns}/models/${a.model}/versions/1`],
        [6, `namespaces/${b.ns}/models/${b.model}/versions/1`],
        [8, `namespaces/${a.ns}/models/${a.model}/versions/2`],
        [10, `namespaces/${a.ns}/models/${a.model}/versions/2`],
      ]);
      expect(got.find((g) => g.index === 1)?.version.aliases).toEqual(['champion']);
      expect(await read((r) => r.versions.batchGet([]))).toEqual([]);
    });

    it('batch-reads 3000 lookups', async () => {
      const n = 1500;
      const m = await seedBulk(n, (v) => [`a${v}`]);
      const lookups = Array.from({ length: n }, (_, i) => [
        { namespace: m.ns, model: m.model, version: i + 1 },
        { namespace: m.ns, model: m.model, alias: `a${n - i}` },
      ]).flat();
      expect(lookups).toHaveLength(3000);
      const got = await read((r) => r.versions.batchGet(lookups));
      expect(got).toHaveLength(3000);
      for (const { index, version } of got) {
        const expectedVersion = index % 2 === 0 ? index / 2 + 1 : n - (index - 1) / 2;
        expect(version.version).toBe(expectedVersion);
      }
      expect(got.map((g) => g.index)).toEqual(lookups.map((_, i) => i));
    });
    it('batch-reads status for every batch size alike, agreeing with the full read', async () => {
      // Statements are compiled per power-of-two row count, padded with rows that match nothing:
      // every size from 1 to 70 (and every mix of numbers, aliases and misses) must see exactly its own.
      const m = await seedBulk(40, (v) => (v % 3 === 0 ? [`a${v}`] : []));
      // One version with another status and update time, so the narrow read is seen to read them.
      const second = (await read((r) => r.versions.key(m.pk, 2)))!;
      expect(await write((r) => r.versions.setStatus(second.pk, second.status, 'rejected', T0 + 5))).toBe(
        true,
      );
      for (let size = 1; size <= 70; size++) {
        const lookups = Array.from({ length: size }, (_, i) => {
          const v = ((i * 7 + size) % 45) + 1; // 41..45 do not exist
          return i % 4 === 3
            ? { namespace: m.ns, model: m.model, alias: `a${v}` }
            : { namespace: m.ns, model: m.model, version: v };
        });
        const full = await read((r) => r.versions.batchGet(lookups));
        const status = await read((r) => r.versions.batchGetStatus(lookups));
        const expected = lookups.flatMap((l, index) => {
          const v =
            l.version ?? (l.alias && Number(l.alias.slice(1)) % 3 === 0 ? Number(l.alias.slice(1)) : 0);
          return v >= 1 && v <= 40 ? [[index, v]] : [];
        });
        expect(full.map((g) => [g.index, g.version.version])).toEqual(expected);
        expect(status.map((g) => [g.index, g.version.version])).toEqual(expected);
        for (const [i, s] of status.entries()) {
          const f = full[i]!.version;
          expect(s.version).toEqual({
            name: f.name,
            version: f.version,
            status: f.status,
            update_time: f.update_time,
            etag: f.etag,
          });
        }
      }
    });

    it('batch-reads more lookups than one statement can bind, most of them missing', async () => {
      const existing = 300;
      const m = await seedBulk(existing, (v) => [`a${v}`]);
      // 11,000 distinct lookups of each kind: past the bind-parameter limit of one SQLite statement.
      const n = 11_000;
      const lookups = [
        ...Array.from({ length: n }, (_, i) => ({ namespace: m.ns, model: m.model, version: n - i })),
        ...Array.from({ length: n }, (_, i) => ({ namespace: m.ns, model: m.model, alias: `a${i + 1}` })),
      ];
      const got = await read((r) => r.versions.batchGet(lookups));
      expect(got).toHaveLength(2 * existing);
      for (const { index, version } of got) {
        expect(version.version).toBe(index < n ? n - index : index - n + 1);
      }
      expect(got.map((g) => g.index)).toEqual([
        ...Array.from({ length: existing }, (_, i) => n - existing + i),
        ...Array.from({ length: existing }, (_, i) => n + i),
      ]);
    });
  });

  describe('aliases', () => {
    it('sets an alias and returns the version it pointed at before', async () => {
      const m = await seedVersions(3);
      expect(await write((r) => r.aliases.set(m.pk, 'champion', 1, T0))).toBeUndefined();
      expect(await read((r) => r.aliases.resolve(m.pk, 'champion'))).toBe(1);
      expect(await write((r) => r.aliases.set(m.pk, 'champion', 3, T0 + 1))).toBe(1);
      expect(await read((r) => r.aliases.resolve(m.pk, 'champion'))).toBe(3);
      expect(await write((r) => r.aliases.set(m.pk, 'champion', 3, T0 + 2))).toBe(3);
    });

    it('moves an alias from one version to another', async () => {
      const m = await seedVersions(2);
      await write((r) => r.aliases.set(m.pk, 'champion', 1, T0));
      await write((r) => r.aliases.set(m.pk, 'champion', 2, T0));
      expect((await read((r) => r.versions.get(m.pk, 1)))?.aliases).toEqual([]);
      expect((await read((r) => r.versions.get(m.pk, 2)))?.aliases).toEqual(['champion']);
      expect((await read((r) => r.models.get(m.ns, m.model)))?.aliases).toEqual({ champion: 2 });
    });

    it('unsets an alias and returns the version it pointed at, or undefined', async () => {
      const m = await seedVersions(2);
      await write((r) => r.aliases.set(m.pk, 'champion', 2, T0));
      expect(await write((r) => r.aliases.unset(m.pk, 'champion'))).toBe(2);
      expect(await write((r) => r.aliases.unset(m.pk, 'champion'))).toBeUndefined();
      expect(await read((r) => r.aliases.resolve(m.pk, 'champion'))).toBeUndefined();
    });

    it('keeps aliases of different models apart', async () => {
      const a = await seedVersions(2);
      const b = await seedVersions(2);
      await write(async (r) => {
        await r.aliases.set(a.pk, 'champion', 1, T0);
        await r.aliases.set(b.pk, 'champion', 2, T0);
      });
      expect(await read((r) => r.aliases.resolve(a.pk, 'champion'))).toBe(1);
      expect(await read((r) => r.aliases.resolve(b.pk, 'champion'))).toBe(2);
      await write((r) => r.aliases.unset(a.pk, 'champion'));
      expect(await read((r) => r.aliases.resolve(b.pk, 'champion'))).toBe(2);
    });
  });

  describe('history', () => {
    it('lists the entries of one version in append order, with after and limit', async () => {
      const m = await seedVersions(2);
      const entries = [
        newHistoryEntry(m.pk, 1, {
          kind: 'created',
          from_status: null,
          to_status: 'registered',
          time: T0 + 1,
        }),
        newHistoryEntry(m.pk, 1, { kind: 'transition', reason: 'checks passed', time: T0 + 2 }),
        newHistoryEntry(m.pk, 1, {
          kind: 'alias_set',
          from_status: null,
          to_status: null,
          alias: 'champion',
          actor: 'bob',
          time: T0 + 3,
        }),
        newHistoryEntry(m.pk, 1, { kind: 'updated', from_status: null, to_status: null, time: T0 + 4 }),
        newHistoryEntry(m.pk, 1, {
          kind: 'alias_unset',
          from_status: null,
          to_status: null,
          alias: 'x',
          time: T0 + 5,
        }),
      ];
      await write(async (r) => {
        await r.history.append(entries[0]!);
        await r.history.append(entries[1]!);
        await r.history.append(newHistoryEntry(m.pk, 2, { reason: 'other version' }));
        for (const e of entries.slice(2)) await r.history.append(e);
      });
      const all = await read((r) => r.history.list(m.pk, 1, null, 100));
      expect(all.map((l) => l.item)).toEqual(
        entries.map(({ model_pk: _, time, ...rest }) => ({ ...rest, time: new Date(time).toISOString() })),
      );
      const ids = all.map((l) => l.keyset[0] as number);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      const page = await read((r) => r.history.list(m.pk, 1, ids[1]!, 2));
      expect(page.map((l) => l.item.kind)).toEqual(['alias_set', 'updated']);
      expect(await read((r) => r.history.list(m.pk, 1, ids[4]!, 10))).toEqual([]);
      expect((await read((r) => r.history.list(m.pk, 2, null, 10))).map((l) => l.item.reason)).toEqual([
        'other version',
      ]);
    });
  });

  describe('idempotency keys', () => {
    it('finds a saved response', async () => {
      const key = unique('key');
      expect(await read((r) => r.idempotency.find('alice create', key))).toBeUndefined();
      const response = { name: 'namespaces/x', nested: { n: 1, list: [true, null] } };
      await write((r) => r.idempotency.save('alice create', key, 'fp1', response, T0));
      expect(await read((r) => r.idempotency.find('alice create', key))).toEqual({
        fingerprint: 'fp1',
        response,
      });
      expect(await read((r) => r.idempotency.find('bob create', key))).toBeUndefined();
    });

    it('fails a duplicate save and rolls back its whole transaction', async () => {
      const key = unique('key');
      await write((r) => r.idempotency.save('scope', key, 'first', { n: 1 }, T0));
      const ns = newNamespace();
      await expect(
        write(async (r) => {
          await r.namespaces.create(ns);
          await r.idempotency.save('scope', key, 'second', { n: 2 }, T0);
        }),
      ).rejects.toThrow();
      expect(await read((r) => r.namespaces.get(ns.namespace_id))).toBeUndefined();
      expect(await read((r) => r.idempotency.find('scope', key))).toEqual({
        fingerprint: 'first',
        response: { n: 1 },
      });
    });

    it('reports a duplicate save as ALREADY_EXISTS, as the port promises', async () => {
      const key = unique('key');
      await write((r) => r.idempotency.save('scope', key, 'first', {}, T0));
      const err = await write((r) => r.idempotency.save('scope', key, 'second', {}, T0)).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(QuiverError);
      expect((err as QuiverError).code).toBe('ALREADY_EXISTS');
    });

    it('deletes keys older than a time', async () => {
      const scope = unique('scope');
      await write(async (r) => {
        await r.idempotency.save(scope, 'old', 'f', {}, 1_000);
        await r.idempotency.save(scope, 'new', 'f', {}, 3_000);
      });
      expect(await write((r) => r.idempotency.deleteOlderThan(2_000))).toBeGreaterThanOrEqual(1);
      expect(await read((r) => r.idempotency.find(scope, 'old'))).toBeUndefined();
      expect(await read((r) => r.idempotency.find(scope, 'new'))).toBeDefined();
    });
  });

  describe('settings', () => {
    it('keeps the first value of a key', async () => {
      const key = unique('setting');
      expect(await read((r) => r.settings.get(key))).toBeUndefined();
      expect(await write((r) => r.settings.putIfAbsent(key, 'first'))).toBe('first');
      expect(await write((r) => r.settings.putIfAbsent(key, 'second'))).toBe('first');
      expect(await read((r) => r.settings.get(key))).toBe('first');
    });
  });

  describe('deployments, followed by change', () => {
    it('pages through changes in (update time, pk) order, each page after the last, ties included', async () => {
      const m = await seedModel();
      const base = 1_900_000_000_000;
      // Seven deployments sharing three update times, created out of time order.
      const times = [base + 2, base, base + 1, base + 1, base, base + 2, base + 1];
      const made = await write(async (r) => {
        const out = [];
        for (const [i, time] of times.entries()) {
          out.push(
            await r.deployments.create({
              uid: `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`,
              deployment_id: unique('dep'),
              model_pk: m.pk,
              model: `namespaces/${m.ns}/models/${m.model}`,
              traffic: [{ version: '1', percent: 100 }],
              replicas: 1,
              batching: null,
              time,
            }),
          );
        }
        return out;
      });
      const expected = [...made]
        .sort((a, b) => a.update_time - b.update_time || a.pk - b.pk)
        .map((d) => d.deployment_id);
      const seen: string[] = [];
      let from = { time: base, pk: 0 };
      for (let guard = 0; guard < 10; guard++) {
        const page = await read((r) => r.deployments.changedSince(from, 3));
        seen.push(...page.filter((d) => made.some((x) => x.pk === d.pk)).map((d) => d.deployment_id));
        const last = page.at(-1);
        if (!last || page.length < 3) break;
        from = { time: last.update_time, pk: last.pk };
      }
      expect(seen).toEqual(expected);
      // What create returned (without reading the row back) is what the row holds.
      const stored = await read((r) => r.deployments.getMany(made.map((d) => d.deployment_id)));
      expect([...stored].sort((a, b) => a.pk - b.pk)).toEqual([...made].sort((a, b) => a.pk - b.pk));
      // Starting at a time includes the changes made at that very time.
      const fromMiddle = await read((r) => r.deployments.changedSince({ time: base + 1, pk: 0 }, 100));
      expect(fromMiddle.filter((d) => made.some((x) => x.pk === d.pk))).toHaveLength(5);
    });
  });

  describe('bulk loader', () => {
    it('inserts models and returns their primary keys in input order', async () => {
      const ns = newNamespace();
      const nsPk = await write(async (r) => {
        await r.namespaces.create(ns);
        return (await r.namespaces.pkOf(ns.namespace_id))!;
      });
      // Ids deliberately not in insertion order, so a sorted RETURNING would be caught.
      const rows = ['m-c', 'm-a', 'm-e', 'm-b', 'm-d'].map((model_id, i) =>
        newBulkModel(nsPk, { model_id, labels: { rank: String(i) }, latest_version: i, time: T0 + i }),
      );
      const pks = await write((r) => r.bulk.insertModels(rows));
      expect(new Set(pks).size).toBe(rows.length);
      for (const [i, row] of rows.entries()) {
        const key = await read((r) => r.models.key(ns.namespace_id, row.model_id));
        expect(key?.pk, row.model_id).toBe(pks[i]);
        expect(key?.latest_version).toBe(i);
        const model = await read((r) => r.models.get(ns.namespace_id, row.model_id));
        expect(model?.labels).toEqual({ rank: String(i) });
      }
      const ranked = await read((r) =>
        r.models.list(nsPk, listQuery({ filter: parseFilter('labels.rank=3') })),
      );
      expect(ranked.map((l) => l.item.model_id)).toEqual(['m-b']);
    });

    it('returns the right keys when the same model id is loaded into two namespaces at once', async () => {
      const [a, b] = [newNamespace(), newNamespace()];
      const [pa, pb] = await write(async (r) => {
        await r.namespaces.create(a);
        await r.namespaces.create(b);
        return [(await r.namespaces.pkOf(a.namespace_id))!, (await r.namespaces.pkOf(b.namespace_id))!];
      });
      const rows = [
        newBulkModel(pa, { model_id: 'shared', labels: { owner: 'a' } }),
        newBulkModel(pb, { model_id: 'shared', labels: { team: 'b' } }),
      ];
      const pks = await write((r) => r.bulk.insertModels(rows));
      expect(pks).toEqual([
        (await read((r) => r.models.key(a.namespace_id, 'shared')))?.pk,
        (await read((r) => r.models.key(b.namespace_id, 'shared')))?.pk,
      ]);
      const filtered = (nsPk: number, text: string) =>
        read((r) => r.models.list(nsPk, listQuery({ filter: parseFilter(text) }))).then((l) => l.length);
      expect(await filtered(pa, 'labels.owner=a')).toBe(1);
      expect(await filtered(pb, 'labels.team=b')).toBe(1);
      expect(await filtered(pa, 'labels.team:*')).toBe(0);
    });

    it('loads more rows than one statement can bind', async () => {
      const ns = newNamespace();
      const nsPk = await write(async (r) => {
        await r.namespaces.create(ns);
        return (await r.namespaces.pkOf(ns.namespace_id))!;
      });
      const models = Array.from({ length: 7_000 }, (_, i) =>
        newBulkModel(nsPk, {
          model_id: `bulk-${i}`,
          labels: { parity: String(i % 2), group: String(i % 7) },
          ...(i === 0 ? { aliases: { newest: 6_000 }, latest_version: 6_000 } : {}),
        }),
      );
      const pks = await write((r) => r.bulk.insertModels(models));
      expect(pks).toHaveLength(models.length);
      expect(new Set(pks).size).toBe(models.length);
      for (const i of [0, 3275, 3276, 3277, 6552, 6553, 6999]) {
        expect((await read((r) => r.models.key(ns.namespace_id, `bulk-${i}`)))?.pk, `row ${i}`).toBe(pks[i]);
      }
      const versions = Array.from({ length: 6_000 }, (_, i) =>
        newBulkVersion(pks[0]!, i + 1, {
          labels: { n: String(i + 1) },
          aliases: i === 5_999 ? ['newest'] : [],
        }),
      );
      await write((r) => r.bulk.insertVersions(versions));
      const odd = await read((r) =>
        r.models.list(
          nsPk,
          listQuery({ filter: parseFilter('labels.parity=1 labels.group=3'), limit: 1000 }),
        ),
      );
      expect(odd).toHaveLength(models.filter((_, i) => i % 2 === 1 && i % 7 === 3).length);
      expect(await read((r) => r.models.countVersions(pks[0]!, 'archived'))).toBe(6_000);
      const last = await read((r) => r.versions.get(pks[0]!, 6_000));
      expect(last).toMatchObject({ labels: { n: '6000' }, aliases: ['newest'] });
      expect(await read((r) => r.aliases.resolve(pks[0]!, 'newest'))).toBe(6_000);
      expect(await read((r) => r.history.list(pks[0]!, 5_999, null, 10))).toHaveLength(1);
    });

    it('inserts versions with their labels, a created history entry and aliases', async () => {
      // The model row carries the alias map, matching the aliases given with the versions (see BulkModel).
      const ns = newNamespace();
      const model = newBulkModel(0, { aliases: { champion: 2, latest: 2, old: 3 }, latest_version: 3 });
      const pk = await write(async (r) => {
        await r.namespaces.create(ns);
        const nsPk = (await r.namespaces.pkOf(ns.namespace_id))!;
        return (await r.bulk.insertModels([{ ...model, namespace_pk: nsPk }]))[0]!;
      });
      const m = { ns: ns.namespace_id, model: model.model_id, pk };
      const rows = [
        newBulkVersion(m.pk, 1, { labels: { stage: 'dev' }, aliases: [], time: T0 + 1 }),
        newBulkVersion(m.pk, 2, {
          status: 'approved',
          labels: { stage: 'prod', gpu: 'a100' },
          aliases: ['champion', 'latest'],
          created_by: 'bob',
          time: T0 + 2,
        }),
        newBulkVersion(m.pk, 3, { status: 'archived', aliases: ['old'], time: T0 + 3 }),
      ];
      await write((r) => r.bulk.insertVersions(rows));
      const v2 = await read((r) => r.versions.get(m.pk, 2));
      expect(v2).toMatchObject({
        status: 'approved',
        labels: { stage: 'prod', gpu: 'a100' },
        aliases: ['champion', 'latest'],
        created_by: 'bob',
        create_time: new Date(T0 + 2).toISOString(),
      });
      expect((await read((r) => r.models.get(m.ns, m.model)))?.aliases).toEqual({
        champion: 2,
        latest: 2,
        old: 3,
      });
      expect(await read((r) => r.versions.get(m.pk, 3))).toMatchObject({ aliases: ['old'] });
      for (const [alias, v] of [
        ['champion', 2],
        ['latest', 2],
        ['old', 3],
      ] as const) {
        expect(await read((r) => r.aliases.resolve(m.pk, alias)), alias).toBe(v);
      }
      const byAlias = await read((r) =>
        r.versions.batchGet([{ namespace: m.ns, model: m.model, alias: 'old' }]),
      );
      expect(byAlias.map((g) => g.version.version)).toEqual([3]);
      const history = await read((r) => r.history.list(m.pk, 2, null, 10));
      expect(history.map((l) => l.item)).toEqual([
        {
          kind: 'created',
          version: 2,
          from_status: null,
          to_status: 'approved',
          alias: null,
          actor: 'bob',
          reason: 'seeded',
          time: new Date(T0 + 2).toISOString(),
        },
      ]);
      const prod = await read((r) =>
        r.versions.list(m.pk, listQuery({ filter: parseFilter('labels.stage=prod') })),
      );
      expect(prod.map((l) => l.item.version)).toEqual([2]);
      expect(await read((r) => r.models.countVersions(m.pk, 'archived'))).toBe(2);
    });
  });
});
