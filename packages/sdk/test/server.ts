import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createQuiver, loadConfig } from '@quiver/server';

/** A real Quiver on an ephemeral port with its own SQLite file. */
export async function startServer() {
  const dir = await mkdtemp(join(tmpdir(), 'quiver-sdk-'));
  const quiver = await createQuiver(
    loadConfig({
      QUIVER_DATA_DIR: dir,
      QUIVER_HTTP_PORT: '0',
      QUIVER_GRPC_PORT: '0',
      QUIVER_HTTP_HOST: '127.0.0.1',
      QUIVER_LOG_LEVEL: 'silent',
    }),
    { logger: false },
  );
  const url = await quiver.listen();
  return {
    url,
    async close() {
      await quiver.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
