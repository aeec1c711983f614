import type { FilterExpr } from '../domain/filter.js';
import type { VersionStatus } from '../domain/lifecycle.js';
import type { Keyset } from '../domain/page-token.js';
import type { Visibility } from '../domain/permissions.js';
import type {
  HistoryEntry,
  HistoryKind,
  JsonObject,
  Labels,
  Model,
  Namespace,
  Version,
  VersionStatusView,
} from '../domain/resources.js';
import type { AuditRepository } from './audit.js';
import type {
  BindingRepository,
  PolicyRepository,
  PrincipalRepository,
  RoleRepository,
  TokenRepository,
} from './iam.repositories.js';
import type { DatasetRepository, LineageRepository, RunRepository } from './lineage.repositories.js';
import type {
  ArtifactRepository,
  DeploymentRepository,
  JobRepository,
  OperationRepository,
} from './serving.repositories.js';

/** A list request as repositories see it: already validated, the page token already decoded. */
export interface ListQuery {
  /** Parsed but not yet checked against the resource's fields: the adapter knows them. */
  filter: FilterExpr | null;
  orderBy: { field: string; desc: boolean };
  after: Keyset | null;
  /** Rows to return; repositories return at most this many. */
  limit: number;
  /** Only rows in these scopes (the caller's permissions); absent or `all`: no restriction. */
  visible?: Visibility | undefined;
}

export interface Listed<T> {
  item: T;
  /** Position of this row, to continue after it. */
  keyset: Keyset;
}

export interface NamespaceRepository {
  create(input: { uid: string; namespace_id: string; description: string; time: number }): Promise<Namespace>;
  get(namespaceId: string): Promise<Namespace | undefined>;
  pkOf(namespaceId: string): Promise<number | undefined>;
  list(query: ListQuery): Promise<Listed<Namespace>[]>;
}

export interface ModelKey {
  pk: number;
  uid: string;
  namespace_pk: number;
  namespace: string;
  model_id: string;
  revision: number;
  latest_version: number;
}

export interface ModelRepository {
  create(input: {
    uid: string;
    namespace_pk: number;
    model_id: string;
    description: string;
    labels: Labels;
    time: number;
  }): Promise<void>;
  get(namespace: string, modelId: string): Promise<Model | undefined>;
  key(namespace: string, modelId: string): Promise<ModelKey | undefined>;
  /** `namespacePk` null lists across all namespaces. */
  list(namespacePk: number | null, query: ListQuery): Promise<Listed<Model>[]>;
  /** Compare-and-set on `revision`; false when another change came first. */
  update(
    pk: number,
    revision: number,
    patch: { description?: string; labels?: Labels },
    time: number,
  ): Promise<boolean>;
  delete(pk: number): Promise<void>;
  countVersions(pk: number, excludingStatus: VersionStatus): Promise<number>;
  /** Reserves the next version number; serialises concurrent creators on the model row. */
  nextVersion(pk: number, time: number): Promise<number>;
  /** Marks the model changed (its aliases moved): bumps revision and update_time. */
  touch(pk: number, time: number): Promise<void>;
}

export interface VersionKey {
  pk: number;
  uid: string;
  model_pk: number;
  version: number;
  status: VersionStatus;
  revision: number;
  created_by: string;
}

export interface NewVersion {
  uid: string;
  model_pk: number;
  version: number;
  status: VersionStatus;
  description: string;
  labels: Labels;
  metadata: Record<string, unknown>;
  source_uri: string;
  created_by: string;
  time: number;
  artifact_digest?: string | null;
  artifact_format?: string | null;
}

/** One entry of a batch read, as the caller named it. */
export interface VersionLookup {
  namespace: string;
  model: string;
  version?: number;
  alias?: string;
}

/** A new version as its creator gives it, before it has a model row and a number. */
export type VersionDraft = Omit<NewVersion, 'model_pk' | 'version'>;

export interface VersionRepository {
  insert(input: NewVersion): Promise<void>;
  /**
   * Registers the next version of the model `namespace/modelId`: claims its number (the model's
   * counter and revision up by one), inserts the version with its labels and its `created`
   * history entry, and returns the model's key with the number claimed as `latest_version`.
   * Undefined, with nothing written, when there is no such model.
   */
  register(namespace: string, modelId: string, draft: VersionDraft): Promise<ModelKey | undefined>;
  get(modelPk: number, version: number): Promise<Version | undefined>;
  key(modelPk: number, version: number): Promise<VersionKey | undefined>;
  list(modelPk: number, query: ListQuery): Promise<Listed<Version>[]>;
  update(
    pk: number,
    revision: number,
    patch: { description?: string; labels?: Labels },
    time: number,
  ): Promise<boolean>;
  /** Compare-and-set on status; false when the status is no longer `from`. */
  setStatus(pk: number, from: VersionStatus, to: VersionStatus, time: number): Promise<boolean>;
  /** Reads many versions in a bounded number of queries; `index` of each result is its position in `lookups`. */
  batchGet(lookups: readonly VersionLookup[]): Promise<{ index: number; version: Version }[]>;
  /** Like batchGet, reading only what a status view needs (one narrow index probe chain per name). */
  batchGetStatus(lookups: readonly VersionLookup[]): Promise<{ index: number; version: VersionStatusView }[]>;
}

export interface AliasRepository {
  resolve(modelPk: number, alias: string): Promise<number | undefined>;
  /** Points the alias at `version`; returns the version it pointed at before, if any. */
  set(modelPk: number, alias: string, version: number, time: number): Promise<number | undefined>;
  /** Removes the alias; returns the version it pointed at, or undefined when there was none. */
  unset(modelPk: number, alias: string): Promise<number | undefined>;
}

export interface NewHistoryEntry {
  model_pk: number;
  version: number;
  kind: HistoryKind;
  from_status: VersionStatus | null;
  to_status: VersionStatus | null;
  alias: string | null;
  actor: string;
  reason: string;
  time: number;
  /** Structured context for the timeline (the deployment, the lineage recorded). */
  details?: JsonObject | undefined;
}

export interface HistoryRepository {
  append(entry: NewHistoryEntry): Promise<void>;
  list(
    modelPk: number,
    version: number,
    after: number | null,
    limit: number,
  ): Promise<Listed<HistoryEntry>[]>;
}

export interface StoredResponse {
  fingerprint: string;
  response: unknown;
}

export interface IdempotencyRepository {
  find(scope: string, key: string): Promise<StoredResponse | undefined>;
  /** Throws IDEMPOTENCY_KEY_TAKEN (ALREADY_EXISTS) when a concurrent request took the key first. */
  save(scope: string, key: string, fingerprint: string, response: unknown, time: number): Promise<void>;
  deleteOlderThan(time: number): Promise<number>;
}

export interface SettingsRepository {
  get(key: string): Promise<string | undefined>;
  /** Sets the value only when the key is absent; returns the value that is stored afterwards. */
  putIfAbsent(key: string, value: string): Promise<string>;
}

/** The repositories bound to one executor (a connection or a transaction). */
export interface Repositories {
  namespaces: NamespaceRepository;
  models: ModelRepository;
  versions: VersionRepository;
  aliases: AliasRepository;
  history: HistoryRepository;
  idempotency: IdempotencyRepository;
  settings: SettingsRepository;
  bulk: BulkLoader;
  artifacts: ArtifactRepository;
  jobs: JobRepository;
  deployments: DeploymentRepository;
  operations: OperationRepository;
  datasets: DatasetRepository;
  runs: RunRepository;
  lineage: LineageRepository;
  audit: AuditRepository;
  principals: PrincipalRepository;
  tokens: TokenRepository;
  roles: RoleRepository;
  bindings: BindingRepository;
  policies: PolicyRepository;
}

/** Rows for bulk loading (benchmark datasets); written in multi-row statements within one transaction. */
export interface BulkModel {
  uid: string;
  namespace_pk: number;
  model_id: string;
  description: string;
  labels: Labels;
  /** Alias → version; must match the aliases given with the versions. */
  aliases: Record<string, number>;
  latest_version: number;
  time: number;
}

export interface BulkVersion extends NewVersion {
  aliases: string[];
}

export interface BulkLoader {
  /** Inserts models and returns their primary keys in input order. */
  insertModels(rows: readonly BulkModel[]): Promise<number[]>;
  insertVersions(rows: readonly BulkVersion[]): Promise<void>;
}
