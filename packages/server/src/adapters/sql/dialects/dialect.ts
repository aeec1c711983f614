import type {
  ColumnDataType,
  ColumnDefinitionBuilder,
  Dialect,
  Expression,
  Kysely,
  RawBuilder,
} from 'kysely';

type DataTypeExpression = ColumnDataType | Expression<unknown>;

import type { Database } from '../schema.js';

/**
 * Everything that differs between SQLite and PostgreSQL, in one small object per database.
 * Repositories and migrations ask this object; nothing else may ask which database runs.
 */
export interface SqlDialect {
  readonly name: 'sqlite' | 'postgres';
  /** Schema holding Quiver's tables (PostgreSQL), so migrations never look at another install's tables. */
  readonly schema: string | undefined;
  /** The Kysely dialect that talks to the driver. */
  readonly kysely: Dialect;
  /** Most bind parameters one statement may carry. */
  readonly maxParameters: number;
  /** Type of auto-incrementing primary keys (SQLite wants exactly INTEGER for its rowid alias). */
  readonly idType: ColumnDataType;
  /** An auto-incrementing 64-bit primary key column. */
  primaryKey(col: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /**
   * Text that compares and sorts by code point (bytewise), as SQLite's default does; PostgreSQL needs
   * COLLATE "C" for it. Prefix filters compile to ranges and rely on this; so do stable name orders.
   */
  readonly text: DataTypeExpression;
  /** Appended inside correlated label subqueries (see compileFilter): PostgreSQL's `OFFSET 0` fence. */
  readonly subqueryFence: RawBuilder<unknown>;
  /** Locks selected rows for a claim, skipping rows other workers hold (PostgreSQL); SQLite serialises writers anyway. */
  skipLocked<QB extends { forUpdate(): QB; skipLocked(): QB }>(qb: QB): QB;
  /** Locks selected rows until the transaction ends (PostgreSQL); SQLite's write transaction already excludes other writers. */
  forUpdate<QB extends { forUpdate(): QB }>(qb: QB): QB;
  /** DDL making `table` append-only: UPDATE and DELETE (and TRUNCATE) of its rows raise an error. */
  appendOnly(table: string): RawBuilder<unknown>[];
  /** DDL of a trigger copying `columns` of every row inserted into `table` onto every row of `target` (one). */
  mirrorInserts(table: string, target: string, columns: readonly string[]): RawBuilder<unknown>[];
  /**
   * Where the audit chain is sealed. 'append': the appender locks the head, seals the event and
   * inserts it (SQLite, whose single writer holds the database anyway). 'commit': the appender
   * inserts the event into audit_pending and a deferred trigger seals it as the transaction
   * commits (PostgreSQL), so the head's lock is held for the commit alone, not across round trips.
   */
  readonly auditSealing: 'append' | 'commit';
  /**
   * INSERT/UPDATE … RETURNING inside WITH (PostgreSQL): several dependent writes go to the server as
   * one statement, one round trip. SQLite's WITH holds SELECTs only.
   */
  readonly writableCtes: boolean;
  /**
   * DDL of sealing at commit (the table, its trigger and function) for events that record
   * `fields` besides seq, prev_hash and hash; none where sealing is at append.
   */
  sealAuditAtCommit(fields: readonly string[]): RawBuilder<unknown>[];
  /**
   * Upkeep the store runs every `everyMs` while open: statements that keep churning tables small
   * whatever the server's own settings are (PostgreSQL with autovacuum off would let them grow).
   */
  readonly housekeeping?: { everyMs: number; statements: RawBuilder<unknown>[] };
  isUniqueViolation(err: unknown): boolean;
  /** Errors that mean "the database is busy or away": retry later, answer UNAVAILABLE. */
  isUnavailable(err: unknown): boolean;
  /**
   * Writes arriving together share one transaction, each in a savepoint (see GroupCommit): for a
   * database with a single writer, where a commit's cost is the pages it writes, not a wait.
   */
  readonly groupCommit: boolean;
  /**
   * Marks a statement text as run often (see PreparedStatement): PostgreSQL then parses and plans
   * it once per connection (a named statement) instead of on every call.
   */
  nameStatement?(sql: string): void;
  /** Connections of the pool now (PostgreSQL), for metrics; read on each scrape. */
  poolStats?(): { total: number; idle: number; waiting: number; max: number };
  /** The background WAL checkpointer's counters (SQLite with QUIVER_SQLITE_CHECKPOINT_MS), for metrics. */
  checkpointStats?(): { runs: number; lastLog: number; lastCheckpointed: number; failing: boolean };
  /** Stops what the dialect runs in the background (SQLite's WAL checkpointer); after the pool closed. */
  close?(): Promise<void>;
  /** Run once right after connecting (pragmas and the like). */
  prepare(db: Kysely<Database>): Promise<void>;
  /** A short description for logs, without secrets. */
  readonly description: string;
}

export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
