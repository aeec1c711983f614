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
    maxParameters: 65_535,
    text: sql`text collate "C"`,
    description: `postgres:${redact(options.url)}${options.schema ? ` (schema ${options.schema})` : ''}`,
    idType: 'bigint',
    primaryKey: (col) => col.primaryKey().generatedByDefaultAsIdentity(),
    subqueryFence: sql` OFFSET 0`,
    skipLocked: (qb) => qb.forUpdate().skipLocked(),
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
