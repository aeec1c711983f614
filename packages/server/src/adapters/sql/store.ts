import { type Kysely, Kysely as KyselyDb, type LogEvent, Migrator, sql } from 'kysely';
import { QuiverError } from '../../domain/errors.js';
import type { Repositories } from '../../ports/repositories.js';
import type { Store } from '../../ports/unit-of-work.js';
import { SqlAuditRepository } from './audit.repository.js';
import { SqlBulkLoader } from './bulk.loader.js';
import { SqlDatasetRepository } from './dataset.repository.js';
import type { SqlDialect } from './dialects/dialect.js';
import { GroupCommit } from './group-commit.js';
import {
  SqlBindingRepository,
  SqlPolicyRepository,
  SqlPrincipalRepository,
  SqlRoleRepository,
  SqlTokenRepository,
} from './iam.repositories.js';
import { SqlLineageRepository } from './lineage.repository.js';
import { QuiverMigrations } from './migrations/index.js';
import { SqlModelRepository } from './model.repository.js';
import { SqlNamespaceRepository } from './namespace.repository.js';
import { SqlRunRepository } from './run.repository.js';
import type { Database } from './schema.js';
import {
  SqlArtifactRepository,
  SqlDeploymentRepository,
  SqlJobRepository,
  SqlOperationRepository,
} from './serving.repositories.js';
import {
  SqlAliasRepository,
  SqlHistoryRepository,
  SqlIdempotencyRepository,
  SqlSettingsRepository,
} from './small.repositories.js';
import { SqlVersionRepository } from './version.repository.js';

export interface SqlStoreOptions {
  /** Called for every statement (tests count queries with it; telemetry hooks in here). */
  onQuery?: (event: LogEvent) => void;
}

function repositories(db: Kysely<Database>, d: SqlDialect): Repositories {
  return {
    namespaces: new SqlNamespaceRepository(db, d),
    models: new SqlModelRepository(db, d),
    versions: new SqlVersionRepository(db, d),
    aliases: new SqlAliasRepository(db),
    history: new SqlHistoryRepository(db, d),
    idempotency: new SqlIdempotencyRepository(db, d),
    settings: new SqlSettingsRepository(db),
    bulk: new SqlBulkLoader(db, d),
    artifacts: new SqlArtifactRepository(db),
    jobs: new SqlJobRepository(db, d),
    deployments: new SqlDeploymentRepository(db, d),
    operations: new SqlOperationRepository(db, d),
    datasets: new SqlDatasetRepository(db, d),
    runs: new SqlRunRepository(db, d),
    lineage: new SqlLineageRepository(db),
    audit: new SqlAuditRepository(db, d),
    principals: new SqlPrincipalRepository(db, d),
    tokens: new SqlTokenRepository(db),
    roles: new SqlRoleRepository(db, d),
    bindings: new SqlBindingRepository(db, d),
    policies: new SqlPolicyRepository(db, d),
  };
}

/** The one SQL store: the same repositories on SQLite and PostgreSQL, the dialect object holding the differences. */
export class SqlStore implements Store {
  readonly db: Kysely<Database>;
  readonly #repos: Repositories;
  readonly #group: GroupCommit | undefined;
  #housekeeper: NodeJS.Timeout | undefined;
  #housekeeping: Promise<void> | undefined;

  private constructor(
    readonly sqlDialect: SqlDialect,
    options: SqlStoreOptions,
  ) {
    this.db = new KyselyDb<Database>({
      dialect: sqlDialect.kysely,
      ...(options.onQuery ? { log: options.onQuery } : {}),
    });
    this.#repos = repositories(this.db, sqlDialect);
    this.#group = sqlDialect.groupCommit
      ? new GroupCommit(this.db, (trx) => repositories(trx, sqlDialect))
      : undefined;
  }

  /** Batches and writes committed together (SQLite's group commit); undefined where each write commits alone. */
  get groupCommitStats(): { batches: number; writes: number } | undefined {
    return this.#group?.stats;
  }

  /** Connects and migrates to the latest schema (safe from several instances at once on PostgreSQL). */
  static async open(dialect: SqlDialect, options: SqlStoreOptions = {}): Promise<SqlStore> {
    const store = new SqlStore(dialect, options);
    try {
      await dialect.prepare(store.db);
      await store.migrate();
    } catch (err) {
      await store.db.destroy().catch(() => {});
      throw translate(dialect, err);
    }
    store.#startHousekeeping();
    return store;
  }

  #startHousekeeping(): void {
    const upkeep = this.sqlDialect.housekeeping;
    if (!upkeep) return;
    this.#housekeeper = setInterval(() => {
      if (this.#housekeeping) return;
      this.#housekeeping = this.housekeep()
        .catch(() => {
          // Upkeep is best effort: a busy or unreachable database is tried again next time.
        })
        .finally(() => {
          this.#housekeeping = undefined;
        });
    }, upkeep.everyMs);
    this.#housekeeper.unref();
  }

  /** Runs the dialect's upkeep now (see `SqlDialect.housekeeping`); periodic while the store is open. */
  async housekeep(): Promise<void> {
    for (const statement of this.sqlDialect.housekeeping?.statements ?? []) await statement.execute(this.db);
  }

  get dialect() {
    return this.sqlDialect.name;
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({
      db: this.db,
      provider: new QuiverMigrations(this.sqlDialect),
      migrationTableName: 'quiver_migrations',
      ...(this.sqlDialect.schema ? { migrationTableSchema: this.sqlDialect.schema } : {}),
      migrationLockTableName: 'quiver_migrations_lock',
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new Error(`Database migration ${failed} failed: ${(error as Error).message ?? String(error)}`, {
        cause: error,
      });
    }
  }

  async read<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    try {
      return await work(this.#repos);
    } catch (err) {
      throw translate(this.sqlDialect, err);
    }
  }

  async write<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    try {
      if (this.#group) return await this.#group.submit(work);
      return await this.db.transaction().execute((trx) => work(repositories(trx, this.sqlDialect)));
    } catch (err) {
      throw translate(this.sqlDialect, err);
    }
  }

  async optimize(): Promise<void> {
    await sql`analyze`.execute(this.db);
  }

  async ping(): Promise<void> {
    await this.read(async () => {
      await this.db.selectFrom('quiver_settings').select('key').limit(1).execute();
    });
  }

  async close(): Promise<void> {
    clearInterval(this.#housekeeper);
    await this.#housekeeping;
    await this.db.destroy();
    await this.sqlDialect.close?.();
  }
}

/** Driver errors become QuiverErrors here, at the adapter that meets them. */
function translate(d: SqlDialect, err: unknown): unknown {
  if (err instanceof QuiverError) return err;
  if (d.isUnavailable(err)) {
    return new QuiverError(
      'DATABASE_UNAVAILABLE',
      'The database is busy or unreachable; retry with backoff.',
      { cause: err },
    );
  }
  return err;
}
