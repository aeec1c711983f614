import type { Kysely, Selectable } from 'kysely';
import type { AuditCheckpoint, AuditEvent, AuditEventBody, ChainHead } from '../../domain/audit-chain.js';
import { canonicalJson, seal, sealParts } from '../../domain/audit-chain.js';
import { rfc3339 } from '../../domain/resources.js';
import type { AuditFilter, AuditKey, AuditRepository } from '../../ports/audit.js';
import type { SqlDialect } from './dialects/dialect.js';
import { prefixUpperBound } from './filter-sql.js';
import { PreparedStatement, preparedInsert } from './prepared.js';
import type { Database } from './schema.js';

type EventRow = Selectable<Database['audit_events']>;

export class SqlAuditRepository implements AuditRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly d: SqlDialect,
  ) {}

  async lockHead(): Promise<ChainHead> {
    const [head] = await LOCK_HEAD.run<ChainHead>(this.db, this.d, {});
    if (!head) throw new Error('audit_head has no row: the audit migration did not run');
    return head;
  }

  async head(): Promise<ChainHead> {
    return this.db
      .selectFrom('audit_head')
      .select(['seq', 'hash'])
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
  }

  async append(body: Omit<AuditEventBody, 'seq' | 'prev_hash'>): Promise<void> {
    if (this.d.auditSealing === 'append') {
      await this.insert(seal(await this.lockHead(), body));
      return;
    }
    // The deferred trigger of audit_pending seals it onto the head as this transaction commits.
    const parts = sealParts(body);
    await INSERT_PENDING.run(this.db, this.d, {
      ...eventColumns(body),
      seal_before: parts.before,
      seal_between: parts.between,
      seal_after: parts.after,
    });
  }

  async insert(e: AuditEvent): Promise<void> {
    // The trigger moves audit_head to this event within the same statement.
    await INSERT_EVENT.run(this.db, this.d, {
      seq: e.seq,
      ...eventColumns(e),
      prev_hash: e.prev_hash,
      hash: e.hash,
    });
  }

  async list(filter: AuditFilter, after: number | null, desc: boolean, limit: number): Promise<AuditEvent[]> {
    let q = this.db.selectFrom('audit_events').selectAll();
    if (filter.principal !== undefined) q = q.where('principal', '=', filter.principal);
    if (filter.action !== undefined) q = q.where('action', '=', filter.action);
    if (filter.outcome !== undefined) q = q.where('outcome', '=', filter.outcome);
    if (filter.since !== undefined) q = q.where('time', '>=', filter.since);
    if (filter.until !== undefined) q = q.where('time', '<', filter.until);
    if (filter.resource !== undefined) {
      if (!filter.resourcePrefix) q = q.where('resource', '=', filter.resource);
      else {
        // A range, not LIKE: it uses the (resource, seq) index on both databases (text sorts bytewise).
        q = q.where('resource', '>=', filter.resource);
        const upper = prefixUpperBound(filter.resource);
        if (upper !== undefined) q = q.where('resource', '<', upper);
      }
    }
    if (after !== null) q = q.where('seq', desc ? '<' : '>', after);
    const rows = await q
      .orderBy('seq', desc ? 'desc' : 'asc')
      .limit(limit)
      .execute();
    return rows.map(toEvent);
  }

  async scan(after: number, upTo: number, limit: number): Promise<AuditEvent[]> {
    const rows = await this.db
      .selectFrom('audit_events')
      .selectAll()
      .where('seq', '>', after)
      .where('seq', '<=', upTo)
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toEvent);
  }

  async insertCheckpoint(cp: AuditCheckpoint): Promise<void> {
    await this.db
      .insertInto('audit_checkpoints')
      .values({ ...cp, time: Date.parse(cp.time) })
      .execute();
  }

  async lastCheckpoint(): Promise<AuditCheckpoint | undefined> {
    const row = await this.db
      .selectFrom('audit_checkpoints')
      .selectAll()
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && { ...row, time: rfc3339(row.time) };
  }

  async checkpoints(after: number, upTo: number, limit: number): Promise<AuditCheckpoint[]> {
    const rows = await this.db
      .selectFrom('audit_checkpoints')
      .selectAll()
      .where('seq', '>', after)
      .where('seq', '<=', upTo)
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ ...row, time: rfc3339(row.time) }));
  }

  async registerKey(key: AuditKey): Promise<void> {
    await this.db
      .insertInto('audit_keys')
      .values({ ...key, create_time: Date.parse(key.create_time) })
      .onConflict((oc) => oc.column('key_id').doNothing())
      .execute();
  }

  async keys(): Promise<AuditKey[]> {
    const rows = await this.db.selectFrom('audit_keys').selectAll().orderBy('create_time').execute();
    return rows.map((row) => ({ ...row, create_time: rfc3339(row.create_time) }));
  }
}

function toEvent(row: EventRow): AuditEvent {
  return {
    seq: row.seq,
    time: rfc3339(row.time),
    principal: row.principal,
    action: row.action,
    resource: row.resource,
    outcome: row.outcome,
    permission: row.permission,
    request_id: row.request_id,
    trace_id: row.trace_id,
    client_address: row.client_address,
    change_digest: row.change_digest,
    details: row.details === null ? null : parseDetails(row.details),
    prev_hash: row.prev_hash,
    hash: row.hash,
  };
}

/** The columns of an event's recorded fields, whether sealed yet or not. */
function eventColumns(e: Omit<AuditEventBody, 'seq' | 'prev_hash'>) {
  return {
    time: Date.parse(e.time),
    principal: e.principal,
    action: e.action,
    resource: e.resource,
    outcome: e.outcome,
    permission: e.permission,
    request_id: e.request_id,
    trace_id: e.trace_id,
    client_address: e.client_address,
    change_digest: e.change_digest,
    details: e.details === null ? null : canonicalJson(e.details),
  };
}

/** Text that is not JSON (written behind Quiver's back) is kept visible; its event then fails its hash. */
function parseDetails(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { unparseable_details: text };
  }
}

// Every change writes one event under the chain head's lock: compiled once (see prepared.ts).
const LOCK_HEAD = new PreparedStatement<Record<string, never>>('audit_head.lock', [], (db, _p, d) =>
  d.forUpdate(db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1)),
);

const EVENT_COLUMNS = [
  'seq',
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
  'prev_hash',
  'hash',
] as const satisfies readonly (keyof EventRow)[];

const INSERT_EVENT = preparedInsert<EventRow>('audit_events', EVENT_COLUMNS);

type PendingRow = Omit<Selectable<Database['audit_pending']>, 'id'>;
const INSERT_PENDING = preparedInsert<PendingRow>('audit_pending', [
  ...EVENT_COLUMNS.filter((c) => c !== 'seq' && c !== 'prev_hash' && c !== 'hash'),
  'seal_before',
  'seal_between',
  'seal_after',
]);
