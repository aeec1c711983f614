import type { VersionStatus } from './lifecycle.js';
import type { Grants } from './permissions.js';
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

/** What a status query needs of a version (`versions:batchGetStatus`): a fraction of the full resource. */
export interface VersionStatusView {
  name: string;
  version: number;
  status: VersionStatus;
  update_time: string;
  etag: string;
}

export interface VersionArtifact {
  digest: string;
  size_bytes: number;
  media_type: string;
  format: string | null;
}

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

export const PRINCIPAL_KINDS = ['user', 'service_account'] as const;
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];

/** Who is asking, as authentication established it (see services/iam). */
export interface Actor {
  /** Principal id (`admin`, `ci-bot`), or `anonymous` when authentication is off. */
  principal: string;
  kind?: PrincipalKind | undefined;
  /** Groups from the identity provider (OIDC), for group bindings. */
  groups?: readonly string[] | undefined;
  /**
   * What the caller may do; lists are filtered by it. Absent on calls the server makes itself
   * (jobs, seeding, tests of the services): the transports, which check every request, always set it.
   */
  grants?: Grants | undefined;
}

export const ANONYMOUS: Actor = { principal: 'anonymous' };

export function etagOf(revision: number, uid: string): string {
  return `"${uid.slice(-8)}-${revision}"`;
}

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}
