import { type Kysely, sql } from 'kysely';
import { GENESIS_HASH } from '../../../domain/audit-chain.js';
import type { SqlDialect } from '../dialects/dialect.js';

/**
 * The audit log: hash-chained events, signed checkpoints of the chain's head, the keys that
 * signed them, and a one-row head that appenders lock (PostgreSQL) to append one at a time.
 * Events, checkpoints and keys refuse UPDATE and DELETE through triggers on both databases.
 */
export async function up(db: Kysely<unknown>, d: SqlDialect): Promise<void> {
  await db.schema
    .createTable('audit_events')
    // Chosen by the appender (head + 1), never by the database: the chain numbers itself.
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('principal', d.text, (c) => c.notNull())
    .addColumn('action', d.text, (c) => c.notNull())
    .addColumn('resource', d.text, (c) => c.notNull())
    .addColumn('outcome', d.text, (c) => c.notNull())
    .addColumn('permission', d.text)
    .addColumn('request_id', d.text, (c) => c.notNull())
    .addColumn('trace_id', d.text)
    .addColumn('client_address', d.text)
    .addColumn('change_digest', d.text)
    // Canonical JSON text (keys sorted), so that reading it back gives the value that was hashed.
    .addColumn('details', d.text)
    .addColumn('prev_hash', d.text, (c) => c.notNull())
    .addColumn('hash', d.text, (c) => c.notNull())
    .execute();
  // Filtered listings page by seq within each filter.
  for (const col of ['principal', 'resource', 'action', 'time'] as const) {
    await db.schema.createIndex(`audit_events_by_${col}`).on('audit_events').columns([col, 'seq']).execute();
  }

  await db.schema
    .createTable('audit_head')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', d.text, (c) => c.notNull())
    .execute();
  await sql`insert into audit_head (id, seq, hash) values (1, 0, ${GENESIS_HASH})`.execute(db);

  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    .addColumn('hash', d.text, (c) => c.notNull())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('key_id', d.text, (c) => c.notNull())
    .addColumn('signature', d.text, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit_keys')
    .addColumn('key_id', d.text, (c) => c.primaryKey())
    .addColumn('public_key', d.text, (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .execute();

  const statements = [
    ...d.appendOnly('audit_events'),
    ...d.appendOnly('audit_checkpoints'),
    ...d.appendOnly('audit_keys'),
    // The head follows every insert inside the same statement: no extra round trip per append.
    ...d.mirrorInserts('audit_events', 'audit_head', ['seq', 'hash']),
  ];
  for (const statement of statements) await statement.execute(db);
}
