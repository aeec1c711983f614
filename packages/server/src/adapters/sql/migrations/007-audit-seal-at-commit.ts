import type { Kysely } from 'kysely';
import type { SqlDialect } from '../dialects/dialect.js';

/**
 * PostgreSQL seals audit events as their transaction commits (ADR 008): appenders no longer lock
 * the chain's head from their first statement to their commit, which made every write of every
 * instance queue behind the one holding it. SQLite keeps sealing at append (no DDL here).
 */
export async function up(db: Kysely<unknown>, d: SqlDialect): Promise<void> {
  for (const statement of d.sealAuditAtCommit(RECORDED)) await statement.execute(db);
}

/** The columns of audit_events (migration 003) besides seq, prev_hash and hash, as of this migration. */
const RECORDED = [
  'time',
  'principal',
  'action',
  'resource',
  'outcome',
  'permission',
  'request_id',
  'trace_id',
  'client_address',
  'change_digest',
  'details',
] as const;
