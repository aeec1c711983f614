import { type Expression, type SqlBool, sql } from 'kysely';
import type { Visibility } from '../../domain/permissions.js';

/**
 * The caller's permissions as a WHERE condition, so that lists are filtered inside the query
 * (pages stay full and page tokens stay correct). `undefined` when nothing is restricted.
 * A caller holds at most a few hundred bindings, well within the bind parameter limits.
 */
export function visibleWhere(
  visible: Visibility | undefined,
  namespaceColumn: string,
  modelColumn?: string,
): Expression<SqlBool> | undefined {
  if (visible === undefined || visible === 'all') return undefined;
  const ns = sql.ref(namespaceColumn);
  const terms = [];
  if (visible.namespaces.length > 0) terms.push(sql<SqlBool>`${ns} in (${sql.join(visible.namespaces)})`);
  if (modelColumn) {
    const model = sql.ref(modelColumn);
    for (const m of visible.models)
      terms.push(sql<SqlBool>`(${ns} = ${m.namespace} and ${model} = ${m.model})`);
  }
  if (terms.length === 0) return sql<SqlBool>`1 = 0`;
  return sql<SqlBool>`(${sql.join(terms, sql` or `)})`;
}
