import type { Kysely } from 'kysely';
import type { SqlDialect } from '../dialects/dialect.js';

/**
 * Datasets and their versions, runs, and the lineage edges of model versions. One table per
 * kind of edge, so each edge has real foreign keys and a primary key that makes it unique;
 * each has an index in the other direction, so downstream walks are index probes too.
 */
export async function up(db: Kysely<unknown>, d: SqlDialect): Promise<void> {
  await db.schema
    .createTable('datasets')
    .addColumn('id', d.idType, (c) => d.primaryKey(c))
    .addColumn('uid', d.text, (c) => c.notNull().unique())
    .addColumn('namespace_pk', 'bigint', (c) => c.notNull().references('namespaces.id'))
    .addColumn('dataset_id', d.text, (c) => c.notNull())
    .addColumn('description', d.text, (c) => c.notNull())
    .addColumn('labels', d.text, (c) => c.notNull())
    .addColumn('latest_version', 'integer', (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addUniqueConstraint('datasets_namespace_dataset_id', ['namespace_pk', 'dataset_id'])
    .execute();
  await db.schema
    .createIndex('datasets_ns_by_create_time')
    .on('datasets')
    .columns(['namespace_pk', 'create_time', 'id'])
    .execute();

  await db.schema
    .createTable('dataset_versions')
    .addColumn('id', d.idType, (c) => d.primaryKey(c))
    .addColumn('uid', d.text, (c) => c.notNull().unique())
    .addColumn('dataset_pk', 'bigint', (c) => c.notNull().references('datasets.id'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('uri', d.text, (c) => c.notNull())
    .addColumn('digest', d.text, (c) => c.notNull())
    .addColumn('size_bytes', 'bigint')
    .addColumn('format', d.text)
    .addColumn('metadata', d.text, (c) => c.notNull())
    .addColumn('created_by', d.text, (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('dataset_versions_dataset_version', ['dataset_pk', 'version'])
    .execute();
  // Finding a version by what it is (URI + digest); the URI is too long to index safely, the digest is not.
  await db.schema
    .createIndex('dataset_versions_by_digest')
    .on('dataset_versions')
    .columns(['dataset_pk', 'digest'])
    .execute();

  await db.schema
    .createTable('runs')
    .addColumn('id', d.idType, (c) => d.primaryKey(c))
    .addColumn('uid', d.text, (c) => c.notNull().unique())
    .addColumn('namespace_pk', 'bigint', (c) => c.notNull().references('namespaces.id'))
    .addColumn('run_id', d.text, (c) => c.notNull())
    .addColumn('kind', d.text, (c) => c.notNull())
    .addColumn('status', d.text, (c) => c.notNull())
    .addColumn('description', d.text, (c) => c.notNull())
    .addColumn('labels', d.text, (c) => c.notNull())
    .addColumn('code_commit', d.text, (c) => c.notNull())
    .addColumn('parameters', d.text, (c) => c.notNull())
    .addColumn('metrics', d.text, (c) => c.notNull())
    .addColumn('environment', d.text, (c) => c.notNull())
    .addColumn('start_time', 'bigint')
    .addColumn('end_time', 'bigint')
    .addColumn('created_by', d.text, (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addUniqueConstraint('runs_namespace_run_id', ['namespace_pk', 'run_id'])
    .execute();
  await db.schema
    .createIndex('runs_ns_by_create_time')
    .on('runs')
    .columns(['namespace_pk', 'create_time', 'id'])
    .execute();

  // Edges go away with the model version that records them (a forced model delete), never with their target.
  await db.schema
    .createTable('lineage_datasets')
    .addColumn('version_pk', 'bigint', (c) => c.notNull().references('model_versions.id').onDelete('cascade'))
    .addColumn('role', d.text, (c) => c.notNull())
    .addColumn('dataset_version_pk', 'bigint', (c) => c.notNull().references('dataset_versions.id'))
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('lineage_datasets_pk', ['version_pk', 'role', 'dataset_version_pk'])
    .execute();
  await db.schema
    .createIndex('lineage_datasets_by_dataset')
    .on('lineage_datasets')
    .columns(['dataset_version_pk', 'version_pk'])
    .execute();

  await db.schema
    .createTable('lineage_runs')
    .addColumn('version_pk', 'bigint', (c) =>
      c.primaryKey().references('model_versions.id').onDelete('cascade'),
    )
    .addColumn('run_pk', 'bigint', (c) => c.notNull().references('runs.id'))
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('lineage_runs_by_run')
    .on('lineage_runs')
    .columns(['run_pk', 'version_pk'])
    .execute();

  await db.schema
    .createTable('lineage_parents')
    .addColumn('version_pk', 'bigint', (c) => c.notNull().references('model_versions.id').onDelete('cascade'))
    .addColumn('parent_pk', 'bigint', (c) => c.notNull().references('model_versions.id').onDelete('cascade'))
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('lineage_parents_pk', ['version_pk', 'parent_pk'])
    .execute();
  await db.schema
    .createIndex('lineage_parents_by_parent')
    .on('lineage_parents')
    .columns(['parent_pk', 'version_pk'])
    .execute();

  // Timeline entries carry structured details (the deployment, the lineage recorded) beside the reason.
  await db.schema.alterTable('version_history').addColumn('details', d.text).execute();
}
