/**
 * Resource and request shapes of the Quiver API, exactly as the REST JSON carries them
 * (snake_case, the same names in REST, gRPC, the SDK and the CLI).
 *
 * The shapes come from the contract: `openapi.generated.ts` is generated from
 * docs/openapi/v1.json by `npm run gen` (ADR 008), and this file only gives its types the
 * names of the design's vocabulary. What is written by hand here is what the contract does not
 * describe as JSON: SDK-side shapes (pages, streams, typed-array tensors) and the closed sets
 * as runtime arrays, each checked against the contract's union at compile time.
 */
import type { Paths, Schemas } from './openapi.generated.js';

// The closed sets below are runtime arrays; packages/sdk/test/contract-types.test.ts checks at
// compile time that each equals the contract's union.
type Op<P extends keyof Paths, M extends keyof Paths[P]> = Paths[P][M];
/** The JSON body an operation of the REST API takes. */
export type Body<P extends keyof Paths, M extends keyof Paths[P]> =
  Op<P, M> extends { body: infer B } ? B : never;
/** The query parameters of an operation of the REST API. */
export type Query<P extends keyof Paths, M extends keyof Paths[P]> =
  Op<P, M> extends { query: infer Q } ? Q : never;
/** The JSON of an operation's success answer. */
export type Answer<P extends keyof Paths, M extends keyof Paths[P]> =
  Op<P, M> extends { response: infer R } ? R : never;

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
export type Namespace = Schemas['Namespace'];

/** A registered model: `namespaces/{ns}/models/{model_id}`. */
export type Model = Schemas['Model'];

/** An immutable model version: `namespaces/{ns}/models/{model}/versions/{n}`. */
export type Version = Schemas['Version'];

/** The artifact of a version: immutable bytes under a digest. */
export type VersionArtifact = NonNullable<Version['artifact']>;

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

export type TensorSpec = Signature['inputs'][number];

/** Inputs and outputs of a model, read from the model file. */
export type Signature = Schemas['Signature'];

/** One entry of a version's lifecycle history. */
export type HistoryEntry = Schemas['HistoryEntry'];

/** A movable name for one version of a model, as returned by `aliases.set`. */
export type Alias = Schemas['Alias'];

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
export type ListRequest = Query<'/v1/namespaces/{namespace}/models', 'get'>;

/** Options of paged reads that take neither filter nor order (history). */
export interface PageRequest {
  page_size?: number | undefined;
  page_token?: string | undefined;
}

export type CreateNamespaceRequest = Body<'/v1/namespaces', 'post'>;

export type CreateModelRequest = Body<'/v1/namespaces/{namespace}/models', 'post'>;

/** The mutable fields of a model or version; fields left out are unchanged. */
export type UpdateRequest = Body<'/v1/namespaces/{namespace}/models/{model}', 'patch'> &
  Body<'/v1/namespaces/{namespace}/models/{model}/versions/{version}', 'patch'>;

export type CreateVersionRequest = Body<'/v1/namespaces/{namespace}/models/{model}/versions', 'post'>;

export type TransitionRequest = Body<
  '/v1/namespaces/{namespace}/models/{model}/versions/{version}:transition',
  'post'
>;

export type BatchGetResponse = Answer<'/v1/versions:batchGet', 'post'>;

/** The part of a version a status query needs: name, number, status, update time, ETag. */
export type VersionStatusView = Schemas['VersionStatusView'];

export type BatchGetStatusResponse = Answer<'/v1/versions:batchGetStatus', 'post'>;

/** The one error envelope every non-2xx REST response carries. */
export type ErrorEnvelope = Schemas['Error'];

// ---------------------------------------------------------------------------------------------
// Artifacts

/** Bytes stored under their SHA-256 digest (`POST /v1/artifacts`); the same bytes are stored once. */
export type Artifact = Answer<'/v1/artifacts', 'post'>;

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
export type Deployment = Schemas['Deployment'];

export type CreateDeploymentRequest = Body<'/v1/deployments', 'post'>;

/** What may change; fields left out keep their value. `version` or `traffic` replaces the split. */
export type UpdateDeploymentRequest = Body<'/v1/deployments/{deployment}', 'patch'>;

export type BatchGetDeploymentsResponse = Answer<'/v1/deployments:batchGet', 'post'>;

/** The result of an undeploy operation. */
export interface DeletedDeployment {
  name: string;
  deleted: true;
}

export const OPERATION_KINDS = ['deploy', 'update', 'undeploy'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** Where a long-running operation is. */
export type OperationMetadata = Schemas['Operation']['metadata'];

/** How a failed operation failed: the same code, message and details as an API error. */
export type OperationError = NonNullable<Schemas['Operation']['error']>;

/**
 * A long-running operation (AIP-151): `operations/{id}`. When `done`, exactly one of `result`
 * (the deployment, for deploy and update) and `error` is set.
 */
export type Operation<R = Record<string, unknown>> = Omit<Schemas['Operation'], 'result'> & {
  /** Set when `done` and the operation succeeded: the deployment, for deploy and update. */
  result?: R | undefined;
};

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
export type AuditEvent = Answer<'/v1/audit/events', 'get'>['events'][number];

/** Filters of an audit listing or export; all given ones must match. */
export type AuditEventsFilter = Omit<ListAuditEventsRequest, 'order_by' | 'page_size' | 'page_token'>;

export type ListAuditEventsRequest = Query<'/v1/audit/events', 'get'>;

/** A signed statement that the chain's event `seq` had hash `hash`. */
export type AuditCheckpoint = Answer<'/v1/audit/checkpoints', 'get'>['checkpoints'][number];

/** Why verification stopped: which event (or checkpoint seq) and how it was tampered with. */
export type AuditInvalid = NonNullable<AuditVerification['first_invalid']>;

/** The verdict of `audit.verify`. */
export type AuditVerification = Answer<'/v1/audit:verify', 'get'>;

/** Progress of a verification: events checked so far out of the head's seq. */
export type AuditProgress = (eventsChecked: number, total: number) => void;

/** The key that signs audit checkpoints. */
export type AuditPublicKey = Answer<'/v1/audit/public-key', 'get'>;

// ---- Lineage: datasets, runs, lineage graphs, the version timeline, OpenLineage ----

/** A dataset: `namespaces/{ns}/datasets/{dataset_id}`. */
export type Dataset = Schemas['Dataset'];

/** What the data was when a model used it: `…/datasets/{dataset}/versions/{n}`, identified by URI + digest. */
export type DatasetVersion = Schemas['DatasetVersion'];

export const RUN_KINDS = ['training', 'evaluation'] as const;
export type RunKind = (typeof RUN_KINDS)[number];
export const RUN_STATUSES = ['running', 'succeeded', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A training or evaluation run: `namespaces/{ns}/runs/{run_id}`. */
export type Run = Schemas['Run'];

export type CreateDatasetRequest = Body<'/v1/namespaces/{namespace}/datasets', 'post'>;

export type CreateDatasetVersionRequest = Body<
  '/v1/namespaces/{namespace}/datasets/{dataset}/versions',
  'post'
>;

export type CreateRunRequest = Body<'/v1/namespaces/{namespace}/runs', 'post'>;

export type UpdateRunRequest = Body<'/v1/namespaces/{namespace}/runs/{run}', 'patch'>;

/** Lineage to record, by resource name; edges already recorded are kept. */
export type LineageInput = Body<
  '/v1/namespaces/{namespace}/models/{model}/versions/{version}:recordLineage',
  'post'
>;

/** The lineage a version records. */
export type VersionLineage = Schemas['VersionLineage'];

export const LINEAGE_DIRECTIONS = ['upstream', 'downstream', 'both'] as const;
export type LineageDirection = (typeof LINEAGE_DIRECTIONS)[number];

export interface LineageRequest {
  /** Default `upstream` from a version, `downstream` from a dataset version. */
  direction?: LineageDirection | undefined;
  /** Levels to walk: 1-10, default 3. */
  depth?: number | undefined;
}

export type LineageNode = LineageGraph['nodes'][number];

/** "source kind target": a version `trained_on` a dataset version, a deployment `serves` a version. */
export type LineageEdge = LineageGraph['edges'][number];

export type LineageGraph = Schemas['LineageGraph'];

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
export type TimelineEntry = Schemas['TimelineEntry'];

/** An OpenLineage (spec 2-0-2) RunEvent, as Quiver exports it. */
export type OpenLineageRunEvent = Schemas['OpenLineageEvents']['events'][number];
