import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TOKEN } from '../support/databases.js';
import { waitFor } from '../support/serving.js';

const CHILD = fileURLToPath(new URL('../support/serve-cluster-child.ts', import.meta.url));

describe('read caches of a cluster (quiver serve --workers 2, SQLite)', () => {
  let child: ChildProcess;
  let base: string;
  const dir = mkdtempSync(join(tmpdir(), 'quiver-cluster-'));
  const headers = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: {
        ...process.env,
        QUIVER_DATA_DIR: dir,
        QUIVER_WORKERS: '2',
        QUIVER_HTTP_PORT: '0',
        QUIVER_GRPC_PORT: '0',
        QUIVER_HTTP_HOST: '127.0.0.1',
        QUIVER_LOG_LEVEL: 'silent',
        QUIVER_BOOTSTRAP_TOKEN: TEST_TOKEN,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    base = await new Promise<string>((resolve, reject) => {
      child.stdout!.once('data', (line) => resolve(JSON.parse(String(line)).ready));
      child.once('exit', (code) => reject(new Error(`cluster exited with ${code} before listening`)));
    });
  }, 60_000);
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a change from every process once it committed in one of them', async () => {
    expect((await call('POST', '/v1/namespaces', { namespace_id: 'ops' })).status).toBe(201);
    expect(
      (await call('POST', '/v1/namespaces/ops/models', { model_id: 'm', description: 'v1' })).status,
    ).toBe(201);
    // A new connection per read: the primary deals them out round-robin, so both processes cache the model.
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${base}/v1/namespaces/ops/models/m`, {
        headers: { ...headers, connection: 'close' },
      });
      expect(((await res.json()) as { description: string }).description).toBe('v1');
    }
    expect((await call('PATCH', '/v1/namespaces/ops/models/m', { description: 'v2' })).status).toBe(200);
    // Every process answers with the change (the other one learns it over the cluster's IPC).
    await waitFor(
      async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 10; i++) {
          const res = await fetch(`${base}/v1/namespaces/ops/models/m`, {
            headers: { ...headers, connection: 'close' },
          });
          seen.add(((await res.json()) as { description: string }).description);
        }
        return [...seen];
      },
      (seen) => seen.length === 1 && seen[0] === 'v2',
      5_000,
      'both processes to serve the change',
    );
  });
});
