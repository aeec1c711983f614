import { type Kysely, sql } from 'kysely';
import type { VersionStatus } from '../../domain/lifecycle.js';
import type { RunKind, RunStatus } from '../../domain/lineage.js';
import { versionName } from '../../domain/names.js';
import type { JsonObject } from '../../domain/resources.js';
import type {
  DatasetEdge,
  DatasetRole,
  DatasetVersionNodeRow,
  DeploymentNodeRow,
  LineageRepository,
  ParentEdge,
  RunNodeRow,
  TimelineRow,
  UpstreamEdge,
  VersionNodeRow,
} from '../../ports/lineage.repositories.js';
import type { Listed } from '../../ports/repositories.js';
import type { ResolvedTarget, TrafficTarget } from '../../ports/serving.repositories.js';
import type { Database } from './schema.js';

const PARENTS_LOCK = 'lineage_parents_lock';

/**
 * Lineage edges and the reads that walk them. Every read takes a set of keys and answers for all
 * of them in one statement, so a walk costs one query per level, never one per node. Callers cap
 * the sets (LIMITS.lineageNodes), which keeps every IN list far below the parameter limits.
 */
export class SqlLineageRepository implements LineageRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async holdVersion(versionPk: number, status: VersionStatus): Promise<boolean> {
    // A no-op update: takes the row's write lock on PostgreSQL, and re-checks the status after any wait.
    const r = await this.db
      .updateTable('model_versions')
      .set((eb) => ({ status: eb.ref('status') }))
      .where('id', '=', versionPk)
      .where('status', '=', status)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async lockParents(): Promise<void> {
    await this.db
      .insertInto('quiver_settings')
      .values({ key: PARENTS_LOCK, value: '' })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    await this.db
      .updateTable('quiver_settings')
      .set((eb) => ({ value: eb.ref('value') }))
      .where('key', '=', PARENTS_LOCK)
      .execute();
  }

  async addDatasets(versionPk: number, role: DatasetRole, pks: readonly number[], time: number) {
    if (!pks.length) return;
    await this.db
      .insertInto('lineage_datasets')
      .values(pks.map((pk) => ({ version_pk: versionPk, role, dataset_version_pk: pk, create_time: time })))
      .onConflict((oc) => oc.columns(['version_pk', 'role', 'dataset_version_pk']).doNothing())
      .execute();
  }

  async setRun(versionPk: number, runPk: number, time: number): Promise<void> {
    await this.db
      .insertInto('lineage_runs')
      .values({ version_pk: versionPk, run_pk: runPk, create_time: time })
      .onConflict((oc) => oc.column('version_pk').doNothing())
      .execute();
  }

  async addParents(versionPk: number, parentPks: readonly number[], time: number): Promise<void> {
    if (!parentPks.length) return;
    await this.db
      .insertInto('lineage_parents')
      .values(parentPks.map((p) => ({ version_pk: versionPk, parent_pk: p, create_time: time })))
      .onConflict((oc) => oc.columns(['version_pk', 'parent_pk']).doNothing())
      .execute();
  }

  async isAncestor(candidate: number, of: readonly number[]): Promise<boolean> {
    if (!of.length) return false;
    // UNION (not UNION ALL) drops rows already found, so the walk ends even on a damaged, cyclic graph.
    const found = await sql<{ found: number }>`
      with recursive ancestors(pk) as (
        select parent_pk from lineage_parents where version_pk in (${sql.join(of)})
        union
        select p.parent_pk from lineage_parents p join ancestors a on p.version_pk = a.pk
      )
      select 1 as found from ancestors where pk = ${candidate} limit 1`.execute(this.db);
    return found.rows.length > 0;
  }

  async upstreamOf(versionPks: readonly number[]): Promise<UpstreamEdge[]> {
    if (!versionPks.length) return [];
    const pks = sql.join(versionPks);
    const rows = await sql<{ version_pk: number; kind: UpstreamEdge['kind']; target_pk: number }>`
      select version_pk, role as kind, dataset_version_pk as target_pk from lineage_datasets where version_pk in (${pks})
      union all
      select version_pk, 'produced_by', run_pk from lineage_runs where version_pk in (${pks})
      union all
      select version_pk, 'derived_from', parent_pk from lineage_parents where version_pk in (${pks})
      order by 1, 2, 3`.execute(this.db);
    return rows.rows.map((r) => ({
      version_pk: Number(r.version_pk),
      kind: r.kind,
      target_pk: Number(r.target_pk),
    }));
  }

  async descendantsOutside(modelPk: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('lineage_parents')
      .innerJoin('model_versions as parent', 'parent.id', 'lineage_parents.parent_pk')
      .innerJoin('model_versions as child', 'child.id', 'lineage_parents.version_pk')
      .innerJoin('models', 'models.id', 'child.model_pk')
      .innerJoin('namespaces', 'namespaces.id', 'models.namespace_pk')
      .select(['namespaces.namespace_id', 'models.model_id', 'child.version'])
      .where('parent.model_pk', '=', modelPk)
      .where('child.model_pk', '!=', modelPk)
      .orderBy('child.id')
      .limit(limit)
      .execute();
    return rows.map((r) => versionName(r.namespace_id, r.model_id, r.version));
  }

  async childrenOf(versionPks: readonly number[]): Promise<ParentEdge[]> {
    if (!versionPks.length) return [];
    return this.db
      .selectFrom('lineage_parents')
      .select(['version_pk', 'parent_pk'])
      .where('parent_pk', 'in', [...versionPks])
      .orderBy('parent_pk')
      .orderBy('version_pk')
      .execute();
  }

  async consumersOf(datasetVersionPks: readonly number[]): Promise<DatasetEdge[]> {
    if (!datasetVersionPks.length) return [];
    const rows = await this.db
      .selectFrom('lineage_datasets')
      .select(['version_pk', 'dataset_version_pk', 'role'])
      .where('dataset_version_pk', 'in', [...datasetVersionPks])
      .orderBy('dataset_version_pk')
      .orderBy('version_pk')
      .execute();
    return rows.map((r) => ({ ...r, role: r.role as DatasetRole }));
  }

  async describeVersions(pks: readonly number[]): Promise<VersionNodeRow[]> {
    if (!pks.length) return [];
    const rows = await this.db
      .selectFrom('model_versions')
      .innerJoin('models', 'models.id', 'model_versions.model_pk')
      .innerJoin('namespaces', 'namespaces.id', 'models.namespace_pk')
      .select([
        'model_versions.id as pk',
        'model_versions.model_pk',
        'namespaces.namespace_id as namespace',
        'models.model_id',
        'model_versions.version',
        'model_versions.status',
        'model_versions.artifact_digest',
        'model_versions.create_time',
      ])
      .where('model_versions.id', 'in', [...pks])
      .execute();
    return rows.map((r) => ({ ...r, status: r.status as VersionStatus }));
  }

  async describeDatasetVersions(pks: readonly number[]): Promise<DatasetVersionNodeRow[]> {
    if (!pks.length) return [];
    return this.db
      .selectFrom('dataset_versions')
      .innerJoin('datasets', 'datasets.id', 'dataset_versions.dataset_pk')
      .innerJoin('namespaces', 'namespaces.id', 'datasets.namespace_pk')
      .select([
        'dataset_versions.id as pk',
        'namespaces.namespace_id as namespace',
        'datasets.dataset_id',
        'dataset_versions.version',
        'dataset_versions.uri',
        'dataset_versions.digest',
        'dataset_versions.size_bytes',
        'dataset_versions.format',
        'dataset_versions.create_time',
      ])
      .where('dataset_versions.id', 'in', [...pks])
      .execute();
  }

  async describeRuns(pks: readonly number[]): Promise<RunNodeRow[]> {
    if (!pks.length) return [];
    const rows = await this.db
      .selectFrom('runs')
      .innerJoin('namespaces', 'namespaces.id', 'runs.namespace_pk')
      .select([
        'runs.id as pk',
        'runs.uid',
        'namespaces.namespace_id as namespace',
        'runs.run_id',
        'runs.kind',
        'runs.status',
        'runs.code_commit',
        'runs.start_time',
        'runs.end_time',
        'runs.create_time',
      ])
      .where('runs.id', 'in', [...pks])
      .execute();
    return rows.map((r) => ({ ...r, kind: r.kind as RunKind, status: r.status as RunStatus }));
  }

  async deploymentsOf(modelPks: readonly number[]): Promise<DeploymentNodeRow[]> {
    if (!modelPks.length) return [];
    const rows = await this.db
      .selectFrom('deployments')
      .select(['deployment_id', 'model_pk', 'status', 'traffic', 'resolved'])
      .where('model_pk', 'in', [...modelPks])
      .orderBy('deployment_id')
      .execute();
    return rows.map((r) => ({
      deployment_id: r.deployment_id,
      model_pk: r.model_pk,
      status: r.status,
      traffic: JSON.parse(r.traffic) as TrafficTarget[],
      resolved: JSON.parse(r.resolved) as ResolvedTarget[],
    }));
  }

  async timeline(
    modelPk: number,
    version: number,
    after: number | null,
    limit: number,
  ): Promise<Listed<TimelineRow>[]> {
    let q = this.db
      .selectFrom('version_history')
      .selectAll()
      .where('model_pk', '=', modelPk)
      .where('version', '=', version);
    if (after !== null) q = q.where('id', '>', after);
    const rows = await q.orderBy('id', 'asc').limit(limit).execute();
    return rows.map((row) => ({
      item: {
        kind: row.kind,
        from_status: row.from_status as VersionStatus | null,
        to_status: row.to_status as VersionStatus | null,
        alias: row.alias,
        actor: row.actor,
        reason: row.reason,
        details: row.details ? (JSON.parse(row.details) as JsonObject) : null,
        time: Number(row.time),
      },
      keyset: [row.id],
    }));
  }
}
