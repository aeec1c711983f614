import { type RawBuilder, type SqlBool, sql } from 'kysely';
import { QuiverError } from '../../domain/errors.js';
import type { Comparator, FilterSchema, TypedFilterExpr, TypedTarget } from '../../domain/filter.js';

/**
 * Compiles a validated filter into a boolean SQL expression for `.where(...)`.
 * Values are always bound parameters; identifiers come only from the schema and go
 * through `sql.ref`/`sql.table`, so filter text can never inject SQL. The output uses only
 * syntax common to SQLite and PostgreSQL (comparisons, AND/OR/NOT, EXISTS).
 */

// Operators are looked up in this fixed table, never copied from input.
const SQL_OPS: Record<Comparator, string> = {
  '=': '=',
  '!=': '<>',
  '<': '<',
  '>': '>',
  '<=': '<=',
  '>=': '>=',
};

// Correlated subqueries get their own alias; a nested EXISTS would shadow it, which is harmless.
const LABEL_ALIAS = 'l';

type Labels = NonNullable<FilterSchema['labels']>;

/**
 * `fence` is appended inside every label subquery. PostgreSQL flattens `EXISTS` into a semi-join
 * and then prefers hashing every row of a label value to walking the page in index order; an
 * `OFFSET 0` there keeps the check a per-row probe, so a page stops after its rows (see
 * docs/performance.md). SQLite probes per row already and passes nothing.
 */
export function compileFilter(
  expr: TypedFilterExpr,
  schema: FilterSchema,
  fence: RawBuilder<unknown> = sql``,
): RawBuilder<SqlBool> {
  const labelExists = (labels: Labels, key: string, cond?: RawBuilder<SqlBool>) =>
    labelSubquery(labels, key, fence, cond);
  const onTarget = (target: TypedTarget, build: (ref: RawBuilder<unknown>) => RawBuilder<SqlBool>) =>
    target.type === 'column'
      ? build(sql.ref(target.column))
      : labelExists(labelsOf(schema), target.key, build(labelValue));
  switch (expr.kind) {
    case 'and':
    case 'or': {
      // An empty group is the identity of its operator; validated filters never produce one.
      if (expr.items.length === 0) return expr.kind === 'and' ? sql<SqlBool>`(1 = 1)` : sql<SqlBool>`(1 = 0)`;
      const joiner = expr.kind === 'and' ? sql` AND ` : sql` OR `;
      return sql<SqlBool>`(${sql.join(
        expr.items.map((e) => compileFilter(e, schema, fence)),
        joiner,
      )})`;
    }
    case 'not':
      return sql<SqlBool>`NOT (${compileFilter(expr.item, schema, fence)})`;
    case 'hasLabel':
      return labelExists(labelsOf(schema), expr.key);
    case 'compare':
      if (expr.target.type === 'column') return compare(sql.ref(expr.target.column), expr.op, expr.value);
      // "Not equal" on a label means "has no such key=value", so models without the key match too.
      if (expr.op === '!=') {
        return sql<SqlBool>`NOT ${labelExists(labelsOf(schema), expr.target.key, compare(labelValue, '=', expr.value))}`;
      }
      return labelExists(labelsOf(schema), expr.target.key, compare(labelValue, expr.op, expr.value));
    case 'prefix':
      return onTarget(expr.target, (ref) => prefixRange(ref, expr.prefix));
  }
}

const labelValue = sql.ref(`${LABEL_ALIAS}.value`);

function compare(ref: RawBuilder<unknown>, op: Comparator, value: string | number): RawBuilder<SqlBool> {
  return sql<SqlBool>`${ref} ${sql.raw(SQL_OPS[op])} ${value}`;
}

function labelsOf(schema: FilterSchema): Labels {
  if (schema.labels) return schema.labels;
  // validateFilter rejects labels.* for such schemas; reaching this is a programming error.
  throw new QuiverError('INVALID_FILTER', 'filter: this resource has no labels', {
    details: { field: 'filter' },
  });
}

/** `EXISTS (SELECT 1 FROM <table> l WHERE l.<owner> = <ownerRef> AND l.key = ? [AND <cond>])`. */
function labelSubquery(
  labels: Labels,
  key: string,
  fence: RawBuilder<unknown>,
  cond?: RawBuilder<SqlBool>,
): RawBuilder<SqlBool> {
  const alias = sql.id(LABEL_ALIAS);
  const owner = sql.ref(`${LABEL_ALIAS}.${labels.ownerColumn}`);
  const extra = cond === undefined ? sql`` : sql` AND ${cond}`;
  return sql<SqlBool>`EXISTS (SELECT 1 FROM ${sql.table(labels.table)} ${alias} WHERE ${owner} = ${sql.ref(
    labels.ownerRef,
  )} AND ${sql.ref(`${LABEL_ALIAS}.key`)} = ${key}${extra}${fence})`;
}

/**
 * Prefix match as a half-open range `[prefix, successor(prefix))` rather than LIKE: SQLite's
 * LIKE ignores ASCII case, and a plain range can use a B-tree index on both databases.
 * It is exact when text is ordered by code point, which is what SQLite's default BINARY
 * collation and PostgreSQL's "C" collation do (UTF-8 byte order equals code point order).
 * Under a linguistic PostgreSQL collation the range is not a prefix test, so filterable
 * text columns must use COLLATE "C" there.
 */
function prefixRange(ref: RawBuilder<unknown>, prefix: string): RawBuilder<SqlBool> {
  const upper = prefixUpperBound(prefix);
  if (upper === undefined) return sql<SqlBool>`${ref} >= ${prefix}`;
  return sql<SqlBool>`(${ref} >= ${prefix} AND ${ref} < ${upper})`;
}

/**
 * The smallest string greater than every string that starts with `prefix`: the prefix with
 * its last code point incremented. A fixed sentinel such as prefix + U+10FFFF would miss
 * values that continue with U+10FFFF itself; the successor has no such hole. Code points at
 * U+10FFFF carry into the previous one; the surrogate block is skipped because it cannot be
 * encoded in UTF-8. Undefined when there is no upper bound (empty prefix, or all U+10FFFF).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const cps = Array.from(prefix, (c) => c.codePointAt(0) ?? 0);
  while (cps.length > 0) {
    const last = cps.pop() ?? 0;
    if (last < 0x10ffff) {
      const next = last + 1 >= 0xd800 && last + 1 <= 0xdfff ? 0xe000 : last + 1;
      return String.fromCodePoint(...cps, next);
    }
  }
  return undefined;
}
