import { type Expression, type SqlBool, sql } from 'kysely';
import type { VersionStatus } from '../../domain/lifecycle.js';
import type { Keyset } from '../../domain/page-token.js';
import { etagOf, type Labels, rfc3339 } from '../../domain/resources.js';

/** `(sort, id)` strictly after the keyset, written so both databases use the (sort, id) index as a range. */
export function afterKeyset(
  sortColumn: string,
  idColumn: string,
  desc: boolean,
  after: Keyset,
): Expression<SqlBool> {
  const [value, id] = after;
  const col = sql.ref(sortColumn);
  const pk = sql.ref(idColumn);
  return desc
    ? sql<SqlBool>`(${col} <= ${value} and (${col} < ${value} or ${pk} < ${id}))`
    : sql<SqlBool>`(${col} >= ${value} and (${col} > ${value} or ${pk} > ${id}))`;
}

export function parseLabels(text: string): Labels {
  return JSON.parse(text) as Labels;
}

/** The aliases (sorted) that point at `version`, from a model's alias map JSON. */
export function aliasesOf(aliasMap: string, version: number): string[] {
  const out: string[] = [];
  for (const [alias, v] of Object.entries(JSON.parse(aliasMap) as Record<string, number>))
    if (v === version) out.push(alias);
  return out.sort();
}

export interface TimestampedRow {
  uid: string;
  create_time: number;
  update_time: number;
  revision: number;
}

export function meta(row: TimestampedRow) {
  return {
    uid: row.uid,
    create_time: rfc3339(row.create_time),
    update_time: rfc3339(row.update_time),
    etag: etagOf(row.revision, row.uid),
  };
}

export const asStatus = (s: string) => s as VersionStatus;

/** Splits rows into chunks whose bind parameters stay under the dialect's limit. */
export function chunk<T>(rows: readonly T[], paramsPerRow: number, maxParameters: number): T[][] {
  const size = Math.max(1, Math.floor(maxParameters / paramsPerRow));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}
