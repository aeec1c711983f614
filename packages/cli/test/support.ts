import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createQuiver, loadConfig } from '@quiver/server';
import { type Io, run } from '../src/main.js';

/** The admin token of the test servers (QUIVER_BOOTSTRAP_TOKEN), sent by `quiver()` as QUIVER_TOKEN. */
export const TEST_TOKEN = 'qvr_quiver-test-token-0123456789abcdefghij';

/** A real Quiver on an ephemeral port (REST and gRPC) with its own data directory. */
export async function startServer(options: { pollMs?: number } = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'quiver-cli-'));
  const quiver = await createQuiver(
    loadConfig({
      QUIVER_DATA_DIR: dataDir,
      QUIVER_HTTP_PORT: '0',
      QUIVER_GRPC_PORT: '0',
      QUIVER_HTTP_HOST: '127.0.0.1',
      QUIVER_LOG_LEVEL: 'silent',
      QUIVER_BOOTSTRAP_TOKEN: TEST_TOKEN,
    }),
    { logger: false, ...options },
  );
  const url = await quiver.listen();
  return {
    url,
    dataDir,
    quiver,
    async close() {
      const closing = quiver.close();
      // Node's server.close() waits for connections that never carried a request (fetch opens
      // spares after an aborted call) until the client drops them; nothing is in flight here.
      quiver.rest.server.closeAllConnections();
      await closing;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process against `url`, capturing what it writes. */
export async function quiver(url: string | undefined, argv: string[], io: Partial<Io> = {}): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    env: url === undefined ? {} : { QUIVER_URL: url, QUIVER_TOKEN: TEST_TOKEN },
    isTTY: false,
    waitForStop: () => new Promise(() => {}),
    ...io,
  });
  return { code, stdout, stderr };
}

/** Runs the CLI and fails the test with its stderr unless it exits 0. */
export async function ok(url: string, argv: string[]): Promise<string> {
  const result = await quiver(url, argv);
  if (result.code !== 0) {
    throw new Error(`quiver ${argv.join(' ')} exited ${result.code}:\n${result.stderr}`);
  }
  return result.stdout;
}
