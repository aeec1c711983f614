import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDialect } from '../../src/adapters/sql/dialects/postgres.js';
import { PreparedStatement } from '../../src/adapters/sql/prepared.js';
import { SqlStore } from '../../src/adapters/sql/store.js';
import { newNamespace } from '../support/builders.js';
import { backends, POSTGRES_URL, type TestDatabase, testStore } from '../support/databases.js';

const BACKENDS = await backends();

describe.each(BACKENDS)('prepared statements (%s)', (backend) => {
  let store: SqlStore;
  let database: TestDatabase;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close, db: database } = await testStore(backend));
  });

  afterAll(async () => {
    await close?.();
  });

  const byId = new PreparedStatement<{ id: string; floor: number }>(
    'test.namespaces.byId',
    ['id', 'floor'],
    (db, p) =>
      db
        .selectFrom('namespaces')
        .select(['namespace_id', 'description'])
        .where('namespace_id', '=', p.id)
        .where('create_time', '>=', p.floor)
        .where('description', '!=', 'never this'),
  );

  it('runs the compiled text with each call’s values, constants kept in place', async () => {
    const a = newNamespace();
    const b = newNamespace();
    await store.write(async (r) => {
      await r.namespaces.create(a);
      await r.namespaces.create(b);
    });
    for (const ns of [a, b, a]) {
      const rows = await byId.run<{ namespace_id: string; description: string }>(store.db, store.sqlDialect, {
        id: ns.namespace_id,
        floor: 0,
      });
      expect(rows).toEqual([{ namespace_id: ns.namespace_id, description: ns.description }]);
    }
    const none = await byId.run(store.db, store.sqlDialect, { id: a.namespace_id, floor: a.time + 1 });
    expect(none).toEqual([]);
  });

  it('binds a name used twice at every place it appears', async () => {
    const ns = newNamespace();
    await store.write((r) => r.namespaces.create(ns));
    const twice = new PreparedStatement<{ id: string }>('test.namespaces.twice', ['id'], (db, p) =>
      db
        .selectFrom('namespaces')
        .select('namespace_id')
        .where((eb) => eb.or([eb('namespace_id', '=', p.id), eb('description', '=', p.id)])),
    );
    const rows = await twice.run(store.db, store.sqlDialect, { id: ns.namespace_id });
    expect(rows).toEqual([{ namespace_id: ns.namespace_id }]);
  });

  it('runs inside the transaction it is given (rolled back with it)', async () => {
    const ns = newNamespace();
    const insert = new PreparedStatement<{ id: string; time: number }>(
      'test.namespaces.insert',
      ['id', 'time'],
      (db, p) =>
        db.insertInto('namespaces').values({
          uid: p.id,
          namespace_id: p.id,
          description: '',
          create_time: p.time,
          update_time: p.time,
          revision: 1,
        }),
    );
    await expect(
      store.db.transaction().execute(async (trx) => {
        await insert.run(trx, store.sqlDialect, { id: ns.namespace_id, time: 1 });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await store.read((r) => r.namespaces.pkOf(ns.namespace_id))).toBeUndefined();
  });

  it('refuses a builder that inlines a value or leaves a parameter out', async () => {
    const inlined = new PreparedStatement<{ id: string }>('test.inlined', ['id'], (db, p) =>
      db
        .selectFrom('namespaces')
        .select('namespace_id')
        .where(sql.raw(`namespace_id = '${p.id}'`)),
    );
    await expect(inlined.run(store.db, store.sqlDialect, { id: 'x' })).rejects.toThrow(/inlined/);
    const forgotten = new PreparedStatement<{ id: string; other: string }>(
      'test.forgotten',
      ['id', 'other'],
      (db, p) => db.selectFrom('namespaces').select('namespace_id').where('namespace_id', '=', p.id),
    );
    await expect(forgotten.run(store.db, store.sqlDialect, { id: 'x', other: 'y' })).rejects.toThrow(
      /no bound parameter for other/,
    );
  });

  it('refuses a statement that selects or returns *, whose result type a migration could change', async () => {
    const star = new PreparedStatement<{ id: string }>('test.namespaces.star', ['id'], (db, p) =>
      db.selectFrom('namespaces').selectAll('namespaces').where('namespace_id', '=', p.id),
    );
    await expect(star.run(store.db, store.sqlDialect, { id: 'x' })).rejects.toThrow(/name the columns/);
    const counted = new PreparedStatement<{ id: string }>('test.namespaces.count', ['id'], (db, p) =>
      db
        .selectFrom('namespaces')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('namespace_id', '=', p.id),
    );
    await expect(counted.run(store.db, store.sqlDialect, { id: 'x' })).resolves.toHaveLength(1);
  });

  // PostgreSQL only (no skipped twin on SQLite).
  if (backend === 'postgres')
    it('is parsed once per connection on PostgreSQL (a named statement), other text as before', async () => {
      const one = await SqlStore.open(
        postgresDialect({ url: POSTGRES_URL, schema: database.schema!, poolSize: 1 }),
      );
      try {
        const ns = newNamespace();
        await one.write((r) => r.namespaces.create(ns));
        for (let i = 0; i < 3; i++) await byId.run(one.db, one.sqlDialect, { id: ns.namespace_id, floor: 0 });
        // One connection: what it prepared is visible to the next statement on it.
        const prepared = await sql<{ name: string; statement: string }>`select name, statement
          from pg_prepared_statements`.execute(one.db);
        const texts = prepared.rows.filter((r) => r.name.startsWith('quiver_')).map((r) => r.statement);
        expect(texts.some((t) => t.includes('"namespace_id" = $1'))).toBe(true);
        expect(new Set(texts).size).toBe(texts.length);
      } finally {
        await one.close();
      }
    });
});
