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
