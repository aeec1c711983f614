import type { Kysely } from 'kysely';
import { QuiverError } from '../../domain/errors.js';
import { validateFilter } from '../../domain/filter.js';
import { namespaceName } from '../../domain/names.js';
import type { Namespace } from '../../domain/resources.js';
import type { Listed, ListQuery, NamespaceRepository } from '../../ports/repositories.js';
import type { SqlDialect } from './dialects/dialect.js';
import { compileFilter } from './filter-sql.js';
import { NAMESPACE_FILTER, NAMESPACE_ORDER } from './list-schemas.js';
import { afterKeyset, meta } from './rows.js';
import type { Database } from './schema.js';
import { visibleWhere } from './visibility.js';

type Row = Database['namespaces'] & { id: number };

export class SqlNamespaceRepository implements NamespaceRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly d: SqlDialect,
  ) {}

  async create(input: {
    uid: string;
    namespace_id: string;
    description: string;
    time: number;
  }): Promise<Namespace> {
    try {
      const row = await this.db
        .insertInto('namespaces')
        .values({ ...pick(input), create_time: input.time, update_time: input.time, revision: 1 })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toNamespace(row as Row);
    } catch (err) {
      if (!this.d.isUniqueViolation(err)) throw err;
      throw new QuiverError('NAMESPACE_EXISTS', `Namespace '${input.namespace_id}' already exists.`, {
        details: { resource: namespaceName(input.namespace_id) },
      });
    }
  }

  async get(namespaceId: string): Promise<Namespace | undefined> {
    const row = await this.db
      .selectFrom('namespaces')
      .selectAll()
      .where('namespace_id', '=', namespaceId)
      .executeTakeFirst();
    return row ? toNamespace(row as Row) : undefined;
  }

  async pkOf(namespaceId: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('namespaces')
      .select('id')
      .where('namespace_id', '=', namespaceId)
      .executeTakeFirst();
    return row?.id;
  }

  async list(query: ListQuery): Promise<Listed<Namespace>[]> {
    const sort = NAMESPACE_ORDER[query.orderBy.field]!;
    const dir = query.orderBy.desc ? 'desc' : 'asc';
    let q = this.db.selectFrom('namespaces').selectAll();
    if (query.filter)
      q = q.where(
        compileFilter(validateFilter(query.filter, NAMESPACE_FILTER), NAMESPACE_FILTER, this.d.subqueryFence),
      );
    const visible = visibleWhere(query.visible, 'namespaces.namespace_id');
    if (visible) q = q.where(visible);
    if (query.after) q = q.where(afterKeyset(sort, 'namespaces.id', query.orderBy.desc, query.after));
    const rows = (await q
      .orderBy(sort as 'create_time', dir)
      .orderBy('id', dir)
      .limit(query.limit)
      .execute()) as Row[];
    return rows.map((row) => ({ item: toNamespace(row), keyset: [sortValue(row, sort), row.id] }));
  }
}

function pick(input: { uid: string; namespace_id: string; description: string }) {
  return { uid: input.uid, namespace_id: input.namespace_id, description: input.description };
}

function sortValue(row: Row, sort: string): string | number {
  return sort === 'namespaces.namespace_id' ? row.namespace_id : row.create_time;
}

function toNamespace(row: Row): Namespace {
  return {
    name: namespaceName(row.namespace_id),
    namespace_id: row.namespace_id,
    description: row.description,
    ...meta(row),
  };
}
