import { type ExpressionBuilder, type Kysely, type QueryCreator, sql } from 'kysely';
import { QuiverError } from '../../domain/errors.js';
import { validateFilter } from '../../domain/filter.js';
import type { VersionStatus } from '../../domain/lifecycle.js';
import { modelName, namespaceName } from '../../domain/names.js';
import type { Labels, Model } from '../../domain/resources.js';
import type { Listed, ListQuery, ModelKey, ModelRepository } from '../../ports/repositories.js';
import type { SqlDialect } from './dialects/dialect.js';
import { compileFilter } from './filter-sql.js';
import { updateLabelled, writeLabels } from './labelled-rows.js';
import { MODEL_FILTER, MODEL_ORDER } from './list-schemas.js';
import { PreparedStatement } from './prepared.js';
import { afterKeyset, meta, parseLabels } from './rows.js';
import type { Database } from './schema.js';
import { visibleWhere } from './visibility.js';

interface Row {
  id: number;
  uid: string;
  model_id: string;
  namespace_id: string;
  description: string;
  labels: string;
  latest_version: number;
  create_time: number;
  update_time: number;
  revision: number;
  alias_map: string;
}

export class SqlModelRepository implements ModelRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly d: SqlDialect,
  ) {}

  /** Models with their namespace id and alias map, in one statement without subqueries. */
  #select() {
    return this.db
      .selectFrom('models')
      .innerJoin('namespaces', 'namespaces.id', 'models.namespace_pk')
      .select([
        'models.id',
        'models.uid',
        'models.model_id',
        'namespaces.namespace_id',
        'models.description',
        'models.labels',
        'models.latest_version',
        'models.create_time',
        'models.update_time',
        'models.revision',
        'models.aliases as alias_map',
      ]);
  }

  async create(input: {
    uid: string;
    namespace_pk: number;
    model_id: string;
    description: string;
    labels: Labels;
    time: number;
  }): Promise<void> {
    const inserted = await this.db
      .insertInto('models')
      .values({
        uid: input.uid,
        namespace_pk: input.namespace_pk,
        model_id: input.model_id,
        description: input.description,
        labels: JSON.stringify(input.labels),
        latest_version: 0,
        create_time: input.time,
        update_time: input.time,
        revision: 1,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
      .catch((err: unknown) => {
        if (!this.d.isUniqueViolation(err)) throw err;
        throw new QuiverError('MODEL_EXISTS', `Model '${input.model_id}' already exists in this namespace.`, {
          details: { model_id: input.model_id },
        });
      });
    await writeLabels(this.db, this.d, 'models', inserted.id, input.labels);
  }

  async get(namespace: string, modelId: string): Promise<Model | undefined> {
    const row = await this.#select()
      .where('namespaces.namespace_id', '=', namespace)
      .where('models.model_id', '=', modelId)
      .executeTakeFirst();
    return row ? toModel(row as Row) : undefined;
  }

  async key(namespace: string, modelId: string): Promise<ModelKey | undefined> {
    const [row] = await MODEL_KEY.run<ModelKey>(this.db, this.d, { namespace, modelId });
    return row;
  }

  async list(namespacePk: number | null, query: ListQuery): Promise<Listed<Model>[]> {
    const sort = MODEL_ORDER[query.orderBy.field]!;
    const dir = query.orderBy.desc ? 'desc' : 'asc';
    let q = this.#select();
    if (namespacePk !== null) q = q.where('models.namespace_pk', '=', namespacePk);
    if (query.filter)
      q = q.where(
        compileFilter(validateFilter(query.filter, MODEL_FILTER), MODEL_FILTER, this.d.subqueryFence),
      );
    const visible = visibleWhere(query.visible, 'namespaces.namespace_id', 'models.model_id');
    if (visible) q = q.where(visible);
    if (query.after) q = q.where(afterKeyset(sort, 'models.id', query.orderBy.desc, query.after));
    const rows = (await q
      .orderBy(sql.ref(sort), dir)
      .orderBy('models.id', dir)
      .limit(query.limit)
      .execute()) as Row[];
    const column = sort.slice('models.'.length) as
      | 'model_id'
      | 'create_time'
      | 'update_time'
      | 'latest_version';
    return rows.map((row) => ({ item: toModel(row), keyset: [row[column], row.id] }));
  }

  update(pk: number, revision: number, patch: { description?: string; labels?: Labels }, time: number) {
    return updateLabelled(this.db, this.d, 'models', pk, revision, patch, time);
  }

  async delete(pk: number): Promise<void> {
    // Children first: SQLite enforces foreign keys per connection and PostgreSQL always does.
    const versions = this.db.selectFrom('model_versions').select('id').where('model_pk', '=', pk);
    await this.db.deleteFrom('version_labels').where('version_pk', 'in', versions).execute();
    for (const table of ['model_versions', 'aliases', 'version_history', 'model_labels'] as const) {
      await this.db.deleteFrom(table).where('model_pk', '=', pk).execute();
    }
    await this.db.deleteFrom('models').where('id', '=', pk).execute();
  }

  async countVersions(pk: number, excludingStatus: VersionStatus): Promise<number> {
    const row = await this.db
      .selectFrom('model_versions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('model_pk', '=', pk)
      .where('status', '!=', excludingStatus)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async nextVersion(pk: number, time: number): Promise<number> {
    const [row] = await NEXT_VERSION.run<{ latest_version: number }>(this.db, this.d, { pk, time });
    if (!row) throw new Error(`model ${pk} vanished inside its own write transaction`);
    return row.latest_version;
  }

  async touch(pk: number, time: number): Promise<void> {
    await this.db
      .updateTable('models')
      .set((eb) => ({ revision: eb('revision', '+', 1), update_time: time }))
      .where('id', '=', pk)
      .execute();
  }
}

function toModel(row: Row): Model {
  return {
    name: modelName(row.namespace_id, row.model_id),
    namespace: namespaceName(row.namespace_id),
    model_id: row.model_id,
    description: row.description,
    labels: parseLabels(row.labels),
    latest_version: row.latest_version,
    aliases: JSON.parse(row.alias_map) as Record<string, number>,
    ...meta(row),
  };
}

// The statements of creating a version, compiled once (see prepared.ts).
const MODEL_KEY = new PreparedStatement<{ namespace: string; modelId: string }>(
  'models.key',
  ['namespace', 'modelId'],
  (db, p) =>
    db
      .selectFrom('models')
      .innerJoin('namespaces', 'namespaces.id', 'models.namespace_pk')
      .select([
        'models.id as pk',
        'models.uid',
        'models.namespace_pk',
        'namespaces.namespace_id as namespace',
        'models.model_id',
        'models.revision',
        'models.latest_version',
      ])
      .where('namespaces.namespace_id', '=', p.namespace)
      .where('models.model_id', '=', p.modelId),
);

/** The next version number of a model row: its counter and revision up by one. */
const claimNext = (eb: ExpressionBuilder<Database, 'models'>, time: number) => ({
  latest_version: eb('latest_version', '+', 1),
  revision: eb('revision', '+', 1),
  update_time: time,
});

/**
 * The model named by namespace and id with its next version number claimed, as one UPDATE …
 * RETURNING its key (`latest_version` is the number claimed): on its own, or as the first part of
 * `versions.register`'s statement on PostgreSQL.
 */
export const claimByName = (
  db: QueryCreator<Database>,
  p: { namespace: string; modelId: string; time: number },
) =>
  db
    .updateTable('models')
    .set((eb) => claimNext(eb, p.time))
    .where('id', '=', (eb) =>
      eb
        .selectFrom('models as m')
        .innerJoin('namespaces', 'namespaces.id', 'm.namespace_pk')
        .select('m.id')
        .where('namespaces.namespace_id', '=', p.namespace)
        .where('m.model_id', '=', p.modelId),
    )
    .returning(['id as pk', 'uid', 'namespace_pk', 'model_id', 'revision', 'latest_version']);

// Creating a version finds its model and claims the next number in one round trip (see versions.register).
export const CLAIM_VERSION = new PreparedStatement<{ namespace: string; modelId: string; time: number }>(
  'models.claimVersion',
  ['namespace', 'modelId', 'time'],
  (db, p) => claimByName(db, p),
);

const NEXT_VERSION = new PreparedStatement<{ pk: number; time: number }>(
  'models.nextVersion',
  ['pk', 'time'],
  (db, p) =>
    db
      .updateTable('models')
      .set((eb) => claimNext(eb, p.time))
      .where('id', '=', p.pk)
      .returning('latest_version'),
);
