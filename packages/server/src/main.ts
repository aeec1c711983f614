import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { LogEvent } from 'kysely';
import pino, { type Logger } from 'pino';
import type { SqlDialect } from './adapters/sql/dialects/dialect.js';
import { postgresDialect } from './adapters/sql/dialects/postgres.js';
import { sqliteDialect } from './adapters/sql/dialects/sqlite.js';
import { SqlStore } from './adapters/sql/store.js';
import { type Config, sqliteFile } from './config/config.js';
import { PageTokenCodec } from './domain/page-token.js';
import { type Clock, type Ids, systemClock, uuidIds } from './ports/clock.js';
import type { Store } from './ports/unit-of-work.js';
import { AliasService } from './services/alias.service.js';
import { ModelService } from './services/model.service.js';
import { NamespaceService } from './services/namespace.service.js';
import { VersionService } from './services/version.service.js';
import { buildRestApp, type Services } from './transports/rest/app.js';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

export interface QuiverOptions {
  logger?: Logger | false;
  clock?: Clock;
  ids?: Ids;
  onQuery?: (event: LogEvent) => void;
  /** A PostgreSQL schema other than `public` (tests isolate themselves this way). */
  postgresSchema?: string;
}

export interface Quiver {
  config: Config;
  store: SqlStore;
  services: Services;
  rest: FastifyInstance;
  logger: Logger;
  /** Starts listening; resolves with the bound address. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export function dialectFor(config: Config, schema?: string): SqlDialect {
  const url = config.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    return postgresDialect({ url, poolSize: config.databasePoolSize, ...(schema ? { schema } : {}) });
  }
  return sqliteDialect(sqliteFile(config));
}

// TEMPORARY (replaced when the artifact store and ONNX runtime land in this change): fails loudly.
const notYetWired = () => {
  throw new Error('artifact support is not wired yet');
};
const pendingModels = { artifacts: { read: notYetWired } as never, runtime: { inspect: notYetWired } };

export function buildServices(store: Store, tokens: PageTokenCodec, clock: Clock, ids: Ids): Services {
  const deps = { store, clock, ids, tokens, models: { store, ...pendingModels } };
  return {
    namespaces: new NamespaceService(deps),
    models: new ModelService(deps),
    versions: new VersionService(deps),
    aliases: new AliasService(deps),
  };
}

/** The composition root: config → adapters → services → transports. Nothing listens until `listen()`. */
export async function createQuiver(config: Config, options: QuiverOptions = {}): Promise<Quiver> {
  const logger =
    options.logger === false
      ? pino({ level: 'silent' })
      : (options.logger ?? pino({ level: config.logLevel }));
  const dialect = dialectFor(config, options.postgresSchema);
  logger.info({ database: dialect.description }, 'opening database');
  const store = await SqlStore.open(dialect, options.onQuery ? { onQuery: options.onQuery } : {});
  const clock = options.clock ?? systemClock;
  // Page tokens must verify on every instance sharing the database, so the key lives there.
  const secret = await store.read((repos) =>
    repos.settings.putIfAbsent('page_token_secret', randomBytes(32).toString('base64url')),
  );
  const services = buildServices(
    store,
    new PageTokenCodec(secret),
    options.clock ?? systemClock,
    options.ids ?? uuidIds,
  );
  const rest = await buildRestApp({
    services,
    readiness: [{ name: 'database', check: () => store.ping() }],
    logger: options.logger === false ? false : logger,
    bodyLimitBytes: config.bodyLimitBytes,
    version: VERSION,
    database: dialect.description,
  });
  // Idempotency keys are promised for 24 hours; sweep older ones hourly.
  const sweep = setInterval(() => {
    store
      .write((repos) => repos.idempotency.deleteOlderThan(clock.now() - IDEMPOTENCY_TTL_MS))
      .catch((err: unknown) => logger.warn({ err }, 'idempotency key sweep failed'));
  }, 3_600_000);
  sweep.unref();
  return {
    config,
    store,
    services,
    rest,
    logger,
    async listen() {
      const address = await rest.listen({ host: config.httpHost, port: config.httpPort });
      logger.info({ address, database: dialect.description }, 'Quiver REST API listening');
      return address;
    },
    async close() {
      clearInterval(sweep);
      await rest.close();
      await store.close();
    },
  };
}
