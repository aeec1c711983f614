import { type Kysely, sql } from 'kysely';
import { QuiverError } from '../../domain/errors.js';
import type { FilterSchema } from '../../domain/filter.js';
import { validateFilter } from '../../domain/filter.js';
import {
  type Dataset,
  type DatasetVersion,
  type DatasetVersionPath,
  datasetName,
  datasetVersionName,
} from '../../domain/lineage.js';
import { namespaceName } from '../../domain/names.js';
import type { JsonObject, Labels } from '../../domain/resources.js';
import { rfc3339 } from '../../domain/resources.js';
import type { DatasetKey, DatasetRepository, NewDatasetVersion } from '../../ports/lineage.repositories.js';
import type { Listed, ListQuery } from '../../ports/repositories.js';
import type { SqlDialect } from './dialects/dialect.js';
import { compileFilter } from './filter-sql.js';
import { afterKeyset, chunk, meta, parseLabels } from './rows.js';
import type { Database } from './schema.js';

const ORDER: Record<string, 'datasets.dataset_id' | 'datasets.create_time'> = {
  name: 'datasets.dataset_id',
  dataset_id: 'datasets.dataset_id',
  create_time: 'datasets.create_time',
};

const FILTER: FilterSchema = {
  fields: {
    dataset_id: { kind: 'string', column: 'datasets.dataset_id' },
    description: { kind: 'string', column: 'datasets.description' },
    latest_version: { kind: 'integer', column: 'datasets.latest_version' },
    create_time: { kind: 'timestamp', column: 'datasets.create_time' },
  },
};

interface Row {
  id: number;
  uid: string;
  namespace_id: string;
  dataset_id: string;
  description: string;
  labels: string;
  latest_version: number;
  create_time: number;
  update_time: number;
  revision: number;
}

type VersionRow = Database['dataset_versions'] & { id: number; namespace_id: string; dataset_id: string };

export class SqlDatasetRepository implements DatasetRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly d: SqlDialect,
  ) {}

  #select() {
    return this.db
      .selectFrom('datasets')
      .innerJoin('namespaces', 'namespaces.id', 'datasets.namespace_pk')
      .selectAll('datasets')
      .select('namespaces.namespace_id');
  }

  async create(input: {
    uid: string;
    namespace_pk: number;
    dataset_id: string;
    description: string;
    labels: Labels;
    time: number;
  }): Promise<void> {
    try {
      await this.db
        .insertInto('datasets')
        .values({
          uid: input.uid,
          namespace_pk: input.namespace_pk,
          dataset_id: input.dataset_id,
          description: input.description,
          labels: JSON.stringify(input.labels),
          latest_version: 0,
          create_time: input.time,
          update_time: input.time,
          revision: 1,
        })
        .execute();
    } catch (err) {
      if (!this.d.isUniqueViolation(err)) throw err;
      throw new QuiverError(
        'DATASET_EXISTS',
        `Dataset '${input.dataset_id}' already exists in this namespace.`,
        {
          details: { dataset_id: input.dataset_id },
        },
      );
    }
  }

  async get(namespace: string, datasetId: string): Promise<Dataset | undefined> {
    const row = await this.#select()
      .where('namespaces.namespace_id', '=', namespace)
      .where('datasets.dataset_id', '=', datasetId)
      .executeTakeFirst();
    return row ? toDataset(row as Row) : undefined;
  }

  async key(namespace: string, datasetId: string): Promise<DatasetKey | undefined> {
    return this.db
      .selectFrom('datasets')
      .innerJoin('namespaces', 'namespaces.id', 'datasets.namespace_pk')
      .select([
        'datasets.id as pk',
        'namespaces.namespace_id as namespace',
        'datasets.dataset_id',
        'datasets.latest_version',
      ])
      .where('namespaces.namespace_id', '=', namespace)
      .where('datasets.dataset_id', '=', datasetId)
      .executeTakeFirst();
  }

  async list(namespacePk: number, query: ListQuery): Promise<Listed<Dataset>[]> {
    const sort = ORDER[query.orderBy.field]!;
    const dir = query.orderBy.desc ? 'desc' : 'asc';
    let q = this.#select().where('datasets.namespace_pk', '=', namespacePk);
    if (query.filter) q = q.where(compileFilter(validateFilter(query.filter, FILTER), FILTER));
    if (query.after) q = q.where(afterKeyset(sort, 'datasets.id', query.orderBy.desc, query.after));
    const rows = (await q
      .orderBy(sql.ref(sort), dir)
      .orderBy('datasets.id', dir)
      .limit(query.limit)
      .execute()) as Row[];
    const column = sort === 'datasets.dataset_id' ? 'dataset_id' : 'create_time';
    return rows.map((row) => ({ item: toDataset(row), keyset: [row[column], row.id] }));
  }

  async nextVersion(pk: number, time: number): Promise<number> {
    const row = await this.db
      .updateTable('datasets')
      .set((eb) => ({
        latest_version: eb('latest_version', '+', 1),
        revision: eb('revision', '+', 1),
        update_time: time,
      }))
      .where('id', '=', pk)
      .returning('latest_version')
      .executeTakeFirstOrThrow();
    return row.latest_version;
  }

  async findVersion(datasetPk: number, uri: string, digest: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('dataset_versions')
      .select('version')
      .where('dataset_pk', '=', datasetPk)
      .where('digest', '=', digest)
      .where('uri', '=', uri)
      .executeTakeFirst();
    return row?.version;
  }

  async insertVersion(input: NewDatasetVersion): Promise<void> {
    await this.db
      .insertInto('dataset_versions')
      .values({
        uid: input.uid,
        dataset_pk: input.dataset_pk,
        version: input.version,
        uri: input.uri,
        digest: input.digest,
        size_bytes: input.size_bytes,
        format: input.format,
        metadata: JSON.stringify(input.metadata),
        created_by: input.created_by,
        create_time: input.time,
      })
      .execute();
  }

  #selectVersions() {
    return this.db
      .selectFrom('dataset_versions')
      .innerJoin('datasets', 'datasets.id', 'dataset_versions.dataset_pk')
      .innerJoin('namespaces', 'namespaces.id', 'datasets.namespace_pk')
      .selectAll('dataset_versions')
      .select(['namespaces.namespace_id', 'datasets.dataset_id']);
  }

  async getVersion(datasetPk: number, version: number): Promise<DatasetVersion | undefined> {
    const row = await this.#selectVersions()
      .where('dataset_versions.dataset_pk', '=', datasetPk)
      .where('dataset_versions.version', '=', version)
      .executeTakeFirst();
    return row ? toDatasetVersion(row as VersionRow) : undefined;
  }

  async listVersions(
    datasetPk: number,
    after: number | null,
    limit: number,
  ): Promise<Listed<DatasetVersion>[]> {
    let q = this.#selectVersions().where('dataset_versions.dataset_pk', '=', datasetPk);
    if (after !== null) q = q.where('dataset_versions.version', '<', after);
    const rows = (await q.orderBy('dataset_versions.version', 'desc').limit(limit).execute()) as VersionRow[];
    return rows.map((row) => ({ item: toDatasetVersion(row), keyset: [row.version] }));
  }

  async resolveVersions(paths: readonly DatasetVersionPath[]): Promise<{ index: number; pk: number }[]> {
    const out: { index: number; pk: number }[] = [];
    const indexed = paths.map((path, index) => ({ path, index }));
    // Three parameters per path; lineage limits keep this to one statement in practice.
    for (const part of chunk(indexed, 3, this.d.maxParameters)) {
      if (!part.length) continue;
      const rows = await this.db
        .selectFrom('dataset_versions')
        .innerJoin('datasets', 'datasets.id', 'dataset_versions.dataset_pk')
        .innerJoin('namespaces', 'namespaces.id', 'datasets.namespace_pk')
        .select([
          'dataset_versions.id as pk',
          'namespaces.namespace_id',
          'datasets.dataset_id',
          'dataset_versions.version',
        ])
        .where((eb) =>
          eb.or(
            part.map(({ path }) =>
              eb.and([
                eb('namespaces.namespace_id', '=', path.namespace),
                eb('datasets.dataset_id', '=', path.dataset),
                eb('dataset_versions.version', '=', path.version),
              ]),
            ),
          ),
        )
        .execute();
      const byName = new Map(
        rows.map((r) => [`${r.namespace_id}/${r.dataset_id}/${r.version}`, Number(r.pk)]),
      );
      for (const { path, index } of part) {
        const pk = byName.get(`${path.namespace}/${path.dataset}/${path.version}`);
        if (pk !== undefined) out.push({ index, pk });
      }
    }
    return out;
  }
}

function toDataset(row: Row): Dataset {
  return {
    name: datasetName(row.namespace_id, row.dataset_id),
    namespace: namespaceName(row.namespace_id),
    dataset_id: row.dataset_id,
    description: row.description,
    labels: parseLabels(row.labels),
    latest_version: row.latest_version,
    ...meta(row),
  };
}

function toDatasetVersion(row: VersionRow): DatasetVersion {
  return {
    name: datasetVersionName(row.namespace_id, row.dataset_id, row.version),
    uid: row.uid,
    dataset: datasetName(row.namespace_id, row.dataset_id),
    version: row.version,
    uri: row.uri,
    digest: row.digest,
    size_bytes: row.size_bytes === null ? null : Number(row.size_bytes),
    format: row.format,
    metadata: JSON.parse(row.metadata) as JsonObject,
    created_by: row.created_by,
    create_time: rfc3339(Number(row.create_time)),
  };
}
