import { type Compilable, CompiledQuery, type Kysely } from 'kysely';
import type { SqlDialect } from './dialects/dialect.js';
import type { Database } from './schema.js';

/** Where a compiled parameter's value comes from: a named input of the call, or a constant of the statement. */
type Slot = { name: string } | { constant: unknown };

interface Template {
  sql: string;
  slots: Slot[];
}

const MARK = '\u0000quiver-parameter:';

/** Per dialect: the store's dialect object lives as long as the store, and the SQL text depends on it. */
const templates = new WeakMap<SqlDialect, Map<string, Template>>();

/**
 * A statement of a hot path that Kysely builds and compiles once per dialect, then runs with each
 * call's values. Building and compiling the query objects was a quarter of the CPU of creating a
 * version; what runs is exactly the text Kysely produced, through the same executor (the query
 * log, query spans and metrics see it as before).
 *
 * On PostgreSQL the text also runs as a named statement, parsed and planned once per connection
 * (see the dialect's `nameStatement`). Such a statement must not change its result type under a
 * connection (a migration adding a column would fail `select *`), so it names its columns: the
 * first compile refuses `*`.
 *
 * `build` receives, for each name in `names`, a marker to use in place of that value. Every
 * marker must reach the compiled statement as a bound parameter; the first compile checks it,
 * so a builder that inlined one (or forgot one) fails at once, not with wrong rows.
 */
export class PreparedStatement<P extends Record<string, unknown>> {
  constructor(
    private readonly key: string,
    private readonly names: readonly (keyof P & string)[],
    private readonly build: (
      db: Kysely<Database>,
      p: { [K in keyof P]: never },
      d: SqlDialect,
    ) => Compilable<unknown>,
  ) {}

  /** Runs with `values` in the transaction or connection of `db`; the rows it returns. */
  async run<R>(db: Kysely<Database>, d: SqlDialect, values: P): Promise<R[]> {
    const { sql, slots } = this.#template(db, d);
    const parameters = slots.map((s) => ('name' in s ? values[s.name] : s.constant));
    const result = await db.executeQuery<R>(CompiledQuery.raw(sql, parameters));
    return result.rows;
  }

  #template(db: Kysely<Database>, d: SqlDialect): Template {
    let byKey = templates.get(d);
    if (!byKey) {
      byKey = new Map();
      templates.set(d, byKey);
    }
    let template = byKey.get(this.key);
    if (template === undefined) {
      template = this.#compile(db, d);
      byKey.set(this.key, template);
    }
    return template;
  }

  #compile(db: Kysely<Database>, d: SqlDialect): Template {
    const markers = Object.fromEntries(this.names.map((n) => [n, `${MARK}${n}`])) as never;
    const compiled = this.build(db, markers, d).compile();
    const seen = new Set<string>();
    const slots: Slot[] = compiled.parameters.map((value) => {
      if (typeof value === 'string' && value.startsWith(MARK)) {
        const name = value.slice(MARK.length);
        seen.add(name);
        return { name };
      }
      return { constant: value };
    });
    const missing = this.names.filter((n) => !seen.has(n));
    if (/\b(?:select|returning)\s+(?:"[^"]+"\.)?\*|,\s*(?:"[^"]+"\.)?\*/i.test(compiled.sql)) {
      throw new Error(`prepared statement ${this.key}: selects or returns *; name the columns`);
    }
    if (compiled.sql.includes(MARK) || missing.length > 0) {
      throw new Error(
        `prepared statement ${this.key}: ${missing.length > 0 ? `no bound parameter for ${missing.join(', ')}` : 'a value was inlined into the SQL text'}`,
      );
    }
    // Where the database keeps parsed statements per connection, it is told this text is worth it.
    d.nameStatement?.(compiled.sql);
    return { sql: compiled.sql, slots };
  }
}

/** A prepared insert of one row of `table` whose columns are named by the parameters. */
export function preparedInsert<P extends Record<string, unknown>>(
  table: keyof Database,
  columns: readonly (keyof P & string)[],
): PreparedStatement<P> {
  return new PreparedStatement<P>(`${table}.insert`, columns, (db, p) =>
    db.insertInto(table).values({ ...p } as never),
  );
}
