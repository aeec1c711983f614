import type { VersionStatus } from '../domain/lifecycle.js';
import type {
  Dataset,
  DatasetRole,
  DatasetVersion,
  DatasetVersionPath,
  Run,
  RunKind,
  RunStatus,
} from '../domain/lineage.js';
import type { JsonObject, Labels } from '../domain/resources.js';
import type { Listed, ListQuery } from './repositories.js';
import type { ResolvedTarget, TrafficTarget } from './serving.repositories.js';

export interface DatasetKey {
  pk: number;
  namespace: string;
  dataset_id: string;
  latest_version: number;
}

export interface NewDatasetVersion {
  uid: string;
  dataset_pk: number;
  version: number;
  uri: string;
  digest: string;
  size_bytes: number | null;
  format: string | null;
  metadata: JsonObject;
  created_by: string;
  time: number;
}

export interface DatasetRepository {
  /** Throws DATASET_EXISTS on a duplicate id in the namespace. */
  create(input: {
    uid: string;
    namespace_pk: number;
    dataset_id: string;
    description: string;
    labels: Labels;
    time: number;
  }): Promise<void>;
  get(namespace: string, datasetId: string): Promise<Dataset | undefined>;
  key(namespace: string, datasetId: string): Promise<DatasetKey | undefined>;
  list(namespacePk: number, query: ListQuery): Promise<Listed<Dataset>[]>;
  /** Reserves the next version number; serialises concurrent creators on the dataset row. */
  nextVersion(pk: number, time: number): Promise<number>;
  /** The version already recorded with this exact URI and digest, if any. */
  findVersion(datasetPk: number, uri: string, digest: string): Promise<number | undefined>;
  insertVersion(input: NewDatasetVersion): Promise<void>;
  getVersion(datasetPk: number, version: number): Promise<DatasetVersion | undefined>;
  /** Versions newest first; the keyset is the version number. */
  listVersions(datasetPk: number, after: number | null, limit: number): Promise<Listed<DatasetVersion>[]>;
  /** Primary keys of many dataset versions in one query; `index` is the position in `paths`. */
  resolveVersions(paths: readonly DatasetVersionPath[]): Promise<{ index: number; pk: number }[]>;
}

export interface NewRun {
  uid: string;
  namespace_pk: number;
  run_id: string;
  kind: RunKind;
  status: RunStatus;
  description: string;
  labels: Labels;
  code_commit: string;
  parameters: JsonObject;
  metrics: JsonObject;
  environment: JsonObject;
  start_time: number | null;
  end_time: number | null;
  created_by: string;
  time: number;
}

export interface RunPatch {
  status?: RunStatus;
  description?: string;
  labels?: Labels;
  metrics?: JsonObject;
  end_time?: number | null;
}

export interface RunRepository {
  /** Throws RUN_EXISTS on a duplicate id in the namespace. */
  create(input: NewRun): Promise<void>;
  get(namespace: string, runId: string): Promise<Run | undefined>;
  key(namespace: string, runId: string): Promise<{ pk: number; revision: number; uid: string } | undefined>;
  list(namespacePk: number, query: ListQuery): Promise<Listed<Run>[]>;
  /** Compare-and-set on `revision`; false when another change came first. */
  update(pk: number, revision: number, patch: RunPatch, time: number): Promise<boolean>;
}

export type { DatasetRole };

/** An edge recorded by a version: `target_pk` is a dataset version, a run or a model version, by `kind`. */
export interface UpstreamEdge {
  version_pk: number;
  kind: 'trained_on' | 'evaluated_on' | 'produced_by' | 'derived_from';
  target_pk: number;
}

/** One version → parent edge (`version_pk` derived from `parent_pk`). */
export interface ParentEdge {
  version_pk: number;
  parent_pk: number;
}

export interface DatasetEdge {
  version_pk: number;
  dataset_version_pk: number;
  role: DatasetRole;
}

export interface VersionNodeRow {
  pk: number;
  model_pk: number;
  namespace: string;
  model_id: string;
  version: number;
  status: VersionStatus;
  artifact_digest: string | null;
  create_time: number;
}

export interface DatasetVersionNodeRow {
  pk: number;
  namespace: string;
  dataset_id: string;
  version: number;
  uri: string;
  digest: string;
  size_bytes: number | null;
  format: string | null;
  create_time: number;
}

export interface RunNodeRow {
  pk: number;
  uid: string;
  namespace: string;
  run_id: string;
  kind: RunKind;
  status: RunStatus;
  code_commit: string;
  start_time: number | null;
  end_time: number | null;
  create_time: number;
}

export interface DeploymentNodeRow {
  deployment_id: string;
  model_pk: number;
  status: string;
  traffic: TrafficTarget[];
  resolved: ResolvedTarget[];
}

export interface TimelineRow {
  kind: string;
  from_status: VersionStatus | null;
  to_status: VersionStatus | null;
  alias: string | null;
  actor: string;
  reason: string;
  details: JsonObject | null;
  time: number;
}

/** Edges from model versions to what they came from, and the reads that walk them a level at a time. */
export interface LineageRepository {
  /**
   * Holds the version row for the rest of the transaction if its status is still `status`
   * (false otherwise), so an approval cannot slip in between the check and the lineage write.
   */
  holdVersion(versionPk: number, status: VersionStatus): Promise<boolean>;
  /** Serialises writers of derived-from edges, so two concurrent writes cannot close a cycle together. */
  lockParents(): Promise<void>;
  /** Adds edges; ones already recorded are kept as they are. */
  addDatasets(
    versionPk: number,
    role: DatasetRole,
    datasetVersionPks: readonly number[],
    time: number,
  ): Promise<void>;
  /** Records the producing run unless one is recorded already. */
  setRun(versionPk: number, runPk: number, time: number): Promise<void>;
  addParents(versionPk: number, parentPks: readonly number[], time: number): Promise<void>;
  /** Whether `candidate` is among the ancestors of any of `of` (one recursive query). */
  isAncestor(candidate: number, of: readonly number[]): Promise<boolean>;
  /** Every edge recorded by these versions: datasets, run and parents (one level upstream). */
  upstreamOf(versionPks: readonly number[]): Promise<UpstreamEdge[]>;
  /** Names of versions of OTHER models derived from a version of this model (at most `limit`). */
  descendantsOutside(modelPk: number, limit: number): Promise<string[]>;
  /** Derived-from edges whose parent is in `versionPks` (one level downstream). */
  childrenOf(versionPks: readonly number[]): Promise<ParentEdge[]>;
  /** Versions trained or evaluated on these dataset versions. */
  consumersOf(datasetVersionPks: readonly number[]): Promise<DatasetEdge[]>;
  describeVersions(pks: readonly number[]): Promise<VersionNodeRow[]>;
  describeDatasetVersions(pks: readonly number[]): Promise<DatasetVersionNodeRow[]>;
  describeRuns(pks: readonly number[]): Promise<RunNodeRow[]>;
  deploymentsOf(modelPks: readonly number[]): Promise<DeploymentNodeRow[]>;
  /** The lifecycle history of one version, oldest first, continuing after the entry id `after`. */
  timeline(
    modelPk: number,
    version: number,
    after: number | null,
    limit: number,
  ): Promise<Listed<TimelineRow>[]>;
}
