import { QuiverError } from '../domain/errors.js';
import type { VersionStatus } from '../domain/lifecycle.js';
import {
  cycleError,
  datasetVersionName,
  isEmptyLineage,
  type LineageRequest,
  runName,
  tooLarge,
} from '../domain/lineage.js';
import { formatVersionRef, modelName, versionName } from '../domain/names.js';
import { LIMITS } from '../domain/validation.js';
import type { UpstreamEdge } from '../ports/lineage.repositories.js';
import type { ModelKey, Repositories, VersionKey } from '../ports/repositories.js';
import type { CallContext } from './context.js';
import { requireModel, requireVersion } from './lookups.js';

/** From approval on, lineage is part of what was approved and may no longer change. */
export const FROZEN_STATUSES: readonly VersionStatus[] = ['approved', 'deprecated', 'archived'];

/** The lineage a version records, by name: what `:recordLineage` answers. */
export interface VersionLineage {
  version: string;
  trained_on: string[];
  evaluated_on: string[];
  produced_by: string | null;
  derived_from: string[];
  frozen: boolean;
}

export function frozenError(name: string, status: VersionStatus): QuiverError {
  return new QuiverError(
    'LINEAGE_FROZEN',
    `Version ${name} is ${status}: its lineage was frozen at approval and cannot change.`,
    { details: { resource: name, status } },
  );
}

/**
 * Adds lineage edges to a version inside the caller's transaction: the targets must exist, the
 * version must not be approved yet, per-version limits hold, and derived-from stays acyclic.
 * Edges already recorded are kept; returns what was newly added (by name), or null when nothing was.
 */
export async function recordLineage(
  repos: Repositories,
  ctx: CallContext,
  model: ModelKey,
  version: VersionKey,
  request: LineageRequest,
  time: number,
): Promise<Omit<VersionLineage, 'version' | 'frozen'> | null> {
  if (isEmptyLineage(request)) return null;
  const name = versionName(model.namespace, model.model_id, version.version);
  if (FROZEN_STATUSES.includes(version.status)) throw frozenError(name, version.status);
  if (!(await repos.lineage.holdVersion(version.pk, version.status))) {
    // An approval (or another transition) committed first: judge against the status it has now.
    const now = await repos.versions.key(model.pk, version.version);
    if (now && FROZEN_STATUSES.includes(now.status)) throw frozenError(name, now.status);
    throw new QuiverError('CONCURRENT_UPDATE', `Version ${name} changed concurrently; retry.`);
  }
  const existing = await repos.lineage.upstreamOf([version.pk]);
  const has = (kind: UpstreamEdge['kind']) =>
    new Set(existing.filter((e) => e.kind === kind).map((e) => e.target_pk));

  const datasets = [...request.trained_on, ...request.evaluated_on];
  const found = await repos.datasets.resolveVersions(datasets);
  const pkAt = new Map(found.map((f) => [f.index, f.pk]));
  datasets.forEach((d, i) => {
    if (!pkAt.has(i)) {
      const missing = datasetVersionName(d.namespace, d.dataset, d.version);
      throw new QuiverError('DATASET_VERSION_NOT_FOUND', `Dataset version ${missing} does not exist.`, {
        details: { resource: missing },
      });
    }
  });
  const trained = request.trained_on.map((_, i) => pkAt.get(i)!);
  const evaluated = request.evaluated_on.map((_, i) => pkAt.get(request.trained_on.length + i)!);
  const newTrained = trained.filter((pk) => !has('trained_on').has(pk));
  const newEvaluated = evaluated.filter((pk) => !has('evaluated_on').has(pk));
  checkLimit('trained_on', has('trained_on').size + newTrained.length, LIMITS.lineageTrainedOn);
  checkLimit('evaluated_on', has('evaluated_on').size + newEvaluated.length, LIMITS.lineageEvaluatedOn);

  let runPk: number | null = null;
  if (request.produced_by) {
    const { namespace, run } = request.produced_by;
    const key = await repos.runs.key(namespace, run);
    if (!key) {
      throw new QuiverError('RUN_NOT_FOUND', `Run ${runName(namespace, run)} does not exist.`, {
        details: { resource: runName(namespace, run) },
      });
    }
    const recorded = [...has('produced_by')][0];
    if (recorded !== undefined && recorded !== key.pk) {
      throw new QuiverError(
        'LINEAGE_CONFLICT',
        `Version ${name} already records a different produced-by run; lineage is additive and a version has one producing run.`,
        { details: { resource: name, field: 'lineage.produced_by' } },
      );
    }
    if (recorded === undefined) runPk = key.pk;
  }

  const parents = new Map<number, string>();
  for (const ref of request.derived_from) {
    const parentModel = await requireModel(repos, ref.namespace, ref.model);
    const parent = await requireVersion(repos, parentModel, ref.ref);
    const parentName = versionName(ref.namespace, ref.model, parent.version);
    if (parent.pk === version.pk) throw cycleError([name, name]);
    if (!has('derived_from').has(parent.pk)) parents.set(parent.pk, parentName);
  }
  checkLimit('derived_from', has('derived_from').size + parents.size, LIMITS.lineageDerivedFrom);
  if (parents.size) {
    await repos.lineage.lockParents();
    if (await repos.lineage.isAncestor(version.pk, [...parents.keys()])) {
      throw cycleError(await cyclePath(repos, version.pk, name, parents));
    }
  }

  await repos.lineage.addDatasets(version.pk, 'trained_on', newTrained, time);
  await repos.lineage.addDatasets(version.pk, 'evaluated_on', newEvaluated, time);
  if (runPk !== null) await repos.lineage.setRun(version.pk, runPk, time);
  await repos.lineage.addParents(version.pk, [...parents.keys()], time);

  const dsName = (pk: number) => {
    const i = datasets.findIndex((_, j) => pkAt.get(j) === pk);
    const d = datasets[i]!;
    return datasetVersionName(d.namespace, d.dataset, d.version);
  };
  const added = {
    trained_on: newTrained.map(dsName),
    evaluated_on: newEvaluated.map(dsName),
    produced_by:
      runPk !== null && request.produced_by
        ? runName(request.produced_by.namespace, request.produced_by.run)
        : null,
    derived_from: [...parents.values()],
  };
  if (
    !added.trained_on.length &&
    !added.evaluated_on.length &&
    !added.produced_by &&
    !added.derived_from.length
  )
    return null;
  await repos.history.append({
    model_pk: model.pk,
    version: version.version,
    kind: 'lineage_recorded',
    from_status: null,
    to_status: null,
    alias: null,
    actor: ctx.actor.principal,
    reason: '',
    time,
    details: added,
  });
  return added;
}

function checkLimit(kind: string, count: number, max: number) {
  if (count > max) throw tooLarge(`lineage.${kind}`, kind, count, max);
}

/**
 * Names a cycle for the error message: walks up from the new parents a level at a time until the
 * version itself is reached (it is, isAncestor said so). Only runs on the error path.
 */
async function cyclePath(
  repos: Repositories,
  self: number,
  selfName: string,
  parents: Map<number, string>,
): Promise<string[]> {
  const cameFrom = new Map<number, number | null>([...parents.keys()].map((p) => [p, null]));
  let frontier = [...parents.keys()];
  for (let level = 0; level < 64 && frontier.length && !cameFrom.has(self); level++) {
    const next: number[] = [];
    for (const e of await repos.lineage.upstreamOf(frontier)) {
      if (e.kind !== 'derived_from' || cameFrom.has(e.target_pk)) continue;
      cameFrom.set(e.target_pk, e.version_pk);
      next.push(e.target_pk);
    }
    frontier = next;
  }
  const chain: number[] = [];
  for (let at: number | null | undefined = self; at !== null && at !== undefined; at = cameFrom.get(at)) {
    chain.push(at);
    if (chain.length > 70) break;
  }
  // chain: self ← … ← new parent; the cycle reads self → parent → … → self.
  const described = await repos.lineage.describeVersions(chain);
  const names = new Map(described.map((v) => [v.pk, versionName(v.namespace, v.model_id, v.version)]));
  const path = chain.reverse().map((pk) => names.get(pk) ?? parents.get(pk) ?? String(pk));
  return [selfName, ...path];
}

/** The lineage a version records now, by name (one query per kind of target). */
export async function versionLineage(
  repos: Repositories,
  model: ModelKey,
  version: VersionKey,
): Promise<VersionLineage> {
  const edges = await repos.lineage.upstreamOf([version.pk]);
  const of = (kind: UpstreamEdge['kind']) => edges.filter((e) => e.kind === kind).map((e) => e.target_pk);
  const datasets = await repos.lineage.describeDatasetVersions([...of('trained_on'), ...of('evaluated_on')]);
  const runs = await repos.lineage.describeRuns(of('produced_by'));
  const parents = await repos.lineage.describeVersions(of('derived_from'));
  const dsNames = new Map(
    datasets.map((d) => [d.pk, datasetVersionName(d.namespace, d.dataset_id, d.version)]),
  );
  const parentNames = new Map(parents.map((v) => [v.pk, versionName(v.namespace, v.model_id, v.version)]));
  const run = runs[0];
  return {
    version: versionName(model.namespace, model.model_id, version.version),
    trained_on: of('trained_on')
      .map((pk) => dsNames.get(pk)!)
      .sort(),
    evaluated_on: of('evaluated_on')
      .map((pk) => dsNames.get(pk)!)
      .sort(),
    produced_by: run ? runName(run.namespace, run.run_id) : null,
    derived_from: of('derived_from')
      .map((pk) => parentNames.get(pk)!)
      .sort(),
    frozen: FROZEN_STATUSES.includes(version.status),
  };
}

/** The resource an audit entry names for a lineage change of `ref`. */
export function lineageResource(
  namespace: string,
  model: string,
  ref: Parameters<typeof formatVersionRef>[0],
) {
  return `${modelName(namespace, model)}/versions/${formatVersionRef(ref)}/lineage`;
}
