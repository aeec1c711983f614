import { QuiverError } from './errors.js';

/**
 * The `filter` language of list methods: a subset of AIP-160 (https://google.aip.dev/160).
 * Parsing is pure and bounded (length, comparisons, nesting) so any user text is safe to
 * feed in; `validateFilter` then checks names and types against a per-resource schema.
 * Positions in messages are 0-based UTF-16 offsets into the filter text.
 */

export const MAX_FILTER_LENGTH = 2000;
export const MAX_FILTER_COMPARISONS = 50;
export const MAX_FILTER_DEPTH = 16;

export type FilterOp = '=' | '!=' | '<' | '>' | '<=' | '>=' | ':';
/** `text` is the decoded value without the trailing wildcard; `wildcard` says a `*` ended it. */
export interface FilterValue {
  readonly text: string;
  readonly quoted: boolean;
  readonly wildcard: boolean;
}
export type FilterExpr =
  | { readonly kind: 'and'; readonly items: readonly FilterExpr[] }
  | { readonly kind: 'or'; readonly items: readonly FilterExpr[] }
  | { readonly kind: 'not'; readonly item: FilterExpr }
  | {
      readonly kind: 'cmp';
      readonly field: readonly string[];
      readonly op: FilterOp;
      readonly value: FilterValue;
    };

function filterError(message: string, details: Record<string, unknown> = {}): QuiverError {
  return new QuiverError('INVALID_FILTER', message, { details: { field: 'filter', ...details } });
}

const IDENT_RE = /^[a-z_][a-z0-9_]*$/;
const isWs = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isIdentStart = (c: string | undefined) => c !== undefined && ((c >= 'a' && c <= 'z') || c === '_');
const isIdentPart = (c: string | undefined) => isIdentStart(c) || (c !== undefined && c >= '0' && c <= '9');
// Characters that end a bare (unquoted) value: whitespace, grouping, quotes and operator characters.
const BARE_STOP = new Set(['(', ')', '"', "'", '=', '!', '<', '>', ':']);
const ESCAPES: Record<string, string> = {
  '\\': '\\',
  '"': '"',
  "'": "'",
  '*': '*',
  n: '\n',
  t: '\t',
  r: '\r',
};
const KEYWORDS = new Set(['AND', 'OR', 'NOT']);

/** Prints a field path the way it can be typed back: dotted, quoting keys that are not identifiers. */
export function formatFieldPath(path: readonly string[]): string {
  return path.map((s, i) => (i > 0 && !IDENT_RE.test(s) ? JSON.stringify(s) : s)).join('.');
}

/**
 * Recursive descent over the AIP-160 grammar. Precedence (loosest first): AND and
 * juxtaposition ("sequence"), then OR, then NOT/`-`. Recursion only happens at `(`, which
 * the depth limit bounds, and every loop consumes input, so parsing is linear and finite.
 */
class Parser {
  pos = 0;
  depth = 0;
  comparisons = 0;
  constructor(readonly src: string) {}

  fail(what: string, at = this.pos, tail = ''): never {
    throw filterError(`filter: ${what} at position ${at}${tail}`, { position: at });
  }
  /** A method rather than a getter so TypeScript does not narrow it across `pos++`. */
  peek(): string | undefined {
    return this.src[this.pos];
  }
  skipWs(): void {
    while (isWs(this.peek())) this.pos++;
  }
  /** Consumes `kw` only as a whole word: followed by whitespace, `(` or the end. */
  keyword(kw: string): boolean {
    if (!this.src.startsWith(kw, this.pos)) return false;
    const next = this.src[this.pos + kw.length];
    if (next !== undefined && !isWs(next) && next !== '(') return false;
    this.pos += kw.length;
    return true;
  }
  /** A term must be followed by whitespace, `)` or the end; this rejects `a="x"b=1` or `(a=1)AND`. */
  boundary(): void {
    if (this.peek() !== undefined && !isWs(this.peek()) && this.peek() !== ')') {
      this.fail("expected whitespace, ')' or the end of the filter");
    }
  }

  expression(after: string): FilterExpr {
    const items = [this.factor(after)];
    for (;;) {
      this.skipWs();
      if (this.peek() === undefined || this.peek() === ')') break;
      if (this.keyword('AND')) {
        this.skipWs();
        items.push(this.factor(" after 'AND'"));
      } else {
        items.push(this.factor('')); // juxtaposition: `a b` means `a AND b`
      }
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }

  factor(after: string): FilterExpr {
    const items = [this.term(after)];
    for (;;) {
      const save = this.pos;
      this.skipWs();
      if (!this.keyword('OR')) {
        this.pos = save;
        break;
      }
      this.skipWs();
      items.push(this.term(" after 'OR'"));
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }

  term(after: string): FilterExpr {
    if (this.keyword('NOT')) {
      this.skipWs();
      return { kind: 'not', item: this.simple(" after 'NOT'") };
    }
    if (this.peek() === '-') {
      this.pos++;
      if (this.peek() !== '(' && !isIdentStart(this.peek())) {
        this.fail("expected a field name or '(' right after '-'");
      }
      return { kind: 'not', item: this.simple('') };
    }
    return this.simple(after);
  }

  simple(after: string): FilterExpr {
    if (this.peek() === '(') {
      const open = this.pos;
      if (this.depth >= MAX_FILTER_DEPTH) {
        this.fail(`parentheses nest deeper than ${MAX_FILTER_DEPTH} levels`);
      }
      this.pos++;
      this.depth++;
      this.skipWs();
      if (this.peek() === ')') this.fail("expected a comparison inside '('");
      const inner = this.expression(" after '('");
      if (this.peek() !== ')') this.fail("expected ')'", this.pos, ` to close the '(' at position ${open}`);
      this.pos++;
      this.depth--;
      this.boundary();
      return inner;
    }
    if (isIdentStart(this.peek())) return this.restriction();
    return this.fail(`expected a field name, '(' or NOT${after}`);
  }

  restriction(): FilterExpr {
    if (++this.comparisons > MAX_FILTER_COMPARISONS) {
      this.fail(`more than ${MAX_FILTER_COMPARISONS} comparisons`);
    }
    const field = [this.ident()];
    while (this.peek() === '.') {
      this.pos++;
      if (this.peek() === '"' || this.peek() === "'") {
        const key = this.string();
        field.push(key.wildcard ? `${key.text}*` : key.text);
      } else if (isIdentStart(this.peek())) field.push(this.ident());
      else this.fail("expected a key after '.'");
    }
    this.skipWs();
    const op = this.operator();
    if (op === undefined) {
      this.fail(`expected an operator (=, !=, <, >, <=, >= or :) after '${formatFieldPath(field)}'`);
    }
    this.skipWs();
    const value = this.value(op);
    this.boundary();
    return { kind: 'cmp', field, op, value };
  }

  ident(): string {
    const start = this.pos;
    while (isIdentPart(this.peek())) this.pos++;
    return this.src.slice(start, this.pos);
  }

  operator(): FilterOp | undefined {
    for (const op of ['<=', '>=', '!=', '=', '<', '>', ':'] as const) {
      if (this.src.startsWith(op, this.pos)) {
        this.pos += op.length;
        return op;
      }
    }
    return undefined;
  }

  value(op: FilterOp): FilterValue {
    if (this.peek() === '"' || this.peek() === "'") return { ...this.string(), quoted: true };
    const start = this.pos;
    for (let c = this.peek(); c !== undefined && !isWs(c) && !BARE_STOP.has(c); c = this.peek()) this.pos++;
    const word = this.src.slice(start, this.pos);
    // A keyword here almost always means a missing value (`a = AND b = 1`), so say so.
    if (word === '' || KEYWORDS.has(word)) this.fail(`expected a value after '${op}'`, start);
    const star = word.indexOf('*');
    if (star >= 0 && star < word.length - 1) {
      this.fail("'*' is allowed only at the end of a value", start + star);
    }
    return star >= 0
      ? { text: word.slice(0, -1), quoted: false, wildcard: true }
      : { text: word, quoted: false, wildcard: false };
  }

  /** A quoted string; an unescaped `*` just before the closing quote is the prefix wildcard. */
  string(): { text: string; wildcard: boolean } {
    const quote = this.peek();
    const open = this.pos++;
    let text = '';
    let lastStar = false;
    for (;;) {
      const c = this.peek();
      if (c === undefined) {
        this.fail(`expected a closing ${quote}`, this.pos, ` for the string that starts at position ${open}`);
      }
      this.pos++;
      if (c === quote) break;
      if (c === '\\') {
        const decoded = ESCAPES[this.peek() ?? ''];
        if (decoded === undefined) {
          this.fail('expected one of the escapes \\\\ \\" \\\' \\* \\n \\t \\r', this.pos - 1);
        }
        text += decoded;
        lastStar = false;
        this.pos++;
      } else {
        text += c;
        lastStar = c === '*';
      }
    }
    return lastStar ? { text: text.slice(0, -1), wildcard: true } : { text, wildcard: false };
  }
}

/** Parses filter text into an AST; returns null for an empty filter. Throws INVALID_FILTER. */
export function parseFilter(text: string): FilterExpr | null {
  if (text.length > MAX_FILTER_LENGTH) {
    throw filterError(`filter: is ${text.length} characters long; at most ${MAX_FILTER_LENGTH} are allowed`, {
      position: MAX_FILTER_LENGTH,
    });
  }
  const p = new Parser(text);
  p.skipWs();
  if (p.peek() === undefined) return null;
  const expr = p.expression('');
  // expression() stops only at the end or at a `)` that no `(` opened.
  if (p.peek() !== undefined) p.fail("unexpected ')' without a matching '('");
  return expr;
}

// ---------------------------------------------------------------------------------------
// Validation against a schema

export type FilterFieldKind = 'string' | 'integer' | 'timestamp' | 'enum';
export interface FilterField {
  kind: FilterFieldKind;
  column: string;
  values?: readonly string[];
  normalize?: (v: string) => string;
}
export interface FilterSchema {
  fields: Record<string, FilterField>;
  labels?: { table: string; ownerColumn: string; ownerRef: string };
}

export type Comparator = Exclude<FilterOp, ':'>;
export type TypedTarget =
  | { readonly type: 'column'; readonly field: string; readonly column: string }
  | { readonly type: 'label'; readonly key: string };
/** `:` is resolved away: it becomes `compare '='`, `prefix`, or `hasLabel`. Timestamps are epoch ms. */
export type TypedFilterExpr =
  | { readonly kind: 'and'; readonly items: readonly TypedFilterExpr[] }
  | { readonly kind: 'or'; readonly items: readonly TypedFilterExpr[] }
  | { readonly kind: 'not'; readonly item: TypedFilterExpr }
  | {
      readonly kind: 'compare';
      readonly target: TypedTarget;
      readonly op: Comparator;
      readonly value: string | number;
    }
  | { readonly kind: 'prefix'; readonly target: TypedTarget; readonly prefix: string }
  | { readonly kind: 'hasLabel'; readonly key: string };

const LABEL_KEY_RE = /^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$/;
// NUL is rejected by PostgreSQL text and lone surrogates cannot be encoded as UTF-8.
const BAD_TEXT_RE = /[\0\p{Cs}]/u;

export function validateFilter(expr: FilterExpr, schema: FilterSchema): TypedFilterExpr {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return { kind: expr.kind, items: expr.items.map((e) => validateFilter(e, schema)) };
    case 'not':
      return { kind: 'not', item: validateFilter(expr.item, schema) };
    case 'cmp':
      return validateCmp(expr, schema);
  }
}

function allowedFields(schema: FilterSchema): string[] {
  return [...Object.keys(schema.fields), ...(schema.labels ? ['labels.<key>'] : [])];
}

function validateCmp(cmp: Extract<FilterExpr, { kind: 'cmp' }>, schema: FilterSchema): TypedFilterExpr {
  const name = formatFieldPath(cmp.field);
  const { op, value } = cmp;
  const [head = '', ...rest] = cmp.field;
  // A declaration (not an arrow) so that TypeScript narrows after calls returning never.
  function fail(why: string, extra: Record<string, unknown> = {}): never {
    throw filterError(`filter: ${why}`, { filterField: name, ...extra });
  }
  const text = (v: string) =>
    BAD_TEXT_RE.test(v) ? fail(`the value for '${name}' contains a NUL or unpaired surrogate`) : v;
  if (value.wildcard && op !== ':') {
    fail(
      `'*' (prefix match) works only with ':', as in ${name}:"abc*"; write \\* inside quotes for a literal star`,
    );
  }

  if (head === 'labels' && schema.labels && !Object.hasOwn(schema.fields, 'labels')) {
    const key = rest[0];
    if (key === undefined || rest.length > 1) {
      fail(`'${name}' is not a field; write labels.KEY, e.g. labels.team`);
    }
    if (!LABEL_KEY_RE.test(key)) {
      fail(`'${key}' is not a valid label key (lowercase letters, digits and . _ / -, 1-63 characters)`);
    }
    const target = { type: 'label', key } as const;
    if (op !== ':') return { kind: 'compare', target, op, value: text(value.text) };
    if (!value.wildcard) return { kind: 'compare', target, op: '=', value: text(value.text) };
    if (value.text === '') return { kind: 'hasLabel', key };
    return { kind: 'prefix', target, prefix: text(value.text) };
  }

  const field = rest.length === 0 && Object.hasOwn(schema.fields, head) ? schema.fields[head] : undefined;
  if (field === undefined) {
    const allowed = allowedFields(schema);
    const noLabels = head === 'labels' && !schema.labels ? ' (this resource has no labels)' : '';
    return fail(`unknown field '${name}'${noLabels}; allowed fields are ${allowed.join(', ')}`, { allowed });
  }
  const target = { type: 'column', field: head, column: field.column } as const;
  if (value.wildcard && field.kind !== 'string') {
    fail(
      `prefix match ('*') works only on string fields and labels; '${name}' is ${field.kind === 'integer' ? 'an' : 'a'} ${field.kind}`,
    );
  }
  const cmpOp: Comparator = op === ':' ? '=' : op;
  const norm = (v: string) => text(field.normalize ? field.normalize(v) : v);

  switch (field.kind) {
    case 'string':
      if (value.wildcard) return { kind: 'prefix', target, prefix: norm(value.text) };
      return { kind: 'compare', target, op: cmpOp, value: norm(value.text) };
    case 'integer': {
      const n = /^-?[0-9]{1,16}$/.test(value.text) ? Number(value.text) : Number.NaN;
      // Integer fields are 32-bit columns on both databases; a wider value is an error, not an overflow in SQL.
      if (!Number.isSafeInteger(n) || n > 2_147_483_647 || n < -2_147_483_648) {
        fail(`field '${name}' expects a 32-bit integer, got ${JSON.stringify(value.text)}`);
      }
      return { kind: 'compare', target, op: cmpOp, value: n };
    }
    case 'timestamp': {
      const ms = parseRfc3339(value.text);
      if (ms === undefined) {
        fail(
          `field '${name}' expects a quoted RFC 3339 timestamp such as "2024-05-01T12:00:00Z", got ${JSON.stringify(value.text)}`,
        );
      }
      return { kind: 'compare', target, op: cmpOp, value: ms };
    }
    case 'enum': {
      const allowed = field.values ?? [];
      if (cmpOp !== '=' && cmpOp !== '!=') fail(`field '${name}' supports only =, != and :`);
      const v = norm(value.text);
      if (!allowed.includes(v)) {
        fail(`field '${name}' must be one of ${allowed.join(', ')}; got ${JSON.stringify(value.text)}`, {
          allowed,
        });
      }
      return { kind: 'compare', target, op: cmpOp, value: v };
    }
  }
}

const RFC3339_RE =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))$/;

/** RFC 3339 date-time to epoch milliseconds (fractions beyond ms are truncated); undefined if invalid. */
export function parseRfc3339(s: string): number | undefined {
  const m = RFC3339_RE.exec(s);
  if (!m) return undefined;
  const n = (i: number) => Number(m[i] ?? 0);
  const [y, mo, d, h, mi, sec, oh, om] = [n(1), n(2), n(3), n(4), n(5), n(6), n(9), n(10)];
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  // Leap seconds (60) are rejected: epoch milliseconds cannot represent them.
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59 || oh > 23 || om > 59) return undefined;
  const offsetMinutes = (m[8] === '-' ? -1 : 1) * (oh * 60 + om);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  if (date.getUTCDate() !== d) return undefined; // e.g. February 30th rolled over
  date.setUTCHours(h, mi, sec, ms);
  return date.getTime() - offsetMinutes * 60_000;
}
