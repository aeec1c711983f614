/**
 * Resource and request shapes of the Quiver API, exactly as the REST JSON carries them
 * (snake_case, the same names in REST, gRPC, the SDK and the CLI).
 *
 * Kept in one file on purpose: a later step generates it from `/openapi.json`.
 */

/** The lifecycle statuses of a version, in lifecycle order. */
export const VERSION_STATUSES = [
  'registered',
  'validated',
  'approved',
  'deprecated',
  'archived',
  'rejected',
] as const;
/** `registered → validated → approved → deprecated → archived`, plus `rejected`. */
export type VersionStatus = (typeof VERSION_STATUSES)[number];

/** What a lifecycle history entry records. */
export const HISTORY_KINDS = [
  'created',
  'transition',
  'alias_set',
  'alias_unset',
  'updated',
  'lineage_recorded',
  'deployed',
  'undeployed',
] as const;
export type HistoryKind = (typeof HISTORY_KINDS)[number];

/** String key/value labels (at most 64; keys like `team` or `app.kubernetes.io/name`). */
export type Labels = Record<string, string>;
/** A free-form JSON object. */
export type JsonObject = Record<string, unknown>;

/** A team or project: `namespaces/{namespace_id}`. */
export interface Namespace {
  name: string;
  namespace_id: string;
  description: string;
  /** Immutable unique id (UUIDv7). */
  uid: string;
  /** RFC 3339 time. */
  create_time: string;
  /** RFC 3339 time. */
  update_time: string;
  /** Changes on every update; send it back as `ifMatch`. */
  etag: string;
}

/** A registered model: `namespaces/{ns}/models/{model_id}`. */
export interface Model {
  name: string;
  /** The parent namespace's resource name. */
  namespace: string;
  model_id: string;
  description: string;
  labels: Labels;
  /** Highest version number; 0 when the model has none. */
  latest_version: number;
  /** Alias → version number. */
  aliases: Record<string, number>;
  uid: string;
  create_time: string;
  update_time: string;
  etag: string;
}

/** An immutable model version: `namespaces/{ns}/models/{model}/versions/{n}`. */
export interface Version {
  name: string;
  /** The parent model's resource name. */
  model: string;
  version: number;
  status: VersionStatus;
  description: string;
  labels: Labels;
  /** Free-form JSON object, immutable. */
  metadata: JsonObject;
  source_uri: string;
  /** The bytes this version is (content-addressed), or null for a metadata-only version. */
  artifact: VersionArtifact | null;
  /** Inputs and outputs read from the model file (ONNX), or null. */
  signature: Signature | null;
  /** Aliases pointing at this version. */
  aliases: string[];
  created_by: string;
  uid: string;
  create_time: string;
  update_time: string;
  etag: string;
}

/** The artifact of a version: immutable bytes under a digest. */
export interface VersionArtifact {
  /** `sha256:` and 64 hex digits. */
  digest: string;
  size_bytes: number;
  media_type: string;
  /** e.g. `onnx`; null when unknown. */
  format: string | null;
}

/** Tensor element types (the Open Inference Protocol's names). */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;
export type Datatype = (typeof DATATYPES)[number];

export interface TensorSpec {
  name: string;
  datatype: Datatype;
  /** -1 marks a dimension of variable size. */
  shape: number[];
}

/** Inputs and outputs of a model, read from the model file. */
export interface Signature {
  format: 'onnx';
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  opset: number | null;
  ir_version: number | null;
  producer: string;
}

/** One entry of a version's lifecycle history. */
export interface HistoryEntry {
  kind: HistoryKind;
  version: number;
  from_status: VersionStatus | null;
  to_status: VersionStatus | null;
  alias: string | null;
  actor: string;
  reason: string;
  /** RFC 3339 time. */
  time: string;
}

/** A movable name for one version of a model, as returned by `aliases.set`. */
export interface Alias {
  name: string;
  model: string;
  alias: string;
  version: number;
  /** The version the alias pointed at before, or null when it is new. */
  previous_version: number | null;
  update_time: string;
}

/**
 * A version number (`3`) or an alias prefixed with `@` (`'@champion'`).
 */
export type VersionRef = number | `@${string}`;

/** One page of a list. An empty `next_page_token` means there are no more pages. */
export interface Page<T> {
  items: T[];
  next_page_token: string;
}

/** Options of list methods (AIP-132/158/160). */
export interface ListRequest {
  /** Default 50, at most 1000. */
  page_size?: number | undefined;
  /** `next_page_token` of the previous page, unchanged; only valid with the same filter and order. */
  page_token?: string | undefined;
  /** AIP-160 subset, e.g. `labels.team = "fraud" AND latest_version > 3`. */
  filter?: string | undefined;
  /** One field, optionally `asc`/`desc`, e.g. `create_time desc`. */
  order_by?: string | undefined;
}

/** Options of paged reads that take neither filter nor order (history). */
export interface PageRequest {
  page_size?: number | undefined;
  page_token?: string | undefined;
}

export interface CreateNamespaceRequest {
  /** Lowercase letters, digits, `-`, `_`; 1-63 characters. */
  namespace_id: string;
  description?: string | undefined;
}

export interface CreateModelRequest {
  /** Lowercase letters, digits, `-`, `_`; 1-63 characters. */
  model_id: string;
  description?: string | undefined;
  labels?: Labels | undefined;
}

/** The mutable fields of a model or version; fields left out are unchanged. */
export interface UpdateRequest {
  description?: string | undefined;
  /** Replaces all labels. */
  labels?: Labels | undefined;
}

export interface CreateVersionRequest {
  description?: string | undefined;
  labels?: Labels | undefined;
  /** JSON object, at most 64 KiB and 32 levels deep; immutable. */
  metadata?: JsonObject | undefined;
  source_uri?: string | undefined;
  /** Bytes uploaded beforehand (`POST /v1/artifacts`), by digest; `format` is detected when omitted. */
  artifact?: { digest: string; format?: string | undefined } | undefined;
  /** Lineage recorded with the version (datasets, run, parents); more may be added until approval. */
  lineage?: LineageInput | undefined;
}

export interface TransitionRequest {
  status: VersionStatus;
  reason?: string | undefined;
}

export interface BatchGetResponse {
  /** The versions found, in request order. */
  versions: Version[];
  /** The requested names that do not exist. */
  missing: string[];
}

/** The one error envelope every non-2xx REST response carries. */
export interface ErrorEnvelope {
  error: {
    code: string;
    message: string;
    details: { reason: string } & Record<string, unknown>;
    request_id: string;
  };
}

// ---------------------------------------------------------------------------------------------
// Artifacts

/** Bytes stored under their SHA-256 digest (`POST /v1/artifacts`); the same bytes are stored once. */
export interface Artifact {
  /** `sha256:` and 64 lowercase hex digits. */
  digest: string;
  size_bytes: number;
  /** The Content-Type the bytes were uploaded with, e.g. `application/octet-stream`. */
  media_type: string;
}

/** What `artifacts.upload` accepts: anything `fetch` can stream, or an async iterable of chunks (a Node file stream). */
export type UploadBody = Blob | Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** Called as bytes go out (uploads) or come in (downloads); `totalBytes` when known. */
export type ByteProgress = (bytes: number, totalBytes: number | undefined) => void;

/** The upload as the transport carries it: a body `fetch` can send, and what is known about it. */
export interface UploadArtifactRequest {
  body: Blob | Uint8Array | ReadableStream<Uint8Array>;
  /** Byte count, when known (sent as Content-Length where the runtime allows; the server checks it). */
  size?: number | undefined;
  /** `sha256:<hex>`: the server stores nothing unless the bytes have this digest. */
  digest?: string | undefined;
  /** Default `application/octet-stream`. */
  media_type?: string | undefined;
  /** Bytes handed to the network so far. */
  onProgress?: ByteProgress | undefined;
}

/** Inclusive byte range: `{ start: 0, end: 99 }` is the first 100 bytes; no `end` means to the last byte. */
export interface ByteRange {
  start: number;
  end?: number | undefined;
}

/** An artifact download: what the artifact is, which bytes `body` holds, and the bytes as a stream. */
export interface ArtifactDownload extends Artifact {
  /** First byte of `body` within the artifact (0 unless a range was asked for). */
  start: number;
  /** Last byte of `body` within the artifact (inclusive); `start - 1` for an empty body. */
  end: number;
  /** True when `body` is a range rather than the whole artifact. */
  partial: boolean;
  /** The bytes; read it once (e.g. `new Response(body).arrayBuffer()`, or pipe it to a file). */
  body: ReadableStream<Uint8Array>;
}

// ---------------------------------------------------------------------------------------------
// Deployments and operations

/** Statuses of a deployment: `pending → loading → ready`, or `failed`; `deleting` while undeploying. */
export const DEPLOYMENT_STATUSES = ['pending', 'loading', 'ready', 'failed', 'deleting'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** One target of a traffic split: a version number or `@alias`, and its share in percent (all add up to 100). */
export interface TrafficTarget {
  version: VersionRef;
  percent: number;
}

/** Dynamic batching: concurrent requests are merged along the first dimension. */
export interface Batching {
  /** 1-1024. */
  max_batch_size: number;
  /** How long a request may wait for others, in microseconds (0-1 000 000). */
  max_queue_delay_us: number;
}

/** A served model: `deployments/{deployment_id}`. */
export interface Deployment {
  name: string;
  uid: string;
  deployment_id: string;
  /** The model's resource name, `namespaces/{ns}/models/{model}`. */
  model: string;
  /** The split as requested (versions as given: `"3"`, `"@champion"`). */
  traffic: { version: string; percent: number }[];
  /** What the last successful rollout serves, aliases resolved. */
  serving: { version: number; percent: number; artifact_digest: string }[];
  replicas: number;
  batching: Batching | null;
  status: DeploymentStatus;
  /** Why it has its status, e.g. `serving v1 100%` or the reason of a failure. */
  status_message: string;
  /** Bumped by every change of the spec. */
  generation: number;
  /** The generation the status describes; equal to `generation` once a rollout finished. */
  observed_generation: number;
  create_time: string;
  update_time: string;
  etag: string;
}

export interface CreateDeploymentRequest {
  /** A DNS label (`fraud-prod`), unique. */
  deployment_id: string;
  /** The model's resource name, `namespaces/{ns}/models/{model}`. */
  model: string;
  /** One version (number or `@alias`) for all traffic; or give `traffic`. */
  version?: VersionRef | undefined;
  /** A split over up to 10 versions; percents add up to 100. */
  traffic?: TrafficTarget[] | undefined;
  /** 1-64; default 1. */
  replicas?: number | undefined;
  batching?: Batching | undefined;
}

/** What may change; fields left out keep their value. `version` or `traffic` replaces the split. */
export interface UpdateDeploymentRequest {
  version?: VersionRef | undefined;
  traffic?: TrafficTarget[] | undefined;
  replicas?: number | undefined;
  /** `null` turns batching off. */
  batching?: Batching | null | undefined;
}

export interface BatchGetDeploymentsResponse {
  /** The deployments found, in request order. */
  deployments: Deployment[];
  /** The requested names that do not exist. */
  missing: string[];
}

/** The result of an undeploy operation. */
export interface DeletedDeployment {
  name: string;
  deleted: true;
}

export const OPERATION_KINDS = ['deploy', 'update', 'undeploy'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** Where a long-running operation is. */
export interface OperationMetadata {
  kind: OperationKind;
  /** The resource it works on, e.g. `deployments/fraud-prod`. */
  target: string;
  /** 0-100. */
  progress: number;
  /** What it is doing, e.g. `loading version 3 (sha256:…)`. */
  message: string;
  create_time: string;
  update_time: string;
}

/** How a failed operation failed: the same code, message and details as an API error. */
export interface OperationError {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/**
 * A long-running operation (AIP-151): `operations/{id}`. When `done`, exactly one of `result`
 * (the deployment, for deploy and update) and `error` is set.
 */
export interface Operation<R = Record<string, unknown>> {
  name: string;
  done: boolean;
  metadata: OperationMetadata;
  result?: R;
  error?: OperationError;
}

// ---------------------------------------------------------------------------------------------
// Inference (Open Inference Protocol)

/** Request parameters of the Open Inference Protocol. */
export type InferParameters = Record<string, string | number | boolean>;

/** Tensor elements as the SDK takes them: a typed array or a plain array, flat and row-major. */
export type TensorInputData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | readonly number[]
  | readonly bigint[]
  | readonly boolean[]
  | readonly string[];

export interface InferInput {
  name: string;
  datatype: Datatype;
  shape: readonly number[];
  /** Row-major elements: numbers (64-bit integers also as bigint), BOOL as booleans, BYTES as strings. */
  data: TensorInputData;
  parameters?: InferParameters | undefined;
}

export interface InferRequest {
  /** The deployment (`fraud-prod` or `deployments/fraud-prod`). */
  deployment: string;
  /** A version the deployment serves (number or `@alias`); default: the traffic split picks. */
  version?: VersionRef | undefined;
  /** Echoed in the answer. */
  id?: string | undefined;
  inputs: readonly InferInput[];
  /** Names of the outputs to return; all when omitted. */
  outputs?: readonly string[] | undefined;
  parameters?: InferParameters | undefined;
}

/** The array an output of each datatype comes back as. */
export interface TensorDataTypes {
  BOOL: boolean[];
  UINT8: Uint8Array;
  UINT16: Uint16Array;
  UINT32: Uint32Array;
  UINT64: BigUint64Array;
  INT8: Int8Array;
  INT16: Int16Array;
  INT32: Int32Array;
  INT64: BigInt64Array;
  /** Half floats widened to float32 (no Float16Array in every runtime yet). */
  FP16: Float32Array;
  FP32: Float32Array;
  FP64: Float64Array;
  /** UTF-8 strings. */
  BYTES: string[];
}

/** One output tensor; narrowing on `datatype` narrows `data` (`FP32` → `Float32Array`). */
export type InferOutput = {
  [D in Datatype]: { name: string; datatype: D; shape: number[]; data: TensorDataTypes[D] };
}[Datatype];

export interface InferResponse {
  /** The deployment that answered. */
  model_name: string;
  /** The version that answered (a canary split picks one per request). */
  model_version: string;
  id: string;
  outputs: InferOutput[];
}

/** What an audit event says happened: done, refused by access control, or failed. */
export const AUDIT_OUTCOMES = ['success', 'denied', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/**
 * One entry of the append-only, hash-chained audit log. `hash` is the hex SHA-256 of
 * `prev_hash` followed by the canonical JSON (keys sorted, no spaces) of every other field.
 */
export interface AuditEvent {
  /** Position in the chain: 1, 2, 3… without gaps. */
  seq: number;
  /** RFC 3339 time. */
  time: string;
  /** Principal id, or `anonymous`. */
  principal: string;
  /** The API method: `CreateVersion`, `DownloadArtifact`, `ReadAudit`… */
  action: string;
  /** Full resource name: `namespaces/fraud/models/scorer/versions/3`. */
  resource: string;
  outcome: AuditOutcome;
  permission: string | null;
  request_id: string;
  trace_id: string | null;
  client_address: string | null;
  /** SHA-256 (base64url) of the change's canonical request, for mutations. */
  change_digest: string | null;
  details: JsonObject | null;
  /** Hash of event `seq - 1` (64 zeros for the first). */
  prev_hash: string;
  hash: string;
}

/** Filters of an audit listing or export; all given ones must match. */
export interface AuditEventsFilter {
  principal?: string | undefined;
  /** Exact resource name; a trailing `*` matches every name starting with the rest (`namespaces/fraud/*`). */
  resource?: string | undefined;
  action?: string | undefined;
  outcome?: AuditOutcome | undefined;
  /** RFC 3339: events at or after it. */
  since?: string | undefined;
  /** RFC 3339: events before it. */
  until?: string | undefined;
}

export interface ListAuditEventsRequest extends AuditEventsFilter, PageRequest {
  /** `seq` (oldest first, the default) or `seq desc` (newest first). */
  order_by?: string | undefined;
}

/** A signed statement that the chain's event `seq` had hash `hash`. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  /** RFC 3339 time. */
  time: string;
  key_id: string;
  /** Ed25519 signature (base64url) of the canonical JSON of seq, hash, time and key_id. */
  signature: string;
}

/** Why verification stopped: which event (or checkpoint seq) and how it was tampered with. */
export interface AuditInvalid {
  seq: number;
  reason: 'modified' | 'deleted' | 'inserted' | 'reordered' | 'checkpoint_signature' | 'checkpoint_mismatch';
  message: string;
}

/** The verdict of `audit.verify`. */
export interface AuditVerification {
  valid: boolean;
  events_checked: number;
  checkpoints_checked: number;
  /** The head the walk went to; later events are left for the next run. */
  head_seq: number;
  /** The keys whose checkpoints were checked: compare them with the ones you trust. */
  key_ids: string[];
  first_invalid?: AuditInvalid | undefined;
}

/** Progress of a verification: events checked so far out of the head's seq. */
export type AuditProgress = (eventsChecked: number, total: number) => void;

/** The key that signs audit checkpoints. */
export interface AuditPublicKey {
  key_id: string;
  algorithm: 'Ed25519';
  /** SPKI PEM. */
  public_key: string;
}

// ---- Lineage: datasets, runs, lineage graphs, the version timeline, OpenLineage ----

/** A dataset: `namespaces/{ns}/datasets/{dataset_id}`. */
export interface Dataset {
  name: string;
  uid: string;
  namespace: string;
  dataset_id: string;
  description: string;
  labels: Labels;
  /** Highest version number; 0 when the dataset has none. */
  latest_version: number;
  create_time: string;
  update_time: string;
  etag: string;
}

/** What the data was when a model used it: `…/datasets/{dataset}/versions/{n}`, identified by URI + digest. */
export interface DatasetVersion {
  name: string;
  uid: string;
  dataset: string;
  version: number;
  uri: string;
  digest: string;
  size_bytes: number | null;
  format: string | null;
  metadata: JsonObject;
  created_by: string;
  create_time: string;
}

export const RUN_KINDS = ['training', 'evaluation'] as const;
export type RunKind = (typeof RUN_KINDS)[number];
export const RUN_STATUSES = ['running', 'succeeded', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A training or evaluation run: `namespaces/{ns}/runs/{run_id}`. */
export interface Run {
  name: string;
  uid: string;
  namespace: string;
  run_id: string;
  kind: RunKind;
  status: RunStatus;
  description: string;
  labels: Labels;
  code_commit: string;
  parameters: JsonObject;
  metrics: JsonObject;
  environment: JsonObject;
  start_time: string | null;
  end_time: string | null;
  created_by: string;
  create_time: string;
  update_time: string;
  etag: string;
}

export interface CreateDatasetRequest {
  dataset_id: string;
  description?: string | undefined;
  labels?: Labels | undefined;
}

export interface CreateDatasetVersionRequest {
  /** With a scheme: `s3://…`, `gs://…`, `file:///…`. */
  uri: string;
  /** `algorithm:hex`, e.g. `sha256:…`. */
  digest: string;
  size_bytes?: number | undefined;
  format?: string | undefined;
  metadata?: JsonObject | undefined;
}

export interface CreateRunRequest {
  run_id: string;
  kind: RunKind;
  /** Default `succeeded`. */
  status?: RunStatus | undefined;
  description?: string | undefined;
  labels?: Labels | undefined;
  code_commit?: string | undefined;
  parameters?: JsonObject | undefined;
  metrics?: JsonObject | undefined;
  environment?: JsonObject | undefined;
  /** RFC 3339. */
  start_time?: string | undefined;
  end_time?: string | undefined;
}

export interface UpdateRunRequest {
  status?: RunStatus | undefined;
  description?: string | undefined;
  labels?: Labels | undefined;
  metrics?: JsonObject | undefined;
  end_time?: string | undefined;
}

/** Lineage to record, by resource name; edges already recorded are kept. */
export interface LineageInput {
  trained_on?: string[] | undefined;
  evaluated_on?: string[] | undefined;
  produced_by?: string | undefined;
  derived_from?: string[] | undefined;
}

/** The lineage a version records. */
export interface VersionLineage {
  version: string;
  trained_on: string[];
  evaluated_on: string[];
  produced_by: string | null;
  derived_from: string[];
  /** True from approval on: the lineage can no longer change. */
  frozen: boolean;
}

export const LINEAGE_DIRECTIONS = ['upstream', 'downstream', 'both'] as const;
export type LineageDirection = (typeof LINEAGE_DIRECTIONS)[number];

export interface LineageRequest {
  /** Default `upstream` from a version, `downstream` from a dataset version. */
  direction?: LineageDirection | undefined;
  /** Levels to walk: 1-10, default 3. */
  depth?: number | undefined;
}

export interface LineageNode {
  name: string;
  type: 'model_version' | 'dataset_version' | 'run' | 'deployment';
  depth: number;
  status?: string;
  model?: string;
  version?: number;
  artifact_digest?: string | null;
  dataset?: string;
  uri?: string;
  digest?: string;
  run_kind?: RunKind;
  code_commit?: string;
  serving?: { version: number; percent: number }[];
}

/** "source kind target": a version `trained_on` a dataset version, a deployment `serves` a version. */
export interface LineageEdge {
  source: string;
  target: string;
  kind: 'trained_on' | 'evaluated_on' | 'produced_by' | 'derived_from' | 'serves';
}

export interface LineageGraph {
  root: string;
  direction: LineageDirection;
  depth: number;
  nodes: LineageNode[];
  edges: LineageEdge[];
  /** True when the walk stopped at the node cap. */
  truncated: boolean;
}

export const TIMELINE_KINDS = [
  'created',
  'transition',
  'approval',
  'alias_set',
  'alias_unset',
  'updated',
  'lineage_recorded',
  'deployed',
  'undeployed',
] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

/** One entry of a version's timeline. */
export interface TimelineEntry {
  time: string;
  kind: TimelineKind;
  actor: string;
  summary: string;
  details: JsonObject;
}

/** An OpenLineage (spec 2-0-2) RunEvent, as Quiver exports it. */
export interface OpenLineageRunEvent {
  eventType: 'COMPLETE';
  eventTime: string;
  run: { runId: string; facets: Record<string, JsonObject> };
  job: { namespace: string; name: string; facets: Record<string, JsonObject> };
  inputs: { namespace: string; name: string; facets: Record<string, JsonObject> }[];
  outputs: { namespace: string; name: string; facets: Record<string, JsonObject> }[];
  producer: string;
  schemaURL: string;
}
