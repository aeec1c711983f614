import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS, type Permission } from '../../src/domain/permissions.js';
import type { Quiver } from '../../src/main.js';
import { HEALTH_PROTO_PATH, LOADER_OPTIONS, OIP_PROTO_PATH } from '../../src/transports/grpc/server.js';
import { type Client, client } from '../support/api.js';
import { backends, testQuiver } from '../support/databases.js';
import { adminMetadata } from '../support/serving.js';

const BACKENDS = await backends();

/**
 * The only operations of the OpenAPI document a caller may use without a token. Everything
 * else, including any route added later, must answer 401 without one and 403 without its
 * permission: this test enumerates the document, so a new route is covered the day it is added.
 */
const PUBLIC = new Set([
  'get /livez',
  'get /readyz',
  'get /v2/health/live',
  'get /v2/health/ready',
  // How to sign in, read by the console before it has a token.
  'get /v1/auth/config',
]);
/** Operations every authenticated caller may use, whatever its permissions. */
const AUTHENTICATED = new Set(['get /v1/whoami']);
/** Routes hidden from the document, public too. */
const HIDDEN_PUBLIC = ['/', '/openapi.json', '/metrics', '/docs', '/docs/json'];
/** gRPC methods callable without a token (probes). */
const PUBLIC_RPCS = new Set([
  'inference.GRPCInferenceService/ServerLive',
  'inference.GRPCInferenceService/ServerReady',
  'grpc.health.v1.Health/Check',
  'grpc.health.v1.Health/Watch',
]);

const SAMPLE: Record<string, string> = {
  namespace: 'team',
  model: 'm',
  version: '1',
  alias: 'champion',
  digest: `sha256:${'0'.repeat(64)}`,
  deployment: 'd',
  operation: 'op',
  principal: 'admin',
  token: 't',
  role: 'viewer',
  binding: 'b',
  dataset: 'ds',
  run: 'r',
  name: 'd',
};

const concrete = (path: string) =>
  path.replace(/\{(\w+)\}/g, (_, p: string) => encodeURIComponent(SAMPLE[p] ?? 'x'));

describe.each(BACKENDS)('every route and RPC is guarded (%s)', (backend) => {
  let quiver: Quiver;
  let close: () => Promise<void>;
  let admin: Client;
  let operations: { method: string; path: string }[];
  /** Principals holding exactly one permission, or every permission but one, everywhere. */
  const holders = new Map<string, Client>();

  const principalWith = async (id: string, permissions: readonly Permission[]): Promise<Client> => {
    if (holders.has(id)) return holders.get(id)!;
    expect((await admin.post('/v1/principals', { principal_id: id })).status).toBe(201);
    if (permissions.length > 0) {
      const role = await admin.post('/v1/roles', { role_id: id, permissions });
      expect(role.status, JSON.stringify(role.body)).toBe(201);
      const bound = await admin.post('/v1/roleBindings', { role: id, member: `principals/${id}` });
      expect(bound.status, JSON.stringify(bound.body)).toBe(201);
    }
    const token = await admin.post(`/v1/principals/${id}/tokens`, {});
    const api = client(quiver.rest, token.body.secret);
    holders.set(id, api);
    return api;
  };

  beforeAll(async () => {
    ({ quiver, close } = await testQuiver(backend, {
      env: { QUIVER_HTTP_PORT: '0', QUIVER_GRPC_PORT: '0', QUIVER_HTTP_HOST: '127.0.0.1' },
    }));
    admin = client(quiver.rest);
    const spec = quiver.rest.swagger() as { paths: Record<string, Record<string, unknown>> };
    operations = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => ({ method, path })),
    );
  });
  afterAll(async () => close?.());

  it('answers 401 UNAUTHENTICATED to every operation without a token, except the public ones', async () => {
    const anonymous = client(quiver.rest, null);
    expect(operations.length).toBeGreaterThan(50);
    for (const { method, path } of operations) {
      const key = `${method} ${path}`;
      const res = await anonymous.call(
        method.toUpperCase() as 'GET',
        concrete(path),
        method === 'get' || method === 'head' || method === 'delete' ? undefined : {},
      );
      if (PUBLIC.has(key)) {
        expect(res.status, key).not.toBe(401);
        continue;
      }
      expect(res.status, key).toBe(401);
      if (method !== 'head') expect(res.body.error.code, key).toBe('UNAUTHENTICATED');
      expect(res.headers['www-authenticate'], key).toMatch(/^Bearer /);
    }
    for (const path of HIDDEN_PUBLIC) expect((await anonymous.get(path)).status, path).toBeLessThan(400);
  });

  it('answers 403 PERMISSION_DENIED naming the permission to a principal without it, and admits one holding only it', async () => {
    const nobody = await principalWith('nobody', []);
    for (const { method, path } of operations) {
      const key = `${method} ${path}`;
      if (PUBLIC.has(key)) continue;
      const send = (api: Client) =>
        api.call(
          method.toUpperCase() as 'GET',
          concrete(path),
          method === 'get' || method === 'head' || method === 'delete' ? undefined : {},
        );
      const denied = await send(nobody);
      if (AUTHENTICATED.has(key)) {
        expect(denied.status, key).toBe(200);
        continue;
      }
      expect(denied.status, `${key}: ${JSON.stringify(denied.body)}`).toBe(403);
      if (method === 'head') continue;
      expect(denied.body.error.code, key).toBe('PERMISSION_DENIED');
      const permission = denied.body.error.details.permission as Permission;
      expect(PERMISSIONS, key).toContain(permission);
      // Everything but that permission is still not enough…
      const others = await principalWith(
        `all-but-${permission.replace('.', '-')}`,
        PERMISSIONS.filter((p) => p !== permission),
      );
      const stillDenied = await send(others);
      expect(stillDenied.status, key).toBe(403);
      expect(stillDenied.body.error.details.permission, key).toBe(permission);
      // …and that permission alone passes the gate (the call may then fail for other reasons).
      const only = await principalWith(`only-${permission.replace('.', '-')}`, [permission]);
      const admitted = await send(only);
      expect([401, 403], `${key}: ${JSON.stringify(admitted.body)}`).not.toContain(admitted.status);
    }
  });

  it('guards every gRPC method the same way: UNAUTHENTICATED without a token, PERMISSION_DENIED without inference.call', async () => {
    await quiver.listen();
    const definition = protoLoader.loadSync([OIP_PROTO_PATH, HEALTH_PROTO_PATH], LOADER_OPTIONS);
    const pkg = grpc.loadPackageDefinition(definition) as any;
    const address = `127.0.0.1:${quiver.grpcPort()}`;
    const services = {
      'inference.GRPCInferenceService': new pkg.inference.GRPCInferenceService(
        address,
        grpc.credentials.createInsecure(),
      ),
      'grpc.health.v1.Health': new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure()),
    };
    const token = await admin.post('/v1/principals/nobody/tokens', {});
    const unary = (svc: any, method: string, metadata: grpc.Metadata) =>
      new Promise<{ code: number }>((resolve) =>
        svc[method]({ name: 'd' }, metadata, (err: { code: number } | null) =>
          resolve({ code: err?.code ?? 0 }),
        ),
      );
    let checked = 0;
    for (const [service, stub] of Object.entries(services)) {
      const methods = Object.keys((definition[service] as object) ?? {});
      expect(methods.length, service).toBeGreaterThan(0);
      for (const method of methods) {
        const key = `${service}/${method}`;
        if (PUBLIC_RPCS.has(key)) continue;
        checked++;
        expect((await unary(stub, method, new grpc.Metadata())).code, key).toBe(grpc.status.UNAUTHENTICATED);
        expect((await unary(stub, method, adminMetadata(token.body.secret))).code, key).toBe(
          grpc.status.PERMISSION_DENIED,
        );
        expect((await unary(stub, method, adminMetadata())).code, key).not.toBe(
          grpc.status.PERMISSION_DENIED,
        );
      }
    }
    expect(checked).toBe(4);
    for (const stub of Object.values(services)) stub.close();
  });
});
