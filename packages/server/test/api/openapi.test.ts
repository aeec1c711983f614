import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, client, expectError } from '../support/api.js';
import { backends, testQuiver } from '../support/databases.js';

const BACKENDS = await backends();

const SERVER_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Every REST method of the management API, as AIP-style paths. */
const V1_OPERATIONS = [
  'POST /v1/namespaces',
  'GET /v1/namespaces',
  'GET /v1/namespaces/{namespace}',
  'POST /v1/namespaces/{namespace}/models',
  'GET /v1/namespaces/{namespace}/models',
  'GET /v1/namespaces/{namespace}/models/{model}',
  'PATCH /v1/namespaces/{namespace}/models/{model}',
  'DELETE /v1/namespaces/{namespace}/models/{model}',
  'POST /v1/namespaces/{namespace}/models/{model}/versions',
  'GET /v1/namespaces/{namespace}/models/{model}/versions',
  'GET /v1/namespaces/{namespace}/models/{model}/versions/{version}',
  'PATCH /v1/namespaces/{namespace}/models/{model}/versions/{version}',
  'POST /v1/namespaces/{namespace}/models/{model}/versions/{version}:transition',
  'GET /v1/namespaces/{namespace}/models/{model}/versions/{version}/history',
  'POST /v1/versions:batchGet',
  'PUT /v1/namespaces/{namespace}/models/{model}/aliases/{alias}',
  'DELETE /v1/namespaces/{namespace}/models/{model}/aliases/{alias}',
];
const LISTS = [
  'GET /v1/namespaces',
  'GET /v1/namespaces/{namespace}/models',
  'GET /v1/namespaces/{namespace}/models/{model}/versions',
];
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

describe.each(BACKENDS)('OpenAPI and health (%s)', (backend) => {
  let ctx: Awaited<ReturnType<typeof testQuiver>>;
  let api: Client;
  let doc: any;

  beforeAll(async () => {
    ctx = await testQuiver(backend);
    api = client(ctx.quiver.rest);
    doc = (await api.get('/openapi.json')).body;
  });
  afterAll(() => ctx.close());

  const operation = (op: string) => {
    const [method, path] = op.split(' ') as [string, string];
    return doc.paths[path]?.[method.toLowerCase()];
  };

  describe('/openapi.json', () => {
    it('is an OpenAPI 3.1 document served as JSON', async () => {
      const res = await api.get('/openapi.json');
      expect(res.status).toBe(200);
      expect(String(res.headers['content-type'])).toContain('application/json');
      expect(res.body.openapi).toMatch(/^3\.1\.\d+$/);
      expect(res.body.info).toMatchObject({ title: 'Quiver API', version: SERVER_VERSION });
    });

    it('describes every registry method', () => {
      const documented = v1Operations(doc);
      for (const op of V1_OPERATIONS) expect(documented, op).toContain(op);
    });

    it('describes every /v1 route the server has, and no route it lacks', () => {
      expect(v1Operations(doc).sort()).toEqual(
        routedV1Operations(ctx.quiver.rest.printRoutes({ commonPrefix: false })),
      );
    });

    it.each(V1_OPERATIONS)('routes %s', async (op) => {
      const [method, path] = op.split(' ') as [string, string];
      const url = path
        .replace('{namespace}', 'no-such-ns')
        .replace('{model}', 'm')
        .replace('{version}', '1')
        .replace('{alias}', 'champion');
      const res = await api.call(
        method as 'GET',
        url,
        ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined,
      );
      expect(res.body?.error?.details?.reason, `${op} → ${res.status}`).not.toBe('ROUTE_NOT_FOUND');
      expect(res.status).toBeLessThan(500);
    });

    it('answers a route that does not exist with ROUTE_NOT_FOUND', async () => {
      expectError(await api.get('/v1/models'), 404, 'NOT_FOUND', 'ROUTE_NOT_FOUND');
      expectError(
        await api.post('/v1/namespaces/x/models/m/versions/1:promote'),
        404,
        'NOT_FOUND',
        'ROUTE_NOT_FOUND',
      );
      expectError(await api.call('PUT', '/v1/namespaces', {}), 404, 'NOT_FOUND', 'ROUTE_NOT_FOUND');
    });

    it.each(V1_OPERATIONS)('documents %s with a summary, path parameters and the error envelope', (op) => {
      const o = operation(op);
      expect(o, op).toBeDefined();
      expect(typeof o.summary).toBe('string');
      expect(o.tags?.length).toBeGreaterThan(0);
      const path = op.split(' ')[1]!;
      const declared = (o.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name);
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(declared.sort()).toEqual(inPath.sort());
      const errors = o.responses['4XX'] ?? o.responses['4xx'];
      expect(errors?.content?.['application/json']?.schema?.$ref).toBe('#/components/schemas/Error');
      const success = Object.keys(o.responses).filter((code) => /^2/.test(code));
      expect(success).toHaveLength(1);
    });

    it.each(LISTS)('documents the list parameters of %s', (op) => {
      const query = (operation(op).parameters ?? [])
        .filter((p: any) => p.in === 'query')
        .map((p: any) => p.name);
      expect(query.sort()).toEqual(['filter', 'order_by', 'page_size', 'page_token']);
      const pageSize = operation(op).parameters.find((p: any) => p.name === 'page_size');
      expect(pageSize.schema).toMatchObject({ type: 'integer', minimum: 0, maximum: 1000 });
    });

    it('documents request bodies that reject unknown fields', () => {
      for (const op of V1_OPERATIONS.filter((o) => /^(POST|PUT|PATCH) /.test(o))) {
        const schema = operation(op).requestBody?.content?.['application/json']?.schema;
        expect(schema, op).toBeDefined();
        expect(schema.additionalProperties, op).toBe(false);
      }
    });

    it('answers creates with 201 and the created resource', () => {
      const created = {
        'POST /v1/namespaces': 'Namespace',
        'POST /v1/namespaces/{namespace}/models': 'Model',
        'POST /v1/namespaces/{namespace}/models/{model}/versions': 'Version',
      };
      for (const [op, component] of Object.entries(created)) {
        expect(operation(op).responses['201'].content['application/json'].schema.$ref).toBe(
          `#/components/schemas/${component}`,
        );
      }
      expect(
        operation('GET /v1/namespaces/{namespace}/models/{model}').responses['200'].content[
          'application/json'
        ].schema.$ref,
      ).toBe('#/components/schemas/Model');
      expect(operation('DELETE /v1/namespaces/{namespace}/models/{model}').responses['204']).toBeDefined();
    });

    it('has components for Namespace, Model, Version and Error', () => {
      const schemas = doc.components.schemas;
      for (const name of ['Namespace', 'Model', 'Version', 'Error'])
        expect(schemas[name], name).toBeDefined();
      const common = ['name', 'uid', 'create_time', 'update_time', 'etag'];
      for (const name of ['Namespace', 'Model', 'Version']) {
        expect(schemas[name].type).toBe('object');
        expect(schemas[name].required, name).toEqual(expect.arrayContaining(common));
        expect(schemas[name].properties.create_time).toMatchObject({ type: 'string', format: 'date-time' });
      }
      expect(schemas.Model.required).toEqual(expect.arrayContaining(['latest_version', 'aliases', 'labels']));
      expect(schemas.Version.required).toEqual(
        expect.arrayContaining(['version', 'status', 'metadata', 'aliases', 'model']),
      );
      const error = schemas.Error.properties.error;
      expect(error.required).toEqual(expect.arrayContaining(['code', 'message', 'details', 'request_id']));
      const codes = JSON.stringify(error.properties.code);
      for (const code of [
        'INVALID_ARGUMENT',
        'NOT_FOUND',
        'ALREADY_EXISTS',
        'FAILED_PRECONDITION',
        'INTERNAL',
      ]) {
        expect(codes).toContain(code);
      }
      expect(error.properties.details.required).toContain('reason');
    });

    it('resolves every $ref to a component', () => {
      const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(
        (m) => m[1]!,
      );
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of new Set(refs)) expect(doc.components.schemas[ref], ref).toBeDefined();
    });
  });

  describe('/docs', () => {
    it('serves the API documentation as HTML', async () => {
      const res = await api.get('/docs');
      expect(res.status).toBe(200);
      expect(String(res.headers['content-type'])).toContain('text/html');
      expect(String(res.body)).toMatch(/<html/i);
    });
  });

  it('answers /livez with 200', async () => {
    const res = await api.get('/livez');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });
});

describe.each(BACKENDS)('readiness of a started server (%s)', (backend) => {
  let ctx: Awaited<ReturnType<typeof testQuiver>>;

  beforeAll(async () => {
    // Readiness describes a running server: listen on free ports, as `quiver serve` would.
    ctx = await testQuiver(backend, {
      env: { QUIVER_HTTP_HOST: '127.0.0.1', QUIVER_HTTP_PORT: '0', QUIVER_GRPC_PORT: '0' },
    });
    await ctx.quiver.listen();
  });
  afterAll(() => ctx.close());

  it('answers /readyz with 200 and a passing database check', async () => {
    const res = await client(ctx.quiver.rest).get('/readyz');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.checks).toEqual(expect.arrayContaining([{ name: 'database', ok: true, message: 'ok' }]));
    expect(res.body.checks.every((c: any) => c.ok === true)).toBe(true);
  });
});

describe.each(BACKENDS)('readiness without a database (%s)', (backend) => {
  let ctx: Awaited<ReturnType<typeof testQuiver>>;

  beforeAll(async () => {
    // The api role has no worker or inference checks, only the database and the artifact store.
    ctx = await testQuiver(backend, { env: { QUIVER_ROLE: 'api' } });
  });
  afterAll(() => ctx.close());

  it('answers /readyz with 503 and a failing database check while /livez stays 200', async () => {
    const api = client(ctx.quiver.rest);
    await ctx.quiver.store.db.destroy();
    const res = await api.get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('unavailable');
    expect(res.body.checks).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'database', ok: false })]),
    );
    expect((await api.get('/livez')).status).toBe(200);
  });
});

/** `METHOD /v1/...` for every operation the document describes (HEAD aside). */
function v1Operations(doc: any): string[] {
  return Object.entries<any>(doc.paths)
    .filter(([path]) => path.startsWith('/v1/'))
    .flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => HTTP_METHODS.includes(m) && m !== 'head')
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
}

/**
 * `METHOD /v1/...` for every route Fastify serves, read from its route tree (printRoutes) and
 * written the OpenAPI way: `/:name(regex)` becomes `/{name}`.
 */
function routedV1Operations(tree: string): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (.*) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    // A parameter starts a segment (`/:name(regex)`); other colons are literal (`versions:batchGet`).
    const path = stack
      .join('')
      .replaceAll('::', ':')
      .replace(/\/:(\w+)(\([^)]*\))?/g, '/{$1}');
    if (!path.startsWith('/v1/')) continue;
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push(`${method} ${path}`);
  }
  return out.sort();
}
