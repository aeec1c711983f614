import { join } from 'node:path';
import { type LogEvent, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { SqlDialect } from '../../src/adapters/sql/dialects/dialect.js';
import { postgresDialect } from '../../src/adapters/sql/dialects/postgres.js';
import { sqliteDialect } from '../../src/adapters/sql/dialects/sqlite.js';
import { QuiverMigrations } from '../../src/adapters/sql/migrations/index.js';
import { SqlStore } from '../../src/adapters/sql/store.js';
import { newNamespace } from '../support/builders.js';
import { backends, POSTGRES_URL, type TestDatabase, testDatabase, withClient } from '../support/databases.js';

const BACKENDS = await backends();
/** Every migration the code knows, in order: each must have run exactly once. */
const MIGRATIONS = Object.keys(await new QuiverMigrations({} as SqlDialect).getMigrations()).sort();

const TABLES = [
  'quiver_settings',
  'namespaces',
  'models',
  'model_labels',
  'model_versions',
  'version_labels',
  'aliases',
  'version_history',
  'idempotency_keys',
];

/** Every list order and label lookup has an index; the column lists are keyset-ready (sort columns, then id). */
const INDEXES: Record<string, string> = {
  namespaces_by_create_time: 'namespaces (create_time, id)',
  models_ns_by_create_time: 'models (namespace_pk, create_time, id)',
  models_ns_by_update_time: 'models (namespace_pk, update_time, id)',
  models_ns_by_latest_version: 'models (namespace_pk, latest_version, id)',
  models_by_create_time: 'models (create_time, id)',
  models_by_update_time: 'models (update_time, id)',
  models_by_latest_version: 'models (latest_version, id)',
  models_by_model_id: 'models (model_id, id)',
  model_labels_by_key_value: 'model_labels (key, value, model_pk)',
  versions_by_create_time: 'model_versions (model_pk, create_time, id)',
  versions_by_update_time: 'model_versions (model_pk, update_time, id)',
  versions_by_status: 'model_versions (model_pk, status, version)',
  version_labels_by_key_value: 'version_labels (key, value, version_pk)',
  aliases_by_version: 'aliases (model_pk, version)',
  version_history_by_version: 'version_history (model_pk, version, id)',
  idempotency_keys_by_time: 'idempotency_keys (create_time)',
};

/** Statements that change the schema (the migrator's own bookkeeping reads are fine). */
const isDdl = (e: LogEvent) => /^\s*(create|alter|drop)\s/i.test(e.query.sql);

describe.runIf(BACKENDS.includes('postgres'))('migrations (postgres)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function freshSchema(): Promise<TestDatabase & { schema: string }> {
    const db = await testDatabase('postgres');
    cleanup.push(() => db.drop());
    return db as TestDatabase & { schema: string };
  }

  async function open(schema: string, onQuery?: (e: LogEvent) => void): Promise<SqlStore> {
    const store = await SqlStore.open(
      postgresDialect({ url: POSTGRES_URL, schema, poolSize: 2 }),
      onQuery ? { onQuery } : {},
    );
    cleanup.push(() => store.close());
    return store;
  }

  const migrationsRun = (schema: string) =>
    withClient(
      (c) => c.query<{ name: string }>('select name from quiver_migrations order by name'),
      schema,
    ).then((r) => r.rows.map((row) => row.name));

  it('migrates a fresh schema exactly once when four stores open it at the same time', async () => {
    const { schema } = await freshSchema();
    const stores = await Promise.all([1, 2, 3, 4].map(() => open(schema)));
    expect(await migrationsRun(schema)).toEqual(MIGRATIONS);
    const created = stores.map(() => newNamespace());
    await Promise.all(
      stores.map((s, i) => s.ping().then(() => s.write((r) => r.namespaces.create(created[i]!)))),
    );
    for (const s of stores) {
      for (const ns of created) expect(await s.read((r) => r.namespaces.get(ns.namespace_id))).toBeDefined();
    }
  });

  it('reopens an already migrated schema without changing it', async () => {
    const { schema } = await freshSchema();
    const first = await open(schema);
    const ns = newNamespace();
    await first.write((r) => r.namespaces.create(ns));
    const ddl: string[] = [];
    const again = await open(schema, (e) => {
      if (isDdl(e)) ddl.push(e.query.sql);
    });
    expect(ddl).toEqual([]);
    expect(await migrationsRun(schema)).toEqual(MIGRATIONS);
    expect(await again.read((r) => r.namespaces.get(ns.namespace_id))).toMatchObject({
      namespace_id: ns.namespace_id,
    });
  });

  it('creates the tables, the keyset indexes and byte-ordered text columns', async () => {
    const { schema } = await freshSchema();
    await open(schema);
    const { tables, indexes, collations } = await withClient(async (c) => ({
      tables: (
        await c.query<{ tablename: string }>('select tablename from pg_tables where schemaname = $1', [
          schema,
        ])
      ).rows.map((r) => r.tablename),
      indexes: (
        await c.query<{ indexname: string; indexdef: string }>(
          'select indexname, indexdef from pg_indexes where schemaname = $1',
          [schema],
        )
      ).rows,
      collations: (
        await c.query<{ table_name: string; column_name: string; collation_name: string | null }>(
          `select table_name, column_name, collation_name from information_schema.columns
            where table_schema = $1 and data_type = 'text' and table_name = any($2)`,
          [schema, TABLES],
        )
      ).rows,
    }));
    expect(tables).toEqual(
      expect.arrayContaining([...TABLES, 'quiver_migrations', 'quiver_migrations_lock']),
    );
    const byName = new Map(indexes.map((i) => [i.indexname, i.indexdef]));
    for (const [name, shape] of Object.entries(INDEXES)) {
      const def = byName.get(name);
      expect(def, `index ${name}`).toBeDefined();
      const [table, columns] = shape.split(' (');
      expect(def).toContain(`ON ${schema}.${table} USING btree (${columns}`);
    }
    // Prefix filters compile to ranges and name orders must be bytewise: every text column sorts by code point.
    expect(collations.length).toBeGreaterThan(20);
    expect(collations.filter((c) => c.collation_name !== 'C')).toEqual([]);
  });

  it('opens a fresh schema while another schema of the same database holds a migrated store', async () => {
    const a = await freshSchema();
    const b = await freshSchema();
    await open(a.schema);
    const store = await open(b.schema);
    await store.write((r) => r.namespaces.create(newNamespace()));
    expect(await migrationsRun(b.schema)).toEqual(MIGRATIONS);
  });
});

describe('migrations (sqlite)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('reopens the same file without changing it and keeps its data', async () => {
    const db = await testDatabase('sqlite');
    cleanup.push(() => db.drop());
    const file = join(db.config.dataDir, 'quiver.db');

    const first = await SqlStore.open(sqliteDialect(file));
    const ns = newNamespace();
    await first.write((r) => r.namespaces.create(ns));
    await first.close();

    for (let i = 0; i < 2; i++) {
      const ddl: string[] = [];
      const store = await SqlStore.open(sqliteDialect(file), {
        onQuery: (e) => {
          if (isDdl(e)) ddl.push(e.query.sql);
        },
      });
      try {
        expect(ddl).toEqual([]);
        const { rows: tables } = await sql<{
          name: string;
        }>`select name from sqlite_master where type = 'table'`.execute(store.db);
        expect(tables.map((t) => t.name)).toEqual(
          expect.arrayContaining([...TABLES, 'quiver_migrations', 'quiver_migrations_lock']),
        );
        const { rows: indexes } = await sql<{
          name: string;
        }>`select name from sqlite_master where type = 'index'`.execute(store.db);
        expect(indexes.map((t) => t.name)).toEqual(expect.arrayContaining(Object.keys(INDEXES)));
        const { rows: migrations } = await sql<{ name: string }>`select name from quiver_migrations`.execute(
          store.db,
        );
        expect(migrations.map((m) => m.name)).toEqual(MIGRATIONS);
        expect(await store.read((r) => r.namespaces.get(ns.namespace_id))).toMatchObject({
          namespace_id: ns.namespace_id,
        });
      } finally {
        await store.close();
      }
    }
  });
});
