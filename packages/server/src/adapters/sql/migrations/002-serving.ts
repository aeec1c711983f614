import type { Kysely } from 'kysely';
import type { SqlDialect } from '../dialects/dialect.js';

/** Artifacts, the artifact of a version, deployments, operations and the job queue. */
export async function up(db: Kysely<unknown>, d: SqlDialect): Promise<void> {
  await db.schema
    .createTable('artifacts')
    .addColumn('digest', d.text, (c) => c.primaryKey())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('media_type', d.text, (c) => c.notNull())
    .addColumn('format', d.text)
    .addColumn('signature', d.text)
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.alterTable('model_versions').addColumn('artifact_digest', d.text).execute();
  await db.schema.alterTable('model_versions').addColumn('artifact_format', d.text).execute();
  await db.schema
    .createIndex('versions_by_artifact')
    .on('model_versions')
    .column('artifact_digest')
    .execute();

  await db.schema
    .createTable('deployments')
    .addColumn('id', d.idType, (c) => d.primaryKey(c))
    .addColumn('uid', d.text, (c) => c.notNull().unique())
    .addColumn('deployment_id', d.text, (c) => c.notNull().unique())
    .addColumn('model_pk', 'bigint', (c) => c.notNull().references('models.id'))
    .addColumn('traffic', d.text, (c) => c.notNull())
    .addColumn('resolved', d.text, (c) => c.notNull())
    .addColumn('replicas', 'integer', (c) => c.notNull())
    .addColumn('batching', d.text)
    .addColumn('status', d.text, (c) => c.notNull())
    .addColumn('status_message', d.text, (c) => c.notNull())
    .addColumn('generation', 'integer', (c) => c.notNull())
    .addColumn('observed_generation', 'integer', (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('deployments_by_model').on('deployments').column('model_pk').execute();
  await db.schema
    .createIndex('deployments_by_update_time')
    .on('deployments')
    .columns(['update_time', 'id'])
    .execute();

  await db.schema
    .createTable('operations')
    .addColumn('id', d.text, (c) => c.primaryKey())
    .addColumn('kind', d.text, (c) => c.notNull())
    .addColumn('target', d.text, (c) => c.notNull())
    .addColumn('done', 'integer', (c) => c.notNull())
    .addColumn('progress', 'integer', (c) => c.notNull())
    .addColumn('message', d.text, (c) => c.notNull())
    .addColumn('error', d.text)
    .addColumn('result', d.text)
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('operations_by_target')
    .on('operations')
    .columns(['target', 'create_time'])
    .execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', d.idType, (c) => d.primaryKey(c))
    .addColumn('kind', d.text, (c) => c.notNull())
    .addColumn('payload', d.text, (c) => c.notNull())
    .addColumn('status', d.text, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('run_after', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', d.text)
    .addColumn('lease_expires', 'bigint')
    .addColumn('last_error', d.text, (c) => c.notNull())
    .addColumn('trace_context', d.text, (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .execute();
  // Due jobs are found by (status, run_after); expired leases by (status, lease_expires).
  await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'run_after', 'id']).execute();
  await db.schema.createIndex('jobs_leased').on('jobs').columns(['status', 'lease_expires']).execute();
}
