import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogEvent } from 'kysely';
import pg from 'pg';
import { postgresDialect } from '../../src/adapters/sql/dialects/postgres.js';
import { sqliteDialect } from '../../src/adapters/sql/dialects/sqlite.js';
import { SqlStore } from '../../src/adapters/sql/store.js';
import { type Config, loadConfig } from '../../src/config/config.js';
import { createQuiver, type Quiver } from '../../src/main.js';

export const BACKENDS = ['sqlite', 'postgres'] as const;

/** The admin's API token in every test Quiver (QUIVER_BOOTSTRAP_TOKEN); authentication stays on. */
export const TEST_TOKEN = 'qvr_quiver-test-token-0123456789abcdefghij';
/** The Authorization header of the test admin. */
export const AUTH = { authorization: `Bearer ${TEST_TOKEN}` } as const;
export type Backend = (typeof BACKENDS)[number];

/** The local PostgreSQL of every dev machine and CI (trust auth); QUIVER_TEST_POSTGRES_URL overrides it. */
export const POSTGRES_URL = process.env.QUIVER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let probe: Promise<boolean> | undefined;

/** Whether PostgreSQL answers. Under CI=true a missing server is an error, never a skip. */
export function postgresAvailable(): Promise<boolean> {
  probe ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3_000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch (err) {
      if (process.env.CI === 'true') {
        throw new Error(
          `CI=true but PostgreSQL at ${POSTGRES_URL} does not answer (${(err as Error).message}); .ci/run must start it.`,
        );
      }
      console.warn(
        `[quiver tests] PostgreSQL at ${POSTGRES_URL} does not answer: skipping PostgreSQL suites. Start it with: pg_ctlcluster --skip-systemctl-redirect 15 main start`,
      );
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return probe;
}

/** The backends to run a suite on: SQLite always, PostgreSQL when it answers (always under CI). */
export async function backends(): Promise<Backend[]> {
  return (await postgresAvailable()) ? ['sqlite', 'postgres'] : ['sqlite'];
}

/** An isolated place to keep data: a temp dir with a SQLite file, or a fresh PostgreSQL schema. */
export interface TestDatabase {
  backend: Backend;
  config: Config;
  /** PostgreSQL schema of this database (undefined on SQLite). */
  schema: string | undefined;
  drop(): Promise<void>;
}

/**
 * Settings every test instance starts with, before the test's own. Shedding on event-loop delay is
 * off: a test process blocks its loop on purpose (synchronous property tests, module loading, the
 * crash tests' busy children), and an instance in the same process would refuse the next request.
 * test/api/load-shedding.test.ts turns it on and tests it.
 */
const TEST_DEFAULTS = { QUIVER_MAX_EVENT_LOOP_DELAY_MS: '0' };

export async function testDatabase(
  backend: Backend,
  given: Record<string, string> = {},
): Promise<TestDatabase> {
  const env = { ...TEST_DEFAULTS, ...given };
  const dir = mkdtempSync(join(tmpdir(), 'quiver-test-'));
  if (backend === 'sqlite') {
    return {
      backend,
      config: loadConfig({
        QUIVER_DATA_DIR: dir,
        QUIVER_LOG_LEVEL: 'silent',
        QUIVER_BOOTSTRAP_TOKEN: TEST_TOKEN,
        ...env,
      }),
      schema: undefined,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `test_${randomBytes(6).toString('hex')}`;
  await withClient((c) => c.query(`create schema ${schema}`));
  return {
    backend,
    config: loadConfig({
      QUIVER_DATA_DIR: dir,
      QUIVER_DATABASE_URL: POSTGRES_URL,
      QUIVER_LOG_LEVEL: 'silent',
      QUIVER_BOOTSTRAP_TOKEN: TEST_TOKEN,
      ...env,
    }),
    schema,
    drop: async () => {
      await withClient((c) => c.query(`drop schema if exists ${schema} cascade`));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function withClient<T>(work: (client: pg.Client) => Promise<T>, schema?: string): Promise<T> {
  const client = new pg.Client({
    connectionString: POSTGRES_URL,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A whole Quiver (services + REST app, not listening) on a fresh database. */
export async function testQuiver(
  backend: Backend,
  options: { onQuery?: (e: LogEvent) => void; env?: Record<string, string> } = {},
): Promise<{ quiver: Quiver; db: TestDatabase; close(): Promise<void> }> {
  const db = await testDatabase(backend, options.env);
  const quiver = await createQuiver(db.config, {
    logger: false,
    ...(db.schema ? { postgresSchema: db.schema } : {}),
    ...(options.onQuery ? { onQuery: options.onQuery } : {}),
  });
  return {
    quiver,
    db,
    close: async () => {
      await quiver.close();
      await db.drop();
    },
  };
}

/** Just the store on a fresh database (contract tests of the repositories). */
export async function testStore(
  backend: Backend,
  options: { onQuery?: (e: LogEvent) => void } = {},
): Promise<{ store: SqlStore; db: TestDatabase; close(): Promise<void> }> {
  const db = await testDatabase(backend);
  const dialect =
    backend === 'sqlite'
      ? sqliteDialect(join(db.config.dataDir, 'quiver.db'))
      : postgresDialect({ url: POSTGRES_URL, schema: db.schema!, poolSize: 10 });
  const store = await SqlStore.open(dialect, options).catch(async (err: unknown) => {
    await db.drop();
    throw err;
  });
  return {
    store,
    db,
    close: async () => {
      await store.close();
      await db.drop();
    },
  };
}
