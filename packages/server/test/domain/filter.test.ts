import Database from 'better-sqlite3';
import fc from 'fast-check';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFilter, prefixUpperBound } from '../../src/adapters/sql/filter-sql.js';
import { QuiverError } from '../../src/domain/errors.js';
import {
  type FilterExpr,
  type FilterOp,
  type FilterSchema,
  type FilterValue,
  parseFilter,
  validateFilter,
} from '../../src/domain/filter.js';

const v = (text: string, quoted = false, wildcard = false): FilterValue => ({ text, quoted, wildcard });
const cmp = (field: string, op: FilterOp, value: FilterValue): FilterExpr => ({
  kind: 'cmp',
  field: field.split('.'),
  op,
  value,
});
const a = cmp('a', '=', v('1'));
const b = cmp('b', '=', v('2'));
const c = cmp('c', '=', v('3'));

/** Runs `fn`, expecting an INVALID_FILTER QuiverError, and returns it. */
function filterError(fn: () => unknown): QuiverError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(QuiverError);
    expect((err as QuiverError).reason).toBe('INVALID_FILTER');
    return err as QuiverError;
  }
  throw new Error('expected an INVALID_FILTER error');
}

describe('parseFilter', () => {
  it('returns null for empty or blank text', () => {
    expect(parseFilter('')).toBeNull();
    expect(parseFilter(' \t\n ')).toBeNull();
  });

  it('parses every comparison operator', () => {
    for (const op of ['=', '!=', '<', '>', '<=', '>=', ':'] as const) {
      expect(parseFilter(`a ${op} 1`)).toEqual(cmp('a', op, v('1')));
      expect(parseFilter(`a${op}1`)).toEqual(cmp('a', op, v('1')));
    }
  });

  it('binds OR tighter than AND, and treats juxtaposition as AND', () => {
    expect(parseFilter('a=1 AND b=2 OR c=3')).toEqual({
      kind: 'and',
      items: [a, { kind: 'or', items: [b, c] }],
    });
    expect(parseFilter('a=1 OR b=2 AND c=3')).toEqual({
      kind: 'and',
      items: [{ kind: 'or', items: [a, b] }, c],
    });
    expect(parseFilter('a=1 b=2 OR c=3')).toEqual({ kind: 'and', items: [a, { kind: 'or', items: [b, c] }] });
    expect(parseFilter('a=1 b=2 AND c=3')).toEqual({ kind: 'and', items: [a, b, c] });
    expect(parseFilter('(a=1 AND b=2) OR c=3')).toEqual({
      kind: 'or',
      items: [{ kind: 'and', items: [a, b] }, c],
    });
    expect(parseFilter('(a=1 OR b=2) OR c=3')).toEqual({
      kind: 'or',
      items: [{ kind: 'or', items: [a, b] }, c],
    });
  });

  it('parses NOT and the - prefix', () => {
    expect(parseFilter('NOT a=1')).toEqual({ kind: 'not', item: a });
    expect(parseFilter('-a=1 b=2')).toEqual({ kind: 'and', items: [{ kind: 'not', item: a }, b] });
    expect(parseFilter('NOT(a=1 OR b=2)')).toEqual({ kind: 'not', item: { kind: 'or', items: [a, b] } });
    expect(parseFilter('-(a=1) OR NOT b=2')).toEqual({
      kind: 'or',
      items: [
        { kind: 'not', item: a },
        { kind: 'not', item: b },
      ],
    });
    expect(parseFilter('a > -5')).toEqual(cmp('a', '>', v('-5')));
    filterError(() => parseFilter('- a=1'));
    filterError(() => parseFilter('NOT NOT a=1'));
  });

  it('keywords are case-sensitive', () => {
    expect(parseFilter('a=and')).toEqual(cmp('a', '=', v('and')));
    expect(filterError(() => parseFilter('a=1 and b=2')).message).toMatch(/operator .* after 'and'/);
  });

  it('decodes quoted strings with escapes', () => {
    expect(parseFilter(`name = "a \\"b\\" c"`)).toEqual(cmp('name', '=', v('a "b" c', true)));
    expect(parseFilter(`name = 'it\\'s \\\\ \\n'`)).toEqual(cmp('name', '=', v("it's \\ \n", true)));
    expect(parseFilter(`name = "AND (x) = y"`)).toEqual(cmp('name', '=', v('AND (x) = y', true)));
    expect(parseFilter('name = ""')).toEqual(cmp('name', '=', v('', true)));
    const bad = filterError(() => parseFilter('name = "a\\qb"'));
    expect(bad.details.position).toBe(9);
    expect(filterError(() => parseFilter('name = "abc')).message).toBe(
      'filter: expected a closing " at position 11 for the string that starts at position 7',
    );
  });

  it('parses map fields with plain and quoted keys', () => {
    expect(parseFilter('labels.team = risk')).toEqual({
      kind: 'cmp',
      field: ['labels', 'team'],
      op: '=',
      value: v('risk'),
    });
    expect(parseFilter('labels."team-name":x')).toEqual({
      kind: 'cmp',
      field: ['labels', 'team-name'],
      op: ':',
      value: v('x'),
    });
    expect(parseFilter(`labels.'app.io/name' = x`)).toMatchObject({ field: ['labels', 'app.io/name'] });
    filterError(() => parseFilter('labels. = x'));
    filterError(() => parseFilter('Labels = x'));
  });

  it('records trailing wildcards for prefix matching', () => {
    expect(parseFilter('name:"fraud*"')).toEqual(cmp('name', ':', v('fraud', true, true)));
    expect(parseFilter('name:fraud*')).toEqual(cmp('name', ':', v('fraud', false, true)));
    expect(parseFilter('labels.team:*')).toEqual(cmp('labels.team', ':', v('', false, true)));
    expect(parseFilter('name:"fraud\\*"')).toEqual(cmp('name', ':', v('fraud*', true)));
    expect(parseFilter('name:"a*b"')).toEqual(cmp('name', ':', v('a*b', true)));
    expect(filterError(() => parseFilter('name:a*b')).details.position).toBe(6);
  });

  it('reports what was expected and where', () => {
    const cases: [string, string][] = [
      ['latest_ver = ', "filter: expected a value after '=' at position 13"],
      ['a = AND b = 1', "filter: expected a value after '=' at position 4"],
      ['a', "filter: expected an operator (=, !=, <, >, <=, >= or :) after 'a' at position 1"],
      ['a=1 AND', "filter: expected a field name, '(' or NOT after 'AND' at position 7"],
      ['a=1 OR OR b=1', "filter: expected a field name, '(' or NOT after 'OR' at position 7"],
      ['(a=1', "filter: expected ')' at position 4 to close the '(' at position 0"],
      ['a=1)', "filter: unexpected ')' without a matching '(' at position 3"],
      ['()', "filter: expected a comparison inside '(' at position 1"],
      ['a="x"b=1', "filter: expected whitespace, ')' or the end of the filter at position 5"],
      ['a == 1', "filter: expected a value after '=' at position 3"],
    ];
    for (const [text, message] of cases) {
      const err = filterError(() => parseFilter(text));
      expect(err.message).toBe(message);
      expect(err.details.field).toBe('filter');
      expect(typeof err.details.position).toBe('number');
    }
  });

  it('enforces the length limit', () => {
    const long = `name = "${'x'.repeat(1991)}"`;
    expect(long).toHaveLength(2000);
    expect(parseFilter(long)).not.toBeNull();
    expect(filterError(() => parseFilter(`${long} `)).details.position).toBe(2000);
  });

  it('enforces the comparison limit', () => {
    const n = (k: number) => Array.from({ length: k }, (_, i) => `a=${i}`).join(' ');
    expect(parseFilter(n(50))).toMatchObject({ kind: 'and' });
    expect(filterError(() => parseFilter(n(51))).message).toMatch(
      /more than 50 comparisons at position 240$/,
    );
  });

  it('enforces the nesting limit', () => {
    const nest = (k: number) => `${'('.repeat(k)}a=1${')'.repeat(k)}`;
    expect(parseFilter(nest(16))).toEqual(a);
    expect(filterError(() => parseFilter(nest(17))).details.position).toBe(16);
    expect(filterError(() => parseFilter(`${'-('.repeat(17)}a=1${')'.repeat(17)}`)).message).toMatch(
      /deeper than 16/,
    );
  });
});

const normalizeName = (s: string) => s.replace(/^namespaces\/[^/]+\/models\//, '');
const schema: FilterSchema = {
  fields: {
    name: { kind: 'string', column: 'models.model_id', normalize: normalizeName },
    latest_version: { kind: 'integer', column: 'models.latest_version' },
    create_time: { kind: 'timestamp', column: 'models.create_time' },
  },
  labels: { table: 'model_labels', ownerColumn: 'model_pk', ownerRef: 'models.id' },
};
const versionSchema: FilterSchema = {
  fields: {
    status: { kind: 'enum', column: 'status', values: ['pending', 'approved', 'archived'] },
    version: { kind: 'integer', column: 'version' },
  },
};
const check = (text: string, s: FilterSchema = schema) => validateFilter(parseFilter(text)!, s);

describe('validateFilter', () => {
  it('types values and resolves ":"', () => {
    expect(check('latest_version >= 3')).toEqual({
      kind: 'compare',
      target: { type: 'column', field: 'latest_version', column: 'models.latest_version' },
      op: '>=',
      value: 3,
    });
    expect(check('create_time < "2024-03-01T01:00:00+01:00"')).toMatchObject({ value: Date.UTC(2024, 2, 1) });
    expect(check('create_time = "2024-03-01T00:00:00.1234Z"')).toMatchObject({
      value: Date.UTC(2024, 2, 1, 0, 0, 0, 123),
    });
    expect(check('name:"namespaces/p/models/fr*"')).toMatchObject({ kind: 'prefix', prefix: 'fr' });
    expect(check('name:churn')).toMatchObject({ kind: 'compare', op: '=', value: 'churn' });
    expect(check('labels.team:*')).toEqual({ kind: 'hasLabel', key: 'team' });
    expect(check('labels.team:"ri*"')).toEqual({
      kind: 'prefix',
      target: { type: 'label', key: 'team' },
      prefix: 'ri',
    });
    expect(check('status != approved', versionSchema)).toMatchObject({ op: '!=', value: 'approved' });
  });

  it('lists the allowed fields for an unknown field', () => {
    const err = filterError(() => check('owner = x'));
    expect(err.message).toBe(
      "filter: unknown field 'owner'; allowed fields are name, latest_version, create_time, labels.<key>",
    );
    expect(err.details).toMatchObject({ field: 'filter', filterField: 'owner' });
    filterError(() => check('constructor = x'));
    filterError(() => check('name.first = x'));
  });

  it('lists the allowed values of an enum', () => {
    const err = filterError(() => check('status = done', versionSchema));
    expect(err.message).toContain("'status' must be one of pending, approved, archived");
    expect(err.details.allowed).toEqual(['pending', 'approved', 'archived']);
    filterError(() => check('status > pending', versionSchema));
  });

  it('rejects bad integers and timestamps', () => {
    for (const f of ['latest_version = 1.5', 'latest_version = x', 'latest_version = 99999999999999999']) {
      expect(filterError(() => check(f)).message).toContain('expects a 32-bit integer');
    }
    for (const t of [
      '2024-02-30T00:00:00Z',
      '2024-03-01',
      '2024-03-01T24:00:00Z',
      'yesterday',
      '2024-03-01T00:00:00',
    ]) {
      expect(filterError(() => check(`create_time > "${t}"`)).message).toContain('RFC 3339');
    }
  });

  it('allows labels only when the schema has them, with valid keys', () => {
    expect(filterError(() => check('labels.team = x', versionSchema)).message).toBe(
      "filter: unknown field 'labels.team' (this resource has no labels); allowed fields are status, version",
    );
    expect(filterError(() => check('labels."Team" = x')).message).toContain('not a valid label key');
    filterError(() => check('labels."-x" = y'));
    filterError(() => check('labels = x'));
  });

  it('allows prefix matching only with ":" on strings and labels', () => {
    filterError(() => check('name = "fr*"'));
    filterError(() => check('latest_version:1*'));
    filterError(() => check('status:app*', versionSchema));
  });
});

describe('compileFilter on SQLite', () => {
  interface DB {
    models: { id: number; model_id: string; latest_version: number; create_time: number };
    model_labels: { model_pk: number; key: string; value: string };
  }
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
  const t = (iso: string) => Date.parse(iso);
  const names = ['fraud-detector', 'Fraud-legacy', 'churn', 'fraudulent', 'recommender', 'fraud', 'fraue'];
  const extra = ['q\u{10FFFF}', 'q\u{10FFFF}\u{10FFFF}z', 'r'];

  beforeAll(async () => {
    await sql`create table models (id integer primary key, model_id text, latest_version integer, create_time integer)`.execute(
      db,
    );
    await sql`create table model_labels (model_pk integer, key text, value text)`.execute(db);
    await db
      .insertInto('models')
      .values(
        [...names, ...extra].map((model_id, i) => ({
          id: i + 1,
          model_id,
          latest_version: [3, 1, 7, 0, 12, 2, 5, 0, 0, 0][i] ?? 0,
          create_time: t(`2024-0${(i % 9) + 1}-01T00:00:00Z`),
        })),
      )
      .execute();
    const labels: [number, string, string][] = [
      [1, 'team', 'risk'],
      [1, 'tier', 'gold'],
      [2, 'team', 'risk-legacy'],
      [3, 'team', 'growth'],
      [3, 'team-name', 'growth-core'],
      [5, 'tier', 'silver'],
      [5, 'app.kubernetes.io/name', 'rec'],
    ];
    await db
      .insertInto('model_labels')
      .values(labels.map(([model_pk, key, value]) => ({ model_pk, key, value })))
      .execute();
  });
  afterAll(() => db.destroy());

  const ids = async (text: string) => {
    const where = compileFilter(validateFilter(parseFilter(text)!, schema), schema);
    const rows = await db.selectFrom('models').select('id').where(where).orderBy('id').execute();
    return rows.map((r) => r.id);
  };

  it.each([
    ['name = "churn"', [3]],
    ['name = "namespaces/prod/models/churn"', [3]],
    ['name = "x\' OR 1=1 --"', []],
    ['name:"fraud*"', [1, 4, 6]],
    ['name:"Fraud*"', [2]],
    ['name:*', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
    ['name:"q\u{10FFFF}*"', [8, 9]],
    ['latest_version >= 3 AND latest_version < 12', [1, 3, 7]],
    ['latest_version > 5 OR name = fraudulent', [3, 4, 5]],
    ['create_time >= "2024-03-01T00:00:00Z" create_time < "2024-05-01T00:00:00Z"', [3, 4]],
    ['labels.team = risk', [1]],
    ['labels.team:*', [1, 2, 3]],
    ['-labels.team:* latest_version != 0', [5, 6, 7]],
    ['labels.team != risk latest_version > 0', [2, 3, 5, 6, 7]],
    ['labels.team:"risk*"', [1, 2]],
    ['labels."team-name" = "growth-core"', [3]],
    ['labels."app.kubernetes.io/name":*', [5]],
    ['labels.tier > gold', [5]],
    ['NOT (name:"fraud*" OR labels.tier = gold) latest_version > 0', [2, 3, 5, 7]],
  ] as [string, number[]][])('%s', async (text, expected) => {
    expect(await ids(text)).toEqual(expected);
  });

  it('binds values as parameters', () => {
    const where = compileFilter(
      validateFilter(parseFilter('name = "x\' OR 1=1 --" OR labels.team:"a*"')!, schema),
      schema,
    );
    const q = db.selectFrom('models').select('id').where(where).compile();
    expect(q.sql).not.toContain('OR 1=1');
    expect(q.sql).toContain('EXISTS (SELECT 1 FROM "model_labels" "l" WHERE "l"."model_pk" = "models"."id"');
    expect(q.parameters).toEqual(["x' OR 1=1 --", 'team', 'a', 'b']);
  });

  it('computes exact prefix upper bounds', () => {
    expect(prefixUpperBound('abc')).toBe('abd');
    expect(prefixUpperBound('a\u{10FFFF}')).toBe('b');
    expect(prefixUpperBound('\u{D7FF}')).toBe('\u{E000}');
    expect(prefixUpperBound('')).toBeUndefined();
    expect(prefixUpperBound('\u{10FFFF}')).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------
// Property-based tests

const keyword = /^(AND|OR|NOT)$/;
const fieldArb = fc.oneof(
  fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/).map((f) => [f]),
  fc.tuple(fc.constantFrom('labels', 'm'), fc.string({ maxLength: 6 })).map(([h, k]) => [h, k]),
);
const valueArb: fc.Arbitrary<FilterValue> = fc.oneof(
  fc.record({
    text: fc.string({ unit: 'binary', maxLength: 8 }),
    quoted: fc.constant(true),
    wildcard: fc.boolean(),
  }),
  fc.record({
    text: fc.stringMatching(/^[A-Za-z0-9_.\-+/]{1,8}$/).filter((s) => !keyword.test(s)),
    quoted: fc.constant(false),
    wildcard: fc.boolean(),
  }),
  fc.constant({ text: '', quoted: false, wildcard: true }),
);
const opArb = fc.constantFrom<FilterOp>('=', '!=', '<', '>', '<=', '>=', ':');
const countCmp = (e: FilterExpr): number =>
  e.kind === 'cmp' ? 1 : e.kind === 'not' ? countCmp(e.item) : e.items.reduce((n, x) => n + countCmp(x), 0);
const { expr: anyExprArb } = fc.letrec<{ expr: FilterExpr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    fc.record({ kind: fc.constant('cmp' as const), field: fieldArb, op: opArb, value: valueArb }),
    fc.record({ kind: fc.constant('not' as const), item: tie('expr') }),
    fc.record({
      kind: fc.constantFrom('and' as const, 'or' as const),
      items: fc.array(tie('expr'), { minLength: 2, maxLength: 3 }),
    }),
  ),
}));

// Stay within the parser's limits (nesting is bounded by maxDepth already).
const exprArb = anyExprArb.filter((e) => countCmp(e) <= 50 && print(e).length <= 2000);

const quote = (s: string) => `"${s.replace(/[\\"*]/g, (ch) => `\\${ch}`)}"`;
const printField = (f: readonly string[]) =>
  f.map((s, i) => (i > 0 && !/^[a-z_][a-z0-9_]*$/.test(s) ? quote(s) : s)).join('.');
const printValue = (x: FilterValue) =>
  x.quoted ? `${quote(x.text).slice(0, -1)}${x.wildcard ? '*' : ''}"` : `${x.text}${x.wildcard ? '*' : ''}`;

/** Prints an AST with the fewest parentheses the grammar needs, varying the spellings it accepts. */
function print(e: FilterExpr, n = 0): string {
  const group = (x: FilterExpr, bare: boolean) => (bare ? print(x, n + 1) : `(${print(x, n + 1)})`);
  switch (e.kind) {
    case 'cmp':
      return `${printField(e.field)}${n % 2 ? ' ' : ''}${e.op}${n % 3 ? ' ' : ''}${printValue(e.value)}`;
    case 'not':
      return (n % 2 ? '-' : 'NOT ') + group(e.item, e.item.kind === 'cmp');
    case 'and':
      // OR binds tighter than AND, so OR groups need no parentheses inside AND.
      return e.items
        .map(
          (x, i) =>
            (i === 0 ? '' : i % 2 ? ' AND ' : ' ') +
            group(x, x.kind === 'cmp' || x.kind === 'not' || x.kind === 'or'),
        )
        .join('');
    case 'or':
      return e.items.map((x) => group(x, x.kind === 'cmp' || x.kind === 'not')).join(' OR ');
  }
}

const tokens = fc.constantFrom(
  ...[
    'a',
    'labels',
    '.',
    '"',
    "'",
    '\\',
    '=',
    '!=',
    '<',
    '>=',
    ':',
    '*',
    '(',
    ')',
    '-',
    ' ',
    'AND',
    'OR',
    'NOT',
    '"x"',
    '1',
  ],
);

describe('filter properties', () => {
  it('parses or rejects any text with INVALID_FILTER only', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.array(tokens, { maxLength: 80 }).map((t) => t.join('')),
      // Valid filters with a few random edits reach the deeper error paths.
      fc
        .tuple(
          exprArb.map((e) => print(e)),
          fc.array(fc.tuple(fc.nat(), fc.nat(3), tokens), { maxLength: 4 }),
        )
        .map(([src, edits]) =>
          edits.reduce(
            (acc, [at, del, tok]) =>
              acc.slice(0, at % (acc.length + 1)) + tok + acc.slice((at % (acc.length + 1)) + del),
            src,
          ),
        ),
    );
    fc.assert(
      fc.property(text, (s) => {
        try {
          const ast = parseFilter(s);
          // Whatever parses must also validate cleanly or fail with INVALID_FILTER, and compile.
          if (ast) compileFilter(validateFilter(ast, schema), schema);
        } catch (err) {
          if (!(err instanceof QuiverError) || err.reason !== 'INVALID_FILTER') throw err;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips printed ASTs', () => {
    fc.assert(
      fc.property(exprArb, (e) => {
        expect(parseFilter(print(e))).toEqual(e);
      }),
      { numRuns: 2000 },
    );
  });
});
