import { type Kysely, sql } from 'kysely';
import { QuiverError } from '../../domain/errors.js';
import { type FilterSchema, validateFilter } from '../../domain/filter.js';
import {
  RUN_KINDS,
  RUN_STATUSES,
  type Run,
  type RunKind,
  type RunStatus,
  runName,
} from '../../domain/lineage.js';
import { namespaceName } from '../../domain/names.js';
import { type JsonObject, rfc3339 } from '../../domain/resources.js';
import type { NewRun, RunPatch, RunRepository } from '../../ports/lineage.repositories.js';
import type { Listed, ListQuery } from '../../ports/repositories.js';
import type { SqlDialect } from './dialects/dialect.js';
import { compileFilter } from './filter-sql.js';
import { afterKeyset, meta, parseLabels } from './rows.js';
import type { Database } from './schema.js';

const ORDER: Record<string, 'runs.run_id' | 'runs.create_time'> = {
  name: 'runs.run_id',
  run_id: 'runs.run_id',
  create_time: 'runs.create_time',
};

const FILTER: FilterSchema = {
  fields: {
    run_id: { kind: 'string', column: 'runs.run_id' },
    kind: { kind: 'enum', column: 'runs.kind', values: RUN_KINDS },
    status: { kind: 'enum', column: 'runs.status', values: RUN_STATUSES },
    code_commit: { kind: 'string', column: 'runs.code_commit' },
    created_by: { kind: 'string', column: 'runs.created_by' },
    create_time: { kind: 'timestamp', column: 'runs.create_time' },
  },
};

type Row = Database['runs'] & { id: number; namespace_id: string };

export class SqlRunRepository implements RunRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly d: SqlDialect,
  ) {}

  #select() {
    return this.db
      .selectFrom('runs')
      .innerJoin('namespaces', 'namespaces.id', 'runs.namespace_pk')
      .selectAll('runs')
      .select('namespaces.namespace_id');
  }

  async create(input: NewRun): Promise<void> {
    try {
      await this.db
        .insertInto('runs')
        .values({
          uid: input.uid,
          namespace_pk: input.namespace_pk,
          run_id: input.run_id,
          kind: input.kind,
          status: input.status,
          description: input.description,
          labels: JSON.stringify(input.labels),
          code_commit: input.code_commit,
          parameters: JSON.stringify(input.parameters),
          metrics: JSON.stringify(input.metrics),
          environment: JSON.stringify(input.environment),
          start_time: input.start_time,
          end_time: input.end_time,
          created_by: input.created_by,
          create_time: input.time,
          update_time: input.time,
          revision: 1,
        })
        .execute();
    } catch (err) {
      if (!this.d.isUniqueViolation(err)) throw err;
      throw new QuiverError('RUN_EXISTS', `Run '${input.run_id}' already exists in this namespace.`, {
        details: { run_id: input.run_id },
      });
    }
  }

  async get(namespace: string, runId: string): Promise<Run | undefined> {
    const row = await this.#select()
      .where('namespaces.namespace_id', '=', namespace)
      .where('runs.run_id', '=', runId)
      .executeTakeFirst();
    return row ? toRun(row as Row) : undefined;
  }

  async key(namespace: string, runId: string) {
    return this.db
      .selectFrom('runs')
      .innerJoin('namespaces', 'namespaces.id', 'runs.namespace_pk')
      .select(['runs.id as pk', 'runs.revision', 'runs.uid'])
      .where('namespaces.namespace_id', '=', namespace)
      .where('runs.run_id', '=', runId)
      .executeTakeFirst();
  }

  async list(namespacePk: number, query: ListQuery): Promise<Listed<Run>[]> {
    const sort = ORDER[query.orderBy.field]!;
    const dir = query.orderBy.desc ? 'desc' : 'asc';
    let q = this.#select().where('runs.namespace_pk', '=', namespacePk);
    if (query.filter) q = q.where(compileFilter(validateFilter(query.filter, FILTER), FILTER));
    if (query.after) q = q.where(afterKeyset(sort, 'runs.id', query.orderBy.desc, query.after));
    const rows = (await q
      .orderBy(sql.ref(sort), dir)
      .orderBy('runs.id', dir)
      .limit(query.limit)
      .execute()) as Row[];
    const column = sort === 'runs.run_id' ? 'run_id' : 'create_time';
    return rows.map((row) => ({ item: toRun(row), keyset: [row[column], row.id] }));
  }

  async update(pk: number, revision: number, patch: RunPatch, time: number): Promise<boolean> {
    const result = await this.db
      .updateTable('runs')
      .set({
        ...(patch.status !== undefined ? { status: patch.status } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.labels !== undefined ? { labels: JSON.stringify(patch.labels) } : {}),
        ...(patch.metrics !== undefined ? { metrics: JSON.stringify(patch.metrics) } : {}),
        ...(patch.end_time !== undefined ? { end_time: patch.end_time } : {}),
        update_time: time,
        revision: revision + 1,
      })
      .where('id', '=', pk)
      .where('revision', '=', revision)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}

const time = (ms: number | null) => (ms === null ? null : rfc3339(Number(ms)));

function toRun(row: Row): Run {
  return {
    name: runName(row.namespace_id, row.run_id),
    namespace: namespaceName(row.namespace_id),
    run_id: row.run_id,
    kind: row.kind as RunKind,
    status: row.status as RunStatus,
    description: row.description,
    labels: parseLabels(row.labels),
    code_commit: row.code_commit,
    parameters: JSON.parse(row.parameters) as JsonObject,
    metrics: JSON.parse(row.metrics) as JsonObject,
    environment: JSON.parse(row.environment) as JsonObject,
    start_time: time(row.start_time),
    end_time: time(row.end_time),
    created_by: row.created_by,
    ...meta(row),
  };
}
