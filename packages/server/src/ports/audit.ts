import type { AuditCheckpoint, AuditEvent, AuditEventBody, ChainHead } from '../domain/audit-chain.js';

/** What an audit event says happened to a request: done, refused by access control, or failed. */
export const AUDIT_OUTCOMES = ['success', 'denied', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** One entry to append to the audit log, before the log numbers and chains it. */
export interface AuditEntry {
  /** Principal id, or `anonymous` for a call without credentials. */
  principal: string;
  /** The API method (`CreateVersion`, `DownloadArtifact`, …). */
  action: string;
  /** Full resource name the action was on (`namespaces/a/models/b/versions/3`). */
  resource: string;
  outcome: AuditOutcome;
  /** The permission that was checked (`versions.create`), when one was. */
  permission?: string | undefined;
  requestId: string;
  traceId?: string | undefined;
  clientAddress?: string | undefined;
  /** SHA-256 (base64url) of the change's canonical request, for mutations. */
  changeDigest?: string | undefined;
  /** Small structured context: the reason of a denial, the version a create produced… */
  details?: Record<string, unknown> | undefined;
}

/**
 * Appends entries that are not part of a mutation's transaction (a permission denial, a
 * sensitive read) in their own transaction. Mutations are audited inside their transaction
 * by the audit observer of `Mutations`.
 */
export interface AuditSink {
  record(entry: AuditEntry): Promise<void>;
}

/** Filters of an audit event listing; all given ones must match. */
export interface AuditFilter {
  principal?: string | undefined;
  /** An exact resource name, or with `resourcePrefix` every name starting with it. */
  resource?: string | undefined;
  resourcePrefix?: boolean | undefined;
  action?: string | undefined;
  outcome?: AuditOutcome | undefined;
  /** Epoch milliseconds, inclusive. */
  since?: number | undefined;
  /** Epoch milliseconds, exclusive. */
  until?: number | undefined;
}

/** A trusted checkpoint signing key (every key that ever signed stays, so old checkpoints verify). */
export interface AuditKey {
  key_id: string;
  /** SPKI PEM of the Ed25519 public key. */
  public_key: string;
  create_time: string;
}

/**
 * Storage of the audit chain. Appends run in the caller's transaction, so that a change and its
 * event commit together or not at all.
 */
export interface AuditRepository {
  /**
   * Appends an event, sealed onto the chain's head (seq, prev_hash, hash) in this transaction:
   * at once under the head's lock, or, where the store seals at commit (PostgreSQL), by the
   * database as the transaction commits. Either way the sealed event is what `seal` gives.
   */
  append(body: Omit<AuditEventBody, 'seq' | 'prev_hash'>): Promise<void>;
  /** The chain's head, locked against other appenders until the transaction ends. */
  lockHead(): Promise<ChainHead>;
  /** The head without a lock (verification bounds its walk with it). */
  head(): Promise<ChainHead>;
  /** Inserts an event as given (already sealed): restores and tests; appenders use `append`. */
  insert(event: AuditEvent): Promise<void>;
  /** Events matching `filter` after (or before, when `desc`) seq `after`, in seq order. */
  list(filter: AuditFilter, after: number | null, desc: boolean, limit: number): Promise<AuditEvent[]>;
  /** Events with seq in (after, upTo], ascending: verification and export read the log in such batches. */
  scan(after: number, upTo: number, limit: number): Promise<AuditEvent[]>;
  insertCheckpoint(cp: AuditCheckpoint): Promise<void>;
  lastCheckpoint(): Promise<AuditCheckpoint | undefined>;
  /** Checkpoints with seq in (after, upTo], ascending. */
  checkpoints(after: number, upTo: number, limit: number): Promise<AuditCheckpoint[]>;
  /** Records a signing key's public half, once. */
  registerKey(key: AuditKey): Promise<void>;
  keys(): Promise<AuditKey[]>;
}

/** Signs checkpoints of the chain's head (Ed25519). */
export interface AuditSigner {
  /** Identifies the key in checkpoints: the first 16 hex digits of SHA-256 over its public key (SPKI DER). */
  readonly keyId: string;
  /** SPKI PEM of the public key, published at GET /v1/audit/public-key. */
  readonly publicKeyPem: string;
  /** Base64url Ed25519 signature of `payload`. */
  sign(payload: Buffer): string;
}
