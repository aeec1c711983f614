import { type ChildProcess, spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createQuiver, type Quiver } from '../../src/main.js';
import { backends, TEST_TOKEN, type TestDatabase, testDatabase } from '../support/databases.js';
import { heavyModel, waitFor } from '../support/serving.js';

const BACKENDS = await backends();
const CHILD = fileURLToPath(new URL('../support/serve-child.ts', import.meta.url));
const ctx = { actor: { principal: 'test' }, requestId: 'crash-test' };

/** Starts a worker in its own process and resolves once it is polling. */
function startWorker(env: Record<string, string>): Promise<{ child: ChildProcess; owner: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (line) => resolve({ child, owner: JSON.parse(String(line)).owner }));
    child.once('exit', (code) =>
      reject(new Error(`worker exited (${code}) before it was ready: ${err.slice(-2000)}`)),
    );
  });
}

describe.each(BACKENDS)('a rollout survives SIGKILL of its worker (%s)', (backend) => {
  const children: ChildProcess[] = [];
  let db: TestDatabase;
  let api: Quiver;
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await api?.close();
    await db?.drop();
  });

  it('resumes the job after the lease expires and reaches ready', async () => {
    db = await testDatabase(backend);
    const env: Record<string, string> = {
      QUIVER_DATA_DIR: db.config.dataDir,
      QUIVER_LOG_LEVEL: 'silent',
      QUIVER_ROLE: 'worker',
      QUIVER_HTTP_PORT: '0',
      QUIVER_HTTP_HOST: '127.0.0.1',
      QUIVER_JOB_LEASE_MS: '1500',
      QUIVER_BOOTSTRAP_TOKEN: TEST_TOKEN,
      ...(db.config.databaseUrl ? { QUIVER_DATABASE_URL: db.config.databaseUrl } : {}),
      ...(db.schema ? { QUIVER_TEST_PG_SCHEMA: db.schema } : {}),
    };
    // The API in this process has no worker: the rollout can only be done by the child processes.
    api = await createQuiver(loadConfig({ ...env, QUIVER_ROLE: 'api' }), {
      logger: false,
      ...(db.schema ? { postgresSchema: db.schema } : {}),
    });
    const s = api.services;
    await s.namespaces.create(ctx, { namespace_id: 'crash' });
    await s.models.create(ctx, 'crash', { model_id: 'heavy' });
    const up = await s.artifacts.upload(ctx, Readable.from([Buffer.from(heavyModel(48))]), {
      mediaType: 'application/octet-stream',
    });
    await s.versions.create(ctx, 'crash', 'heavy', {
      artifact: { digest: up.artifact.digest, format: 'onnx' },
    });

    // Kill the first worker while it is loading the model; retry with a new deployment in the
    // unlikely case it finished before the kill landed.
    let killed: { deployment: string; operation: string; owner: string } | undefined;
    for (let attempt = 1; attempt <= 3 && !killed; attempt++) {
      const first = await startWorker(env);
      children.push(first.child);
      const deployment = `heavy-${attempt}`;
      const op = await s.deployments.rollOut(ctx, {
        deployment_id: deployment,
        model: 'namespaces/crash/models/heavy',
        version: 1,
      });
      const seen = await waitFor(
        () => s.deployments.get(ctx, deployment),
        (d) =>
          (d.status === 'loading' && d.status_message.startsWith('loading version')) || d.status === 'ready',
        30_000,
        'the first worker to start loading',
      );
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      if (seen.status === 'loading' && (await s.deployments.get(ctx, deployment)).status === 'loading') {
        killed = { deployment, operation: op.name.replace('operations/', ''), owner: first.owner };
      }
    }
    expect(killed, 'the first worker was never caught mid-rollout').toBeDefined();
    const { deployment, operation, owner } = killed!;
    const job = async () => {
      const all = await api.store.db.selectFrom('jobs').selectAll().execute();
      return all.find((j) => JSON.parse(j.payload).operation === operation)!;
    };
    // The dead worker still holds the lease: nothing is lost, nothing is done.
    expect(await job()).toMatchObject({ status: 'running', lease_owner: owner, attempts: 1 });
    expect((await s.operations.get(ctx, operation)).done).toBe(false);

    const second = await startWorker(env);
    children.push(second.child);
    const ready = await waitFor(
      () => s.deployments.get(ctx, deployment),
      (d) => d.status === 'ready' || d.status === 'failed',
      60_000,
      'the rollout to resume',
    );
    expect(ready.status).toBe('ready');
    expect(ready.serving).toEqual([expect.objectContaining({ version: 1, percent: 100 })]);
    // The worker records success right after the handler returns (after `ready`).
    expect(await waitFor(job, (j) => j.status !== 'running', 10_000, 'the job to be recorded')).toMatchObject(
      { status: 'succeeded', attempts: 2 },
    );
    const finished = await s.operations.get(ctx, operation);
    expect(finished).toMatchObject({ done: true, metadata: { progress: 100 } });
    expect(finished.error).toBeUndefined();
  });
});
