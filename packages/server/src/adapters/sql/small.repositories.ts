import type { Kysely } from 'kysely';
import { QuiverError } from '../../domain/errors.js';
import type { VersionStatus } from '../../domain/lifecycle.js';
import type { HistoryEntry, HistoryKind } from '../../domain/resources.js';
import { rfc3339 } from '../../domain/resources.js';
import type {
  AliasRepository,
  HistoryRepository,
  IdempotencyRepository,
  Listed,
  NewHistoryEntry,
  SettingsRepository,
  StoredResponse,
} from '../../ports/repositories.js';
import type { SqlDialect } from './dialects/dialect.js';
import { preparedInsert } from './prepared.js';
import type { Database } from './schema.js';

export class SqlAliasRepository implements AliasRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async resolve(modelPk: number, alias: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('aliases')
      .select('version')
      .where('model_pk', '=', modelPk)
      .where('alias', '=', alias)
      .executeTakeFirst();
    return row?.version;
  }

  async set(modelPk: number, alias: string, version: number, time: number): Promise<number | undefined> {
    // Lock the model row first (PostgreSQL), so the previous target read below is the one this write replaces.
    await this.#lockModel(modelPk);
    const before = await this.resolve(modelPk, alias);
    await this.db
      .insertInto('aliases')
      .values({ model_pk: modelPk, alias, version, create_time: time, update_time: time })
      .onConflict((oc) => oc.columns(['model_pk', 'alias']).doUpdateSet({ version, update_time: time }))
      .execute();
    await this.#syncModel(modelPk);
    return before;
  }

  async unset(modelPk: number, alias: string): Promise<number | undefined> {
    await this.#lockModel(modelPk);
    const row = await this.db
      .deleteFrom('aliases')
      .where('model_pk', '=', modelPk)
      .where('alias', '=', alias)
      .returning('version')
      .executeTakeFirst();
    if (row) await this.#syncModel(modelPk);
    return row?.version;
  }

  /** A no-op update: takes the model row's write lock for the rest of the transaction on PostgreSQL. */
  async #lockModel(modelPk: number): Promise<void> {
    await this.db
      .updateTable('models')
      .set((eb) => ({ aliases: eb.ref('aliases') }))
      .where('id', '=', modelPk)
      .execute();
  }

  /**
   * Rewrites the model's alias map from the aliases table, in the caller's transaction. Callers
   * hold the model row's lock (#lockModel), so concurrent alias writers on PostgreSQL rebuild the
   * map one after the other, each seeing the others' committed aliases.
   */
  async #syncModel(modelPk: number): Promise<void> {
    const rows = await this.db
      .selectFrom('aliases')
      .select(['alias', 'version'])
      .where('model_pk', '=', modelPk)
      .orderBy('alias')
      .execute();
    const map = Object.fromEntries(rows.map((r) => [r.alias, r.version]));
    await this.db
      .updateTable('models')
      .set({ aliases: JSON.stringify(map) })
      .where('id', '=', modelPk)
      .execute();
  }
}

export class SqlHistoryRepository implements HistoryRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly d: SqlDialect,
  ) {}

  async append(entry: NewHistoryEntry): Promise<void> {
    await APPEND_HISTORY.run(this.db, this.d, {
      model_pk: entry.model_pk,
      version: entry.version,
      kind: entry.kind,
      from_status: entry.from_status,
      to_status: entry.to_status,
      alias: entry.alias,
      actor: entry.actor,
      reason: entry.reason,
      time: entry.time,
      details: entry.details ? JSON.stringify(entry.details) : null,
    });
  }

  async list(
    modelPk: number,
    version: number,
    after: number | null,
    limit: number,
  ): Promise<Listed<HistoryEntry>[]> {
    let q = this.db
      .selectFrom('version_history')
      .selectAll()
      .where('model_pk', '=', modelPk)
      .where('version', '=', version);
    if (after !== null) q = q.where('id', '>', after);
    const rows = await q.orderBy('id', 'asc').limit(limit).execute();
    return rows.map((row) => ({
      item: {
        kind: row.kind as HistoryKind,
        version: row.version,
        from_status: row.from_status as VersionStatus | null,
        to_status: row.to_status as VersionStatus | null,
        alias: row.alias,
        actor: row.actor,
        reason: row.reason,
        time: rfc3339(row.time),
      },
      keyset: [row.id],
    }));
  }
}

export class SqlIdempotencyRepository implements IdempotencyRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly d: SqlDialect,
  ) {}

  async find(scope: string, key: string): Promise<StoredResponse | undefined> {
    const row = await this.db
      .selectFrom('idempotency_keys')
      .select(['fingerprint', 'response'])
      .where('scope', '=', scope)
      .where('key', '=', key)
      .executeTakeFirst();
    return row ? { fingerprint: row.fingerprint, response: JSON.parse(row.response) } : undefined;
  }

  async save(
    scope: string,
    key: string,
    fingerprint: string,
    response: unknown,
    time: number,
  ): Promise<void> {
    try {
      await this.db
        .insertInto('idempotency_keys')
        .values({ scope, key, fingerprint, response: JSON.stringify(response), create_time: time })
        .execute();
    } catch (err) {
      if (!this.d.isUniqueViolation(err)) throw err;
      throw new QuiverError(
        'IDEMPOTENCY_KEY_TAKEN',
        'A concurrent request with the same Idempotency-Key committed first.',
      );
    }
  }

  async deleteOlderThan(time: number): Promise<number> {
    const result = await this.db
      .deleteFrom('idempotency_keys')
      .where('create_time', '<', time)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

export class SqlSettingsRepository implements SettingsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async get(key: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('quiver_settings')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirst();
    return row?.value;
  }

  async putIfAbsent(key: string, value: string): Promise<string> {
    await this.db
      .insertInto('quiver_settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    return (await this.get(key))!;
  }
}

type HistoryRow = Omit<NewHistoryEntry, 'details'> & { details: string | null };
export const HISTORY_COLUMNS = [
  'model_pk',
  'version',
  'kind',
  'from_status',
  'to_status',
  'alias',
  'actor',
  'reason',
  'time',
  'details',
] as const satisfies readonly (keyof HistoryRow)[];

/** Every lifecycle change appends one: compiled once (see prepared.ts). */
export const APPEND_HISTORY = preparedInsert<HistoryRow>('version_history', HISTORY_COLUMNS);
