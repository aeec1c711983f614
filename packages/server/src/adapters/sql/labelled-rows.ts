import type { Kysely } from 'kysely';
import type { Labels } from '../../domain/resources.js';
import type { SqlDialect } from './dialects/dialect.js';
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
  const { labels: side, owner } = LABELLED[table];
  const rows = Object.entries(labels).map(([key, value]) => ({ [owner]: pk, key, value }));
  for (const part of chunk(rows, 3, d.maxParameters)) {
    if (part.length)
      await db
        .insertInto(side)
        .values(part as never)
        .execute();
  }
}
