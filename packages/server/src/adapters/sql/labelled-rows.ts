import type { Kysely } from 'kysely';
import type { Labels } from '../../domain/resources.js';
import type { SqlDialect } from './dialects/dialect.js';
import { PreparedStatement } from './prepared.js';
import { chunk } from './rows.js';
import type { Database } from './schema.js';

/** Tables whose rows carry labels, and the side table that indexes them for filtering. */
const LABELLED = {
  models: { labels: 'model_labels', owner: 'model_pk' },
  model_versions: { labels: 'version_labels', owner: 'version_pk' },
} as const;
type LabelledTable = keyof typeof LABELLED;

/**
 * Compare-and-set update of description and labels, shared by models and versions: the row
 * changes only if it is still at `revision`, and its label index is rewritten with it.
 */
export async function updateLabelled(
  db: Kysely<Database>,
  d: SqlDialect,
  table: LabelledTable,
  pk: number,
  revision: number,
  patch: { description?: string; labels?: Labels },
  time: number,
): Promise<boolean> {
  const result = await db
    .updateTable(table)
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
    const { labels, owner } = LABELLED[table];
    await db.deleteFrom(labels).where(owner, '=', pk).execute();
    await writeLabels(db, d, table, pk, patch.labels);
  }
  return true;
}

/** Writes the label index rows of one labelled row. */
export async function writeLabels(
  db: Kysely<Database>,
  d: SqlDialect,
  table: LabelledTable,
  pk: number,
  labels: Labels,
) {
  const entries = Object.entries(labels);
  if (entries.length === 0) return;
  if (entries.length * 3 <= d.maxParameters) {
    // The common case (a handful of labels): one statement, compiled once per table and count.
    const values: Record<string, unknown> = { pk };
    entries.forEach(([key, value], i) => {
      values[`k${i}`] = key;
      values[`v${i}`] = value;
    });
    await labelInsert(table, entries.length).run(db, d, values);
    return;
  }
  const { labels: side, owner } = LABELLED[table];
  const rows = entries.map(([key, value]) => ({ [owner]: pk, key, value }));
  for (const part of chunk(rows, 3, d.maxParameters)) {
    if (part.length)
      await db
        .insertInto(side)
        .values(part as never)
        .execute();
  }
}

const labelInserts = new Map<string, PreparedStatement<Record<string, unknown>>>();

/** The insert of `count` label rows of one row of `table` (parameters pk, k0, v0, k1, v1…). */
function labelInsert(table: LabelledTable, count: number): PreparedStatement<Record<string, unknown>> {
  const key = `${table} labels ${count}`;
  let statement = labelInserts.get(key);
  if (!statement) {
    const { labels: side, owner } = LABELLED[table];
    const names = ['pk', ...Array.from({ length: count }, (_, i) => [`k${i}`, `v${i}`]).flat()];
    statement = new PreparedStatement<Record<string, unknown>>(`${key}`, names, (db, p) =>
      db.insertInto(side).values(
        Array.from({ length: count }, (_, i) => ({
          [owner]: p.pk,
          key: p[`k${i}`],
          value: p[`v${i}`],
        })) as never,
      ),
    );
    labelInserts.set(key, statement);
  }
  return statement;
}
