import type { Page } from '@quiver/sdk';

export const FORMATS = ['table', 'json'] as const;
export type Format = (typeof FORMATS)[number];

/** Where the CLI writes. Tests pass their own; the bin passes the process streams. */
export interface Io {
  /** Writes to standard output (the result). */
  out(text: string): void;
  /** Writes to standard error (errors, notes, progress). */
  err(text: string): void;
  env: Record<string, string | undefined>;
  /** Standard error is a terminal: progress bars redraw in place. */
  isTTY: boolean;
  /** Resolves with the signal name when the user asks a long-running command to stop. */
  waitForStop(): Promise<string>;
}

/** A column of a table: its header and how to render one item. */
export type Column<T> = [header: string, cell: (item: T) => string];

/** Renders results as aligned tables or key/value blocks for people, or as JSON for programs. */
export class Printer {
  constructor(
    private readonly io: Io,
    readonly format: Format,
  ) {}

  /** One resource: JSON as the API returned it, or `key  value` lines. */
  resource<T>(value: T, fields: Column<T>[]): void {
    if (this.format === 'json') {
      this.json(value);
      return;
    }
    const width = Math.max(...fields.map(([key]) => key.length));
    this.io.out(
      `${fields.map(([key, cell]) => `${key.padEnd(width)}  ${cell(value)}`.trimEnd()).join('\n')}\n`,
    );
  }

  /** A page of a list; in table mode a note on stderr tells how to get the next page. */
  page<T>(page: Page<T>, columns: Column<T>[], noun: string): void {
    if (this.format === 'json') {
      this.json(page);
      return;
    }
    if (page.items.length === 0) {
      this.note(`No ${noun} found.`);
    } else {
      this.io.out(table(columns, page.items));
    }
    if (page.next_page_token) {
      this.note(`More ${noun}: add --page-token ${page.next_page_token}  (or --all for every page)`);
    }
  }

  json(value: unknown): void {
    this.io.out(`${JSON.stringify(value ?? {}, null, 2)}\n`);
  }

  /** A sentence for people (on stdout, table mode only). */
  message(text: string, json: unknown = {}): void {
    if (this.format === 'json') this.json(json);
    else this.io.out(`${text}\n`);
  }

  /** A hint that is not part of the result: stderr, so pipes stay clean. */
  note(text: string): void {
    this.io.err(`${text}\n`);
  }
}

/** Aligned columns separated by two spaces; the last column is not padded. */
export function table<T>(columns: Column<T>[], items: readonly T[]): string {
  const rows = [
    columns.map(([header]) => header),
    ...items.map((item) => columns.map(([, cell]) => cell(item))),
  ];
  const widths = columns.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return `${rows
    .map((row) =>
      row
        .map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/** `team=risk, tier=gold`. */
export function labels(value: Record<string, string | number>): string {
  const entries = Object.entries(value);
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(', ') : '-';
}

/** `2026-11-25 12:34:56` (UTC), shorter than RFC 3339 for tables. */
export function time(value: string): string {
  return value.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}

/** Cuts long text for table cells; the JSON output keeps it whole. */
export function clip(text: string, max = 40): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (!line) return '-';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function orDash(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : String(value);
}
