import type { Kysely } from 'kysely';
import type { SqlDialect } from '../dialects/dialect.js';

/** Namespaces, models, versions, labels, aliases, lifecycle history, idempotency keys. */
export async function up(db: Kysely<unknown>, d: SqlDialect): Promise<void> {
  await db.schema
    .createTable('quiver_settings')
    .addColumn('key', d.text, (c) => c.primaryKey())
    .addColumn('value', d.text, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('namespaces')
    .addColumn('id', d.idType, (c) => d.primaryKey(c))
    .addColumn('uid', d.text, (c) => c.notNull().unique())
    .addColumn('namespace_id', d.text, (c) => c.notNull().unique())
    .addColumn('description', d.text, (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('namespaces_by_create_time')
    .on('namespaces')
    .columns(['create_time', 'id'])
    .execute();

  await db.schema
    .createTable('models')
    .addColumn('id', d.idType, (c) => d.primaryKey(c))
    .addColumn('uid', d.text, (c) => c.notNull().unique())
    .addColumn('namespace_pk', 'bigint', (c) => c.notNull().references('namespaces.id'))
    .addColumn('model_id', d.text, (c) => c.notNull())
    .addColumn('description', d.text, (c) => c.notNull())
    .addColumn('labels', d.text, (c) => c.notNull())
    // Alias → version map, kept in step with the aliases table by every alias write (read on every model read).
    .addColumn('aliases', d.text, (c) => c.notNull().defaultTo('{}'))
    .addColumn('latest_version', 'integer', (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addUniqueConstraint('models_namespace_model_id', ['namespace_pk', 'model_id'])
    .execute();
  // One index per list order, keyset-ready (sort columns then id), within a namespace and across all.
  for (const col of ['create_time', 'update_time', 'latest_version'] as const) {
    await db.schema
      .createIndex(`models_ns_by_${col}`)
      .on('models')
      .columns(['namespace_pk', col, 'id'])
      .execute();
    await db.schema.createIndex(`models_by_${col}`).on('models').columns([col, 'id']).execute();
  }
  await db.schema.createIndex('models_by_model_id').on('models').columns(['model_id', 'id']).execute();

  await db.schema
    .createTable('model_labels')
    .addColumn('model_pk', 'bigint', (c) => c.notNull().references('models.id').onDelete('cascade'))
    .addColumn('key', d.text, (c) => c.notNull())
    .addColumn('value', d.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('model_labels_pk', ['model_pk', 'key'])
    .execute();
  await db.schema
    .createIndex('model_labels_by_key_value')
    .on('model_labels')
    .columns(['key', 'value', 'model_pk'])
    .execute();

  await db.schema
    .createTable('model_versions')
    .addColumn('id', d.idType, (c) => d.primaryKey(c))
    .addColumn('uid', d.text, (c) => c.notNull().unique())
    .addColumn('model_pk', 'bigint', (c) => c.notNull().references('models.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('status', d.text, (c) => c.notNull())
    .addColumn('description', d.text, (c) => c.notNull())
    .addColumn('labels', d.text, (c) => c.notNull())
    .addColumn('metadata', d.text, (c) => c.notNull())
    .addColumn('source_uri', d.text, (c) => c.notNull())
    .addColumn('created_by', d.text, (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addUniqueConstraint('model_versions_model_version', ['model_pk', 'version'])
    .execute();
  for (const col of ['create_time', 'update_time'] as const) {
    await db.schema
      .createIndex(`versions_by_${col}`)
      .on('model_versions')
      .columns(['model_pk', col, 'id'])
      .execute();
  }
  await db.schema
    .createIndex('versions_by_status')
    .on('model_versions')
    .columns(['model_pk', 'status', 'version'])
    .execute();

  await db.schema
    .createTable('version_labels')
    .addColumn('version_pk', 'bigint', (c) => c.notNull().references('model_versions.id').onDelete('cascade'))
    .addColumn('key', d.text, (c) => c.notNull())
    .addColumn('value', d.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('version_labels_pk', ['version_pk', 'key'])
    .execute();
  await db.schema
    .createIndex('version_labels_by_key_value')
    .on('version_labels')
    .columns(['key', 'value', 'version_pk'])
    .execute();

  await db.schema
    .createTable('aliases')
    .addColumn('model_pk', 'bigint', (c) => c.notNull().references('models.id').onDelete('cascade'))
    .addColumn('alias', d.text, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('aliases_pk', ['model_pk', 'alias'])
    .execute();
  await db.schema.createIndex('aliases_by_version').on('aliases').columns(['model_pk', 'version']).execute();

  await db.schema
    .createTable('version_history')
    .addColumn('id', d.idType, (c) => d.primaryKey(c))
    .addColumn('model_pk', 'bigint', (c) => c.notNull().references('models.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('kind', d.text, (c) => c.notNull())
    .addColumn('from_status', d.text)
    .addColumn('to_status', d.text)
    .addColumn('alias', d.text)
    .addColumn('actor', d.text, (c) => c.notNull())
    .addColumn('reason', d.text, (c) => c.notNull())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('version_history_by_version')
    .on('version_history')
    .columns(['model_pk', 'version', 'id'])
    .execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('scope', d.text, (c) => c.notNull())
    .addColumn('key', d.text, (c) => c.notNull())
    .addColumn('fingerprint', d.text, (c) => c.notNull())
    .addColumn('response', d.text, (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'key'])
    .execute();
  await db.schema
    .createIndex('idempotency_keys_by_time')
    .on('idempotency_keys')
    .column('create_time')
    .execute();
}
