import { type Kysely, sql } from 'kysely';
import { validateFilter } from '../../domain/filter.js';
import type { VersionStatus } from '../../domain/lifecycle.js';
import { modelName, versionName } from '../../domain/names.js';
import type { Labels, Version } from '../../domain/resources.js';
import type {
  Listed,
  ListQuery,
  NewVersion,
  VersionKey,
  VersionLookup,
  VersionRepository,
} from '../../ports/repositories.js';
import type { SqlDialect } from './dialects/dialect.js';
import { compileFilter } from './filter-sql.js';
import { VERSION_FILTER, VERSION_ORDER } from './list-schemas.js';
import { afterKeyset, asStatus, chunk, meta, parseAliasList, parseLabels } from './rows.js';
import type { Database } from './schema.js';

interface Row {
  id: number;
  uid: string;
  namespace_id: string;
  model_id: string;
  version: number;
  status: string;
  description: string;
  labels: string;
  metadata: string;
  source_uri: string;
  created_by: string;
  create_time: number;
  update_time: number;
  revision: number;
  alias_list: string | null;
}

export class SqlVersionRepository implements VersionRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly d: SqlDialect,
  ) {}

  /** Versions with their model, namespace and aliases, in one statement. */
  #select() {
    return this.db
      .selectFrom('model_versions')
      .innerJoin('models', 'models.id', 'model_versions.model_pk')
      .innerJoin('namespaces', 'namespaces.id', 'models.namespace_pk')
      .select([
        'model_versions.id',
        'model_versions.uid',
        'namespaces.namespace_id',
        'models.model_id',
        'model_versions.version',
        'model_versions.status',
        'model_versions.description',
        'model_versions.labels',
        'model_versions.metadata',
        'model_versions.source_uri',
        'model_versions.created_by',
        'model_versions.create_time',
        'model_versions.update_time',
        'model_versions.revision',
      ])
      .select((eb) =>
        eb
          .selectFrom('aliases')
          .select(this.d.joinStrings(sql.ref<string>('aliases.alias')).as('a'))
          .whereRef('aliases.model_pk', '=', 'model_versions.model_pk')
          .whereRef('aliases.version', '=', 'model_versions.version')
          .as('alias_list'),
      );
  }

  async insert(input: NewVersion): Promise<void> {
    const { id } = await this.db
      .insertInto('model_versions')
      .values({
        uid: input.uid,
        model_pk: input.model_pk,
        version: input.version,
        status: input.status,
        description: input.description,
        labels: JSON.stringify(input.labels),
        metadata: JSON.stringify(input.metadata),
        source_uri: input.source_uri,
        created_by: input.created_by,
        create_time: input.time,
        update_time: input.time,
        revision: 1,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await this.#writeLabels(id, input.labels);
  }

  async get(modelPk: number, version: number): Promise<Version | undefined> {
    const row = await this.#select()
      .where('model_versions.model_pk', '=', modelPk)
      .where('model_versions.version', '=', version)
      .executeTakeFirst();
    return row ? toVersion(row as Row) : undefined;
  }

  async key(modelPk: number, version: number): Promise<VersionKey | undefined> {
    const row = await this.db
      .selectFrom('model_versions')
      .select(['id as pk', 'model_pk', 'version', 'status', 'revision', 'created_by'])
      .where('model_pk', '=', modelPk)
      .where('version', '=', version)
      .executeTakeFirst();
    return row ? { ...row, status: asStatus(row.status) } : undefined;
  }

  async list(modelPk: number, query: ListQuery): Promise<Listed<Version>[]> {
    const sort = VERSION_ORDER[query.orderBy.field]!;
    const dir = query.orderBy.desc ? 'desc' : 'asc';
    let q = this.#select().where('model_versions.model_pk', '=', modelPk);
    if (query.filter)
      q = q.where(compileFilter(validateFilter(query.filter, VERSION_FILTER), VERSION_FILTER));
    if (query.after) q = q.where(afterKeyset(sort, 'model_versions.id', query.orderBy.desc, query.after));
    const rows = (await q
      .orderBy(sql.ref(sort), dir)
      .orderBy('model_versions.id', dir)
      .limit(query.limit)
      .execute()) as Row[];
    const column = sort.slice('model_versions.'.length) as 'version' | 'create_time' | 'update_time';
    return rows.map((row) => ({ item: toVersion(row), keyset: [row[column], row.id] }));
  }

  async update(pk: number, revision: number, patch: { description?: string; labels?: Labels }, time: number) {
    const result = await this.db
      .updateTable('model_versions')
      .set({
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.labels !== undefined ? { labels: JSON.stringify(patch.labels) } : {}),
        update_time: time,
        revision: revision + 1,
      })
      .where('id', '=', pk)
      .where('revision', '=', revision)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return false;
    if (patch.labels !== undefined) {
      await this.db.deleteFrom('version_labels').where('version_pk', '=', pk).execute();
      await this.#writeLabels(pk, patch.labels);
    }
    return true;
  }

  async setStatus(pk: number, from: VersionStatus, to: VersionStatus, time: number): Promise<boolean> {
    const result = await this.db
      .updateTable('model_versions')
      .set((eb) => ({ status: to, update_time: time, revision: eb('revision', '+', 1) }))
      .where('id', '=', pk)
      .where('status', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async batchGet(lookups: readonly VersionLookup[]): Promise<{ index: number; version: Version }[]> {
    const out: { index: number; version: Version }[] = [];
    const byNumber = new Map<string, number[]>();
    const byAlias = new Map<string, number[]>();
    lookups.forEach((l, index) => {
      const map = l.alias !== undefined ? byAlias : byNumber;
      const key = `${l.namespace}/${l.model}/${l.alias ?? l.version}`;
      map.set(key, [...(map.get(key) ?? []), index]);
    });
    const numbered = lookups.filter((l) => l.alias === undefined);
    for (const part of chunk(dedupe(numbered), 3, this.d.maxParameters - 16)) {
      const rows = (await this.#select()
        .where((eb) =>
          eb(
            eb.refTuple('namespaces.namespace_id', 'models.model_id', 'model_versions.version'),
            'in',
            part.map((l) => eb.tuple(l.namespace, l.model, l.version!)),
          ),
        )
        .execute()) as Row[];
      for (const row of rows) {
        for (const index of byNumber.get(`${row.namespace_id}/${row.model_id}/${row.version}`) ?? []) {
          out.push({ index, version: toVersion(row) });
        }
      }
    }
    const aliased = lookups.filter((l) => l.alias !== undefined);
    for (const part of chunk(dedupe(aliased), 3, this.d.maxParameters - 16)) {
      const rows = (await this.#select()
        .innerJoin('aliases as target', (j) =>
          j
            .onRef('target.model_pk', '=', 'model_versions.model_pk')
            .onRef('target.version', '=', 'model_versions.version'),
        )
        .select('target.alias as matched_alias')
        .where((eb) =>
          eb(
            eb.refTuple('namespaces.namespace_id', 'models.model_id', 'target.alias'),
            'in',
            part.map((l) => eb.tuple(l.namespace, l.model, l.alias!)),
          ),
        )
        .execute()) as (Row & { matched_alias: string })[];
      for (const row of rows) {
        for (const index of byAlias.get(`${row.namespace_id}/${row.model_id}/${row.matched_alias}`) ?? []) {
          out.push({ index, version: toVersion(row) });
        }
      }
    }
    return out.sort((a, b) => a.index - b.index);
  }

  async #writeLabels(pk: number, labels: Labels): Promise<void> {
    const rows = Object.entries(labels).map(([key, value]) => ({ version_pk: pk, key, value }));
    for (const part of chunk(rows, 3, this.d.maxParameters)) {
      if (part.length) await this.db.insertInto('version_labels').values(part).execute();
    }
  }
}

function dedupe(lookups: readonly VersionLookup[]): VersionLookup[] {
  const seen = new Set<string>();
  return lookups.filter((l) => {
    const key = `${l.namespace}/${l.model}/${l.alias ?? l.version}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function toVersion(row: Row): Version {
  return {
    name: versionName(row.namespace_id, row.model_id, row.version),
    model: modelName(row.namespace_id, row.model_id),
    version: row.version,
    status: asStatus(row.status),
    description: row.description,
    labels: parseLabels(row.labels),
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    source_uri: row.source_uri,
    aliases: parseAliasList(row.alias_list),
    created_by: row.created_by,
    ...meta(row),
  };
}
