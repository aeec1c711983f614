import type { VersionStatus } from './lifecycle.js';
import type { Signature } from './tensors.js';

/** Resource shapes as the API shows them (snake_case, the same in REST, gRPC and the SDK). */
export type Labels = Record<string, string>;
export type JsonObject = Record<string, unknown>;

export interface Namespace {
  name: string;
  uid: string;
  namespace_id: string;
  description: string;
  create_time: string;
  update_time: string;
  etag: string;
}

export interface Model {
  name: string;
  uid: string;
  namespace: string;
  model_id: string;
  description: string;
  labels: Labels;
  latest_version: number;
  aliases: Record<string, number>;
  create_time: string;
  update_time: string;
  etag: string;
}

export interface Version {
  name: string;
  uid: string;
  model: string;
  version: number;
  status: VersionStatus;
  description: string;
  labels: Labels;
  metadata: JsonObject;
  source_uri: string;
  /** The bytes this version is (content-addressed), or null for a metadata-only version. */
  artifact: VersionArtifact | null;
  /** Inputs and outputs read from the model (ONNX), or null. */
  signature: Signature | null;
  aliases: string[];
  create_time: string;
  update_time: string;
  created_by: string;
  etag: string;
}

export interface VersionArtifact {
  digest: string;
  size_bytes: number;
  media_type: string;
  format: string | null;
}

export const HISTORY_KINDS = ['created', 'transition', 'alias_set', 'alias_unset', 'updated'] as const;
export type HistoryKind = (typeof HISTORY_KINDS)[number];

export interface HistoryEntry {
  kind: HistoryKind;
  version: number;
  from_status: VersionStatus | null;
  to_status: VersionStatus | null;
  alias: string | null;
  actor: string;
  reason: string;
  time: string;
}

export interface Page<T> {
  items: T[];
  next_page_token: string;
}

/** Who is asking. Authentication (a later capability) fills this in; until then requests are `anonymous`. */
export interface Actor {
  principal: string;
}

export const ANONYMOUS: Actor = { principal: 'anonymous' };

export function etagOf(revision: number, uid: string): string {
  return `"${uid.slice(-8)}-${revision}"`;
}

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}
