import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Quiver } from '../../src/main.js';
import {
  HEALTH_PROTO_PATH,
  HEALTH_SERVICE,
  LOADER_OPTIONS,
  OIP_SERVICE,
} from '../../src/transports/grpc/server.js';
import { backends, testQuiver } from '../support/databases.js';

const BACKENDS = await backends();
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(HEALTH_PROTO_PATH, LOADER_OPTIONS)) as any;
const LISTEN = { QUIVER_HTTP_PORT: '0', QUIVER_GRPC_PORT: '0', QUIVER_HTTP_HOST: '127.0.0.1' };

const check = (client: any, service: string): Promise<any> =>
  new Promise((resolve, reject) =>
    client.Check({ service }, (err: unknown, res: unknown) => (err ? reject(err) : resolve(res))),
  );

describe.each(BACKENDS)('health of a whole Quiver (%s)', (backend) => {
  let quiver: Quiver;
  let close: () => Promise<void>;
  let base: string;
  let health: any;

  beforeAll(async () => {
    ({ quiver, close } = await testQuiver(backend, { env: LISTEN }));
    base = await quiver.listen();
    health = new pkg.grpc.health.v1.Health(
      `127.0.0.1:${quiver.grpcPort()}`,
      grpc.credentials.createInsecure(),
    );
  });
  afterAll(async () => {
    health?.close();
    await close?.();
  });

  it('answers gRPC health per service: the server, the OIP service and the health service itself', async () => {
    expect(await check(health, '')).toEqual({ status: 'SERVING' });
    expect(await check(health, OIP_SERVICE)).toEqual({ status: 'SERVING' });
    expect(await check(health, HEALTH_SERVICE)).toEqual({ status: 'SERVING' });
    const unknown = await check(health, 'quiver.v1.Nope').catch((e) => e);
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
  });

  it('reports every dependency in /readyz: database, artifact store, worker, runtime, inference', async () => {
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; checks: { name: string; ok: boolean }[] };
    expect(body.status).toBe('ok');
    expect(body.checks.map((c) => c.name).sort()).toEqual([
      'artifacts',
      'database',
      'inference',
      'runtime',
      'worker',
    ]);
    expect(body.checks.every((c) => c.ok)).toBe(true);
  });
});

describe('health by role', () => {
  it('an API node checks only what it uses (no worker, runtime or deployment table)', async () => {
    const { quiver, close } = await testQuiver('sqlite', { env: { QUIVER_ROLE: 'api' } });
    try {
      const res = await quiver.rest.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(200);
      expect(
        res
          .json()
          .checks.map((c: { name: string }) => c.name)
          .sort(),
      ).toEqual(['artifacts', 'database']);
    } finally {
      await close();
    }
  });

  it('a worker node checks the worker and the runtime it loads models with', async () => {
    const { quiver, close } = await testQuiver('sqlite', { env: { QUIVER_ROLE: 'worker' } });
    try {
      const res = await quiver.rest.inject({ method: 'GET', url: '/readyz' });
      expect(
        res
          .json()
          .checks.map((c: { name: string }) => c.name)
          .sort(),
      ).toEqual(['artifacts', 'database', 'runtime', 'worker']);
    } finally {
      await close();
    }
  });
});
