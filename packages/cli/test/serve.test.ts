import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@quiver/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, quiver, startServer } from './support.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const bin = join(root, 'packages/cli/bin/quiver.js');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quiver-serve-'));
  // The binary runs dist/; `npm test` builds first, a bare `vitest run` may not have.
  if (!existsSync(join(root, 'packages/cli/dist/main.js'))) {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/cli'], {
      cwd: root,
      stdio: 'inherit',
    });
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Runs the built binary; resolves when it exits. `onStderr` sees stderr as it arrives. */
function spawnQuiver(
  args: string[],
  onStderr: (all: string, kill: (s: NodeJS.Signals) => void) => void = () => {},
) {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, QUIVER_URL: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
    onStderr(stderr, (s) => child.kill(s));
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
}

describe('the built binary', () => {
  it('prints help and exits 0', async () => {
    const result = await spawnQuiver(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: quiver');
  });

  it('serves, answers the SDK and stops cleanly on SIGTERM', async () => {
    let answered: Promise<unknown> | undefined;
    const result = await spawnQuiver(
      [
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--grpc-port',
        '0',
        '--data-dir',
        join(dir, 'bin'),
        '--log-level',
        'silent',
      ],
      (stderr, kill) => {
        const url = /API\s+(http:\/\/\S+)\/v1/.exec(stderr)?.[1];
        if (url && !answered) {
          // The first start wrote the admin token into the data directory.
          const token = () => readFileSync(join(dir, 'bin', 'admin-token'), 'utf8').trim();
          answered = createClient({ baseUrl: url, token })
            .namespaces.create({ namespace_id: 'served' })
            .finally(() => kill('SIGTERM'));
        }
      },
    );
    expect(await answered).toMatchObject({ name: 'namespaces/served' });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`SQLite ${join(dir, 'bin', 'quiver.db')}`);
    expect(result.stderr).toContain('/docs');
    expect(result.stderr).toMatch(/Console\s+http:\/\/127\.0\.0\.1:\d+\/ /);
    expect(result.stderr).toContain('quiver namespaces create');
    expect(result.stderr).toContain('Quiver stopped.');
  });
});

describe('serve', () => {
  it('rejects invalid configuration with exit code 2 and no stack trace', async () => {
    const result = await quiver(undefined, ['serve', '--port', 'abc', '--data-dir', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('QUIVER_HTTP_PORT must be an integer');
    expect(result.stderr).toContain('--port sets QUIVER_HTTP_PORT');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('says so when the port is taken', async () => {
    const other = await startServer();
    try {
      const port = new URL(other.url).port;
      const args = [
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        port,
        '--grpc-port',
        '0',
        '--data-dir',
        join(dir, 'taken'),
        '--log-level',
        'silent',
      ];
      const result = await quiver(undefined, args);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('EADDRINUSE');
      expect(result.stderr).toContain('pick another with --port');
    } finally {
      await other.close();
    }
  });

  it('runs until asked to stop, then closes and returns 0', async () => {
    let stop: (signal: string) => void = () => {};
    const stopped = new Promise<string>((resolve) => {
      stop = resolve;
    });
    let stderr = '';
    const running = quiver(
      undefined,
      [
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--grpc-port',
        '0',
        '--data-dir',
        join(dir, 'in-process'),
        '--log-level',
        'silent',
      ],
      {
        err: (text) => {
          stderr += text;
        },
        waitForStop: () => stopped,
      },
    );
    const deadline = Date.now() + 10_000;
    while (!stderr.includes('Press Ctrl+C') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const url = /API\s+(http:\/\/\S+)\/v1/.exec(stderr)?.[1];
    expect(url).toBeDefined();
    expect(stderr).toMatch(/Token\s+qvr_[A-Za-z0-9_-]{43}/);
    const token = readFileSync(join(dir, 'in-process', 'admin-token'), 'utf8').trim();
    expect(stderr).toContain(token);
    expect((await createClient({ baseUrl: url!, token }).namespaces.list()).items).toBeDefined();
    stop('SIGINT');
    expect((await running).code).toBe(0);
    expect(stderr).toContain('SIGINT: shutting down');
  });
});

describe('dev seed', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server?.close());

  it('loads models and versions into the database and reports progress', async () => {
    const result = await quiver(undefined, [
      'dev',
      'seed',
      '--models',
      '30',
      '--versions-per-model',
      '4',
      '--namespaces',
      '2',
      '--batch-size',
      '10',
      '--data-dir',
      server.dataDir,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Seeded 30 models; 120 new versions/);
    expect(result.stderr).toContain('30/30 models (100%)');

    const models = JSON.parse(await ok(server.url, ['models', 'list', '-', '--all', '-o', 'json']));
    expect(models.items).toHaveLength(30);
    const champion = JSON.parse(
      await ok(server.url, ['versions', 'get', 'ns-000/model-000000@champion', '-o', 'json']),
    );
    expect(champion.status).toBe('approved');
  });
});
