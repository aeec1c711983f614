import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  collect,
  createClient,
  type ListRequest,
  type Page,
  type QuiverClient,
  QuiverError,
} from '@quiver/sdk';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type Column, FORMATS, type Format, type Io, Printer } from './output.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** What every command needs, built from the global options (`--server`, `--token`, `--output`). */
export interface Context {
  client: QuiverClient;
  printer: Printer;
  server: string;
  /** The gRPC address inference goes to (`--grpc`, QUIVER_GRPC_URL); undefined: over REST. */
  grpc: string | undefined;
  /** For progress on stderr (bars on a terminal, plain lines elsewhere). */
  io: Io;
}

/** Creates the context of one command run; the SDK client is only built when a command needs it. */
export function contextOf(cmd: Command, io: Io, cliVersion: string): Context {
  const opts = cmd.optsWithGlobals<{ server?: string; grpc?: string; token?: string; output?: Format }>();
  const server = opts.server ?? (io.env.QUIVER_URL || DEFAULT_SERVER); // an empty variable counts as unset
  const grpc = opts.grpc ?? (io.env.QUIVER_GRPC_URL || undefined);
  const token = opts.token ?? (io.env.QUIVER_TOKEN || undefined) ?? localAdminToken(io.env);
  let client: QuiverClient | undefined;
  const format = FORMATS.find((f) => f === opts.output) ?? 'table'; // `-o <file>` of artifacts get
  return {
    server,
    grpc,
    io,
    printer: new Printer(io, format),
    get client() {
      client ??= createClient({
        baseUrl: server,
        ...(grpc ? { grpcUrl: grpc } : {}),
        token,
        userAgent: `quiver-cli/${cliVersion}`,
      });
      return client;
    },
  };
}

/**
 * The token a local server wrote at its first start (`{data_dir}/admin-token`), read when a
 * request is made: `npm start` and the CLI work together without copying a token around.
 */
function localAdminToken(env: Record<string, string | undefined>): (() => string | undefined) | undefined {
  const file = join(env.QUIVER_DATA_DIR || 'data', 'admin-token');
  return () => {
    try {
      return readFileSync(file, 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  };
}

/**
 * Commands where `-o, --output` names a file to write rather than a format (`artifacts get
 * <digest> -o model.onnx`). The global option takes any value while parsing, since it is
 * parsed before the command is known, and is checked against FORMATS before any other action.
 */
export const OUTPUT_IS_FILE = new WeakSet<Command>();

export function addGlobalOptions(program: Command): void {
  program
    .option('--server <url>', `Quiver server URL (env QUIVER_URL; default ${DEFAULT_SERVER})`)
    .option(
      '--grpc <address>',
      "gRPC address of the server's inference service, e.g. 127.0.0.1:9090 (env QUIVER_GRPC_URL); `infer` then calls ModelInfer over gRPC instead of the REST twin",
    )
    .option(
      '--token <token>',
      'API token sent as a bearer token (env QUIVER_TOKEN; default: {data_dir}/admin-token of a local server)',
    )
    .addOption(
      new Option('-o, --output <format>', 'output format: table for people, json for programs')
        .choices(FORMATS)
        .argParser((value: string) => value)
        .default('table'),
    )
    .hook('preAction', (_program, action) => {
      const output: unknown = action.optsWithGlobals().output;
      if (OUTPUT_IS_FILE.has(action) || FORMATS.some((f) => f === output)) return;
      action.error(
        `error: option '-o, --output <format>' argument '${String(output)}' is invalid. Allowed choices are ${FORMATS.join(', ')}.`,
        { exitCode: 1, code: 'commander.invalidArgument' },
      );
    });
}

export interface ListFlags {
  filter?: string;
  orderBy?: string;
  pageSize?: number;
  pageToken?: string;
  all?: boolean;
}

/** The flags every list takes; `filter` is false for lists that cannot filter. */
export function addListOptions(cmd: Command, filterExample: string | false): Command {
  if (filterExample !== false) {
    cmd
      .option('--filter <expr>', `AIP-160 filter, e.g. '${filterExample}'`)
      .option('--order-by <field>', "one field, optionally 'asc' or 'desc', e.g. 'create_time desc'");
  }
  return cmd
    .option('--page-size <n>', 'items per page (1-1000; default 50)', positiveInt)
    .option('--page-token <token>', 'continue from a previous page (printed at the end of it)')
    .option('--all', 'fetch every page');
}

/** One page, or every page with `--all` (printed as a single page without a next token). */
export async function printList<T>(
  ctx: Context,
  flags: ListFlags,
  list: (request: ListRequest) => Promise<Page<T>>,
  iterate: (request: ListRequest) => AsyncIterable<T>,
  columns: Column<T>[],
  noun: string,
): Promise<void> {
  const request: ListRequest = {
    filter: flags.filter,
    order_by: flags.orderBy,
    page_size: flags.pageSize ?? (flags.all ? 1000 : undefined),
    page_token: flags.pageToken,
  };
  const page = flags.all
    ? { items: await collect(iterate(request)), next_page_token: '' }
    : await list(request);
  ctx.printer.page(page, columns, noun);
}

export function positiveInt(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError('Expected a positive integer.');
  return Number(value);
}

/** Repeatable `--label key=value`: accumulates into an object. */
export function labelOption(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('Labels look like key=value, e.g. team=risk.');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** Repeatable option collecting strings. */
export function listOption(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--metadata '{"auc":0.9}'` or `--metadata @metrics.json`: a JSON object. */
export async function readJsonObject(value: string, field: string): Promise<Record<string, unknown>> {
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = await readFile(value.slice(1), 'utf8');
    } catch (err) {
      throw usage(field, `${field}: cannot read ${value.slice(1)}: ${(err as Error).message}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw usage(field, `${field} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw usage(field, `${field} must be a JSON object, e.g. '{"auc":0.93}'.`);
  }
  return parsed as Record<string, unknown>;
}

/** A mistake in the command line, reported like the server's own INVALID_ARGUMENT. */
export function usage(field: string, message: string): QuiverError {
  return new QuiverError('INVALID_ARGUMENT', message, { details: { field } });
}
