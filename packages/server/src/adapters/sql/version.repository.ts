import { CompiledQuery, type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import { validateFilter } from '../../domain/filter.js';
import type { VersionStatus } from '../../domain/lifecycle.js';
import { modelName, versionName } from '../../domain/names.js';
import {
  etagOf,
  type Labels,
  rfc3339,
  type Version,
  type VersionStatusView,
} from '../../domain/resources.js';
import type { Signature } from '../../domain/tensors.js';
import type {
  Listed,
  ListQuery,
  ModelKey,
  NewVersion,
  VersionDraft,
  VersionKey,
  VersionLookup,
  VersionRepository,
} from '../../ports/repositories.js';
import type { SqlDialect } from './dialects/dialect.js';
import { compileFilter } from './filter-sql.js';
import { updateLabelled, writeLabels } from './labelled-rows.js';
import { VERSION_FILTER, VERSION_ORDER } from './list-schemas.js';
import { CLAIM_VERSION, claimByName } from './model.repository.js';
import { PreparedStatement } from './prepared.js';
import { afterKeyset, aliasesOf, asStatus, meta, parseLabels } from './rows.js';
import type { Database } from './schema.js';
import { APPEND_HISTORY, HISTORY_COLUMNS } from './small.repositories.js';

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
  alias_map: string;
  artifact_digest: string | null;
  artifact_size: number | null;
  artifact_media_type: string | null;
  artifact_format: string | null;
  artifact_signature: string | null;
}

export class SqlVersionRepository implements VersionRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly d: SqlDialect,
  ) {}

  /** Versions with their model, namespace and the model's alias map (to name the aliases of each), in one statement. */
  #select() {
    return this.db
      .selectFrom('model_versions')
      .innerJoin('models', 'models.id', 'model_versions.model_pk')
      .innerJoin('namespaces', 'namespaces.id', 'models.namespace_pk')
      .leftJoin('artifacts', 'artifacts.digest', 'model_versions.artifact_digest')
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
        'models.aliases as alias_map',
        'artifacts.digest as artifact_digest',
        'artifacts.size_bytes as artifact_size',
        'artifacts.media_type as artifact_media_type',
        'model_versions.artifact_format',
        'artifacts.signature as artifact_signature',
      ]);
  }

  async insert(input: NewVersion): Promise<void> {
    const [row] = await INSERT_VERSION.run<{ id: number }>(this.db, this.d, {
      ...versionValues(input),
      model_pk: input.model_pk,
      version: input.version,
    });
    if (!row) throw new Error('inserting a version returned no id');
    await writeLabels(this.db, this.d, 'model_versions', row.id, input.labels);
  }

  async register(namespace: string, modelId: string, draft: VersionDraft): Promise<ModelKey | undefined> {
    if (this.d.writableCtes) {
      const [row] = await REGISTER_VERSION.run<ClaimedModel & { version_pk: number }>(this.db, this.d, {
        namespace,
        modelId,
        ...versionValues(draft),
      });
      if (!row) return undefined;
      await writeLabels(this.db, this.d, 'model_versions', row.version_pk, draft.labels);
      const { version_pk: _, ...claimed } = row;
      return { ...claimed, namespace };
    }
    const [claimed] = await CLAIM_VERSION.run<ClaimedModel>(this.db, this.d, {
      namespace,
      modelId,
      time: draft.time,
    });
    if (!claimed) return undefined;
    const version = claimed.latest_version;
    await this.insert({ ...draft, model_pk: claimed.pk, version });
    await APPEND_HISTORY.run(this.db, this.d, {
      model_pk: claimed.pk,
      version,
      kind: 'created',
      from_status: null,
      to_status: draft.status,
      alias: null,
      actor: draft.created_by,
      reason: '',
      time: draft.time,
      details: null,
    });
    return { ...claimed, namespace };
  }

  async get(modelPk: number, version: number): Promise<Version | undefined> {
    const row = await this.#select()
      .where('model_versions.model_pk', '=', modelPk)
      .where('model_versions.version', '=', version)
      .executeTakeFirst();
    return row ? toVersion(row as Row) : undefined;
  }

  async key(modelPk: number, version: number): Promise<VersionKey | undefined> {
    const [row] = await VERSION_KEY.run<Omit<VersionKey, 'status'> & { status: string }>(this.db, this.d, {
      modelPk,
      version,
    });
    return row ? { ...row, status: asStatus(row.status) } : undefined;
  }

  async list(modelPk: number, query: ListQuery): Promise<Listed<Version>[]> {
    const sort = VERSION_ORDER[query.orderBy.field]!;
    const dir = query.orderBy.desc ? 'desc' : 'asc';
    let q = this.#select().where('model_versions.model_pk', '=', modelPk);
    if (query.filter)
      q = q.where(
        compileFilter(validateFilter(query.filter, VERSION_FILTER), VERSION_FILTER, this.d.subqueryFence),
      );
    if (query.after) q = q.where(afterKeyset(sort, 'model_versions.id', query.orderBy.desc, query.after));
    const rows = (await q
      .orderBy(sql.ref(sort), dir)
      .orderBy('model_versions.id', dir)
      .limit(query.limit)
      .execute()) as Row[];
    const column = sort.slice('model_versions.'.length) as 'version' | 'create_time' | 'update_time';
    return rows.map((row) => ({ item: toVersion(row), keyset: [row[column], row.id] }));
  }

  update(pk: number, revision: number, patch: { description?: string; labels?: Labels }, time: number) {
    return updateLabelled(this.db, this.d, 'model_versions', pk, revision, patch, time);
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

  /**
   * Joins the versions against a VALUES list of the wanted names (with their positions), so
   * the planner starts from the few wanted rows and probes the unique indexes: one statement
   * for numbers and one for aliases, whatever the count (chunked only past the parameter limit).
   */
  async batchGet(lookups: readonly VersionLookup[]): Promise<{ index: number; version: Version }[]> {
    return this.#byName(
      lookups,
      () => this.#select(),
      (row) => toVersion(row as Row),
      'full',
    );
  }

  async batchGetStatus(
    lookups: readonly VersionLookup[],
  ): Promise<{ index: number; version: VersionStatusView }[]> {
    const narrow = () =>
      this.db
        .selectFrom('model_versions')
        .innerJoin('models', 'models.id', 'model_versions.model_pk')
        .innerJoin('namespaces', 'namespaces.id', 'models.namespace_pk')
        .select([
          'namespaces.namespace_id',
          'models.model_id',
          'model_versions.version',
          'model_versions.status',
          'model_versions.update_time',
          'model_versions.revision',
          'model_versions.uid',
        ]);
    return this.#byName(
      lookups,
      narrow,
      (row) => {
        const r = row as StatusRow;
        return {
          name: versionName(r.namespace_id, r.model_id, r.version),
          version: r.version,
          status: asStatus(r.status),
          update_time: rfc3339(Number(r.update_time)),
          etag: etagOf(r.revision, r.uid),
        };
      },
      'status',
    );
  }

  /**
   * Batch statements by shape, compiled once: building and compiling a 100-row VALUES join with
   * the query builder cost a sixth of a batch read's CPU. Row counts are rounded up to a power of
   * two (the extra rows match nothing), so a handful of shapes serve every batch size.
   */
  readonly #compiled = new Map<string, string>();

  async #byName<T>(
    lookups: readonly VersionLookup[],
    // biome-ignore lint/suspicious/noExplicitAny: the two selections differ only in their columns; rows are typed by `build`.
    select: () => SelectQueryBuilder<any, any, any>,
    build: (row: unknown) => T,
    shape: 'full' | 'status',
  ): Promise<{ index: number; version: T }[]> {
    const out: { index: number; version: T }[] = [];
    const indexed = lookups.map((lookup, index) => ({ lookup, index }));
    const maxRows = Math.floor((this.d.maxParameters - 16) / 4);
    for (const by of ['number', 'alias'] as const) {
      const wanted = indexed.filter((x) => (x.lookup.alias === undefined) === (by === 'number'));
      for (let at = 0; at < wanted.length; at += maxRows) {
        const part = wanted.slice(at, at + maxRows);
        const rows = Math.min(maxRows, 2 ** Math.ceil(Math.log2(part.length)));
        const params: string[] = [];
        for (const { index, lookup } of part)
          params.push(String(index), lookup.namespace, lookup.model, String(lookup.alias ?? lookup.version));
        // Padding rows name no namespace (the empty name is not a valid one), so they match nothing.
        for (let i = part.length; i < rows; i++) params.push('-1', '', '', '0');
        const text = this.#statement(`${shape} ${by} ${rows}`, rows, (w) =>
          by === 'number' ? byNumber(select(), w) : byAlias(select(), w),
        );
        const result = await this.db.executeQuery<{ idx: number | string }>(CompiledQuery.raw(text, params));
        for (const row of result.rows) out.push({ index: Number(row.idx), version: build(row) });
      }
    }
    return out.sort((a, b) => a.index - b.index);
  }

  #statement(
    key: string,
    rows: number,
    // biome-ignore lint/suspicious/noExplicitAny: see #byName.
    query: (wanted: ReturnType<typeof values>) => SelectQueryBuilder<any, any, any>,
  ): string {
    let text = this.#compiled.get(key);
    if (text === undefined) {
      const compiled = query(values(Array.from({ length: rows }, () => ['0', '', '', '0']))).compile();
      // The VALUES rows must be the statement's only parameters, in order, for the cached text to be reused.
      if (compiled.parameters.length !== rows * 4)
        throw new Error(
          `batch statement ${key} has ${compiled.parameters.length} parameters, expected ${rows * 4}`,
        );
      text = compiled.sql;
      this.#compiled.set(key, text);
    }
    return text;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see SqlVersionRepository#byName.
type AnySelect = SelectQueryBuilder<any, any, any>;

function byNumber(select: AnySelect, wanted: ReturnType<typeof values>): AnySelect {
  return select
    .innerJoin(wanted, (j) =>
      j
        .on(sql`wanted.ns`, '=', sql.ref('namespaces.namespace_id'))
        .on(sql`wanted.model`, '=', sql.ref('models.model_id'))
        .on(sql`cast(wanted.ref as integer)`, '=', sql.ref('model_versions.version')),
    )
    .select(sql<number>`wanted.idx`.as('idx'));
}

function byAlias(select: AnySelect, wanted: ReturnType<typeof values>): AnySelect {
  return select
    .innerJoin('aliases as target', (j) =>
      j
        .onRef('target.model_pk', '=', 'model_versions.model_pk')
        .onRef('target.version', '=', 'model_versions.version'),
    )
    .innerJoin(wanted, (j) =>
      j
        .on(sql`wanted.ns`, '=', sql.ref('namespaces.namespace_id'))
        .on(sql`wanted.model`, '=', sql.ref('models.model_id'))
        .on(sql`wanted.ref`, '=', sql.ref('target.alias')),
    )
    .select(sql<number>`wanted.idx`.as('idx'));
}

interface StatusRow {
  namespace_id: string;
  model_id: string;
  version: number;
  status: string;
  update_time: number | string;
  revision: number;
  uid: string;
}

/** `(values (?, ?, ?, ?), …) as wanted(idx, ns, model, ref)`: the wanted names as a joinable table. */
function values(rows: readonly (readonly (string | number)[])[]) {
  // Everything is bound as text so both databases type the VALUES columns alike; `ref` is cast where compared to a number.
  const tuples = rows.map((r) => sql`(${sql.join(r.map((v) => sql`${String(v)}`))})`);
  // Both databases name VALUES columns column1..N; a column list on the alias is not portable (SQLite).
  return sql<{
    idx: string;
    ns: string;
    model: string;
    ref: string;
  }>`(select column1 as idx, column2 as ns, column3 as model, column4 as ref from (values ${sql.join(tuples)}) as v)`.as(
    'wanted',
  );
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
    artifact: row.artifact_digest
      ? {
          digest: row.artifact_digest,
          size_bytes: Number(row.artifact_size),
          media_type: row.artifact_media_type ?? 'application/octet-stream',
          format: row.artifact_format,
        }
      : null,
    signature:
      row.artifact_format === 'onnx' && row.artifact_signature
        ? (JSON.parse(row.artifact_signature) as Signature)
        : null,
    aliases: aliasesOf(row.alias_map, row.version),
    created_by: row.created_by,
    ...meta(row),
  };
}

/** The insert of creating a version, compiled once (see prepared.ts). */
type VersionInsert = Pick<
  Row,
  | 'uid'
  | 'version'
  | 'status'
  | 'description'
  | 'labels'
  | 'metadata'
  | 'source_uri'
  | 'created_by'
  | 'artifact_digest'
  | 'artifact_format'
> & { model_pk: number; time: number };

/** The draft's text values, each bound to the column of the same name. */
const TEXT_VALUES = [
  'uid',
  'status',
  'description',
  'labels',
  'metadata',
  'source_uri',
  'created_by',
  'artifact_digest',
  'artifact_format',
] as const satisfies readonly (keyof ReturnType<typeof versionValues> & keyof Row)[];

/** The names `versionValues` binds: what both statements that insert a version take from its draft. */
const DRAFT_VALUES = [...TEXT_VALUES, 'time'] as const;

const INSERT_VERSION = new PreparedStatement<VersionInsert>(
  'model_versions.insert',
  [...DRAFT_VALUES, 'model_pk', 'version'],
  (db, p) =>
    db
      .insertInto('model_versions')
      .values({
        uid: p.uid,
        model_pk: p.model_pk,
        version: p.version,
        status: p.status,
        description: p.description,
        labels: p.labels,
        metadata: p.metadata,
        source_uri: p.source_uri,
        created_by: p.created_by,
        artifact_digest: p.artifact_digest,
        artifact_format: p.artifact_format,
        create_time: p.time,
        update_time: p.time,
        revision: 1,
      })
      .returning('id'),
);

type ClaimedModel = Omit<ModelKey, 'namespace'>;

/** The columns of a version row that come from its draft, as bound (labels and metadata as JSON). */
function versionValues(draft: VersionDraft) {
  return {
    uid: draft.uid,
    status: draft.status,
    description: draft.description,
    labels: JSON.stringify(draft.labels),
    metadata: JSON.stringify(draft.metadata),
    source_uri: draft.source_uri,
    created_by: draft.created_by,
    artifact_digest: draft.artifact_digest ?? null,
    artifact_format: draft.artifact_format ?? null,
    time: draft.time,
  };
}

type RegisterValues = ReturnType<typeof versionValues> & { namespace: string; modelId: string };

/**
 * PostgreSQL: the model's next number claimed, the version and its `created` history entry
 * inserted, in one statement (one round trip instead of three). The inserts select from the
 * claimed row, so no model means no row claimed and nothing inserted. Values are cast: in an
 * INSERT … SELECT a parameter's type is not taken from its column.
 */
const REGISTER_VERSION = new PreparedStatement<RegisterValues>(
  'model_versions.register',
  ['namespace', 'modelId', ...DRAFT_VALUES],
  (db, p) => {
    const text = (value: unknown) => sql<string>`cast(${value} as text)`;
    const time = sql<number>`cast(${p.time} as bigint)`;
    return db
      .with('claimed', (q) => claimByName(q, p))
      .with('added', (q) =>
        q
          .insertInto('model_versions')
          // Columns and select list come from one list, so they cannot fall out of order.
          .columns([...TEXT_VALUES, 'model_pk', 'version', 'create_time', 'update_time', 'revision'])
          .expression((eb) =>
            eb
              .selectFrom('claimed')
              .select([
                ...TEXT_VALUES.map((name) => text(p[name]).as(name)),
                'claimed.pk',
                'claimed.latest_version',
                time.as('create_time'),
                time.as('update_time'),
                sql<number>`1`.as('revision'),
              ]),
          )
          .returning('id'),
      )
      .with('noted', (q) =>
        q
          .insertInto('version_history')
          // The select below gives them in this order.
          .columns(HISTORY_COLUMNS)
          .expression((eb) =>
            eb
              .selectFrom('claimed')
              .select([
                'claimed.pk',
                'claimed.latest_version',
                text('created').as('kind'),
                text(null).as('from_status'),
                text(p.status).as('to_status'),
                text(null).as('alias'),
                text(p.created_by).as('actor'),
                text('').as('reason'),
                time.as('time'),
                text(null).as('details'),
              ]),
          )
          .returning('id'),
      )
      .selectFrom(['claimed', 'added'])
      .select([
        'claimed.pk',
        'claimed.uid',
        'claimed.namespace_pk',
        'claimed.model_id',
        'claimed.revision',
        'claimed.latest_version',
        'added.id as version_pk',
      ]);
  },
);

/** Every transition, alias and deploy request looks a version up by number: compiled once. */
const VERSION_KEY = new PreparedStatement<{ modelPk: number; version: number }>(
  'model_versions.key',
  ['modelPk', 'version'],
  (db, p) =>
    db
      .selectFrom('model_versions')
      .select(['id as pk', 'uid', 'model_pk', 'version', 'status', 'revision', 'created_by'])
      .where('model_pk', '=', p.modelPk)
      .where('version', '=', p.version),
);
