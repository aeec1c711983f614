import { type Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from '../schema.js';
import { errorCode, type SqlDialect } from './dialect.js';

const INT8_OID = 20;

export interface PostgresOptions {
  url: string;
  /** Most connections this process opens. */
  poolSize?: number;
  /** A schema to use instead of `public` (tests give each suite its own). */
  schema?: string;
}

export function postgresDialect(options: PostgresOptions): SqlDialect {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 20,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // BIGINT columns hold epoch milliseconds and row ids, all far below 2^53.
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8_OID
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client that loses its server emits 'error'; without a listener that would crash the process.
  pool.on('error', () => {});
  return {
    name: 'postgres',
    schema: options.schema ?? 'public',
    kysely: new PostgresDialect({ pool }),
    poolStats: () => ({
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
      max: pool.options.max,
    }),
    maxParameters: 65_535,
    text: sql`text collate "C"`,
    description: `postgres:${redact(options.url)}${options.schema ? ` (schema ${options.schema})` : ''}`,
    idType: 'bigint',
    primaryKey: (col) => col.primaryKey().generatedByDefaultAsIdentity(),
    subqueryFence: sql` OFFSET 0`,
    skipLocked: (qb) => qb.forUpdate().skipLocked(),
    forUpdate: (qb) => qb.forUpdate(),
    appendOnly: (table) => [
      sql.raw(`create function ${table}_refuse() returns trigger language plpgsql as $$
        begin raise exception '${table} is append-only: % refused', tg_op using errcode = '55000'; end $$`),
      sql.raw(
        `create trigger ${table}_no_change before update or delete on ${table} for each row execute function ${table}_refuse()`,
      ),
      sql.raw(
        `create trigger ${table}_no_truncate before truncate on ${table} for each statement execute function ${table}_refuse()`,
      ),
    ],
    mirrorInserts: (table, target, columns) => [
      sql.raw(`create function ${table}_to_${target}() returns trigger language plpgsql as $$
        begin update ${target} set ${columns.map((c) => `${c} = new.${c}`).join(', ')}; return null; end $$`),
      sql.raw(
        `create trigger ${table}_to_${target} after insert on ${table} for each row execute function ${table}_to_${target}()`,
      ),
    ],
    // Concurrent commits already share WAL flushes in PostgreSQL; each write keeps its own transaction.
    groupCommit: false,
    isUniqueViolation: (err) => errorCode(err) === '23505',
    isUnavailable: (err) => {
      const code = errorCode(err) ?? '';
      return (
        [
          'ECONNREFUSED',
          'ECONNRESET',
          'ETIMEDOUT',
          'EPIPE',
          '57P01',
          '57P02',
          '57P03',
          '53300',
          '40001',
          '40P01',
        ].includes(code) ||
        (err instanceof Error &&
          /timeout exceeded when trying to connect|Connection terminated/i.test(err.message))
      );
    },
    prepare: async (_db: Kysely<Database>) => {},
  };
}

export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}
