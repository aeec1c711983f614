import { QuiverError } from '@quiver/sdk';
import { CommanderError } from 'commander';
import type { Io } from './output.js';

/** Ends a command with an exit code and an optional message, without a stack trace. */
export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message = '',
  ) {
    super(message);
  }
}

/** Prints an error the way users should see it and returns the exit code. */
export function report(err: unknown, io: Io): number {
  if (err instanceof CommanderError) return err.exitCode; // commander has printed it already
  if (err instanceof CliExit) {
    if (err.message) io.err(`error: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof QuiverError) {
    io.err(`${describe(err)}\n`);
    return 1;
  }
  const e = err as { name?: unknown; code?: unknown; message?: unknown; stack?: unknown } | undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (e?.code === 'EADDRINUSE' || message.includes('EADDRINUSE')) {
    io.err(
      `error: ${message}\n  Another process uses this port; pick another with --port or --grpc-port (0 picks a free one).\n`,
    );
  } else if (e?.name === 'QuiverError' && typeof e.code === 'string') {
    io.err(`error: ${e.code}: ${message}\n`); // the server's own QuiverError (serve, dev seed)
  } else {
    io.err(`error: ${message}\n`);
  }
  if (io.env.QUIVER_DEBUG && typeof e?.stack === 'string') io.err(`${e.stack}\n`);
  return 1;
}

function describe(err: QuiverError): string {
  if (err.reason === 'NETWORK_ERROR') {
    const url = typeof err.details.url === 'string' ? err.details.url : 'the server';
    const cause = typeof err.details.cause === 'string' ? ` (${err.details.cause})` : '';
    return `error: cannot reach Quiver at ${url}; is \`quiver serve\` running?${cause}\n  Point the CLI elsewhere with --server URL or QUIVER_URL.`;
  }
  const lines = [`error: ${err.code}: ${err.message}${err.field ? ` (field: ${err.field})` : ''}`];
  const operation = typeof err.details.operation === 'string' ? err.details.operation : undefined;
  const hint =
    operation && err.reason === 'DEADLINE_EXCEEDED'
      ? `It goes on; follow it with: quiver operations wait ${operation}`
      : HINTS[err.reason];
  if (hint) lines.push(`  ${hint}`);
  if (err.code === 'INTERNAL' && err.requestId) lines.push(`  request id: ${err.requestId}`);
  return lines.join('\n');
}

/** What to do next, for reasons whose server message speaks REST rather than CLI. */
const HINTS: Record<string, string> = {
  MODEL_HAS_VERSIONS: 'Archive its versions first, or add --force to delete it anyway.',
  ETAG_MISMATCH: 'It changed since it was read; run the command again to apply your change on top.',
  INVALID_PAGE_TOKEN:
    'Page tokens only work with the same filter and order; drop --page-token to start over.',
  DIGEST_MISMATCH:
    'The bytes changed on the way or the file changed meanwhile; nothing was stored. Run it again.',
  ARTIFACT_NOT_FOUND:
    'Upload it first (quiver artifacts upload <file>), or pass the file itself to --artifact.',
  MODEL_NOT_READY: 'The deployment is not serving yet; see why with: quiver deployments get <deployment>',
};
