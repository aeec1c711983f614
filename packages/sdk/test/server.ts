import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuiverError } from '@quiver/sdk';
import { createQuiver, loadConfig } from '@quiver/server';
import { expect } from 'vitest';

/** The admin token of the test server (QUIVER_BOOTSTRAP_TOKEN); clients pass it as `token`. */
export const TEST_TOKEN = 'qvr_quiver-test-token-0123456789abcdefghij';

/** A real Quiver on an ephemeral port (REST and gRPC) with its own SQLite file. */
export async function startServer(options: { pollMs?: number } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'quiver-sdk-'));
  const quiver = await createQuiver(
    loadConfig({
      QUIVER_DATA_DIR: dir,
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
    /** The gRPC (Open Inference Protocol) address, as `createClient({ grpcUrl })` takes it. */
    grpcUrl: `127.0.0.1:${quiver.grpcPort()}`,
    async close() {
      const closing = quiver.close();
      // Node's server.close() waits for connections that never carried a request (fetch opens
      // spares after an aborted call) until the client drops them; nothing is in flight here.
      quiver.rest.server.closeAllConnections();
      await closing;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The QuiverError a call rejects with (the test fails if it resolves or throws anything else). */
export async function failure(promise: Promise<unknown>): Promise<QuiverError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QuiverError);
  return err as QuiverError;
}
