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
export const HISTORY_KINDS = ['created', 'transition', 'alias_set', 'alias_unset', 'updated'] as const;
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
