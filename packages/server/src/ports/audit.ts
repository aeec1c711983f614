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
