import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Answer,
  type Client,
  client,
  expectError,
  newModel,
  newNamespace,
  newVersion,
} from '../support/api.js';
import { AUTH, backends, testQuiver } from '../support/databases.js';
import { nested, q, uniqueId } from './helpers.js';

const BACKENDS = await backends();

/** The codes of the shared error model (DESIGN.md), plus ABORTED for lost races. */
const CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'FAILED_PRECONDITION',
  'ABORTED',
  'PERMISSION_DENIED',
  'UNAUTHENTICATED',
  'RESOURCE_EXHAUSTED',
  'UNAVAILABLE',
  'INTERNAL',
];

/** Every answer is a 2xx with a JSON body or a 4xx with the error envelope; never a 5xx. */
function expectWellFormed(res: Answer, what: string) {
  const context = `${what} → ${res.status} ${JSON.stringify(res.body)?.slice(0, 500)}`;
  expect(res.status, context).toBeGreaterThanOrEqual(200);
  expect(res.status, context).toBeLessThan(500);
  expect(res.status < 300 || res.status >= 400, context).toBe(true);
  expect(String(res.headers['content-type']), context).toContain('application/json');
  expect(typeof res.body, context).toBe('object');
  expect(res.body, context).not.toBeNull();
  if (res.status >= 400) {
    const { error } = res.body;
    expect(CODES, context).toContain(error.code);
    expect(typeof error.message, context).toBe('string');
    expect(error.message.length, context).toBeGreaterThan(0);
    expect(typeof error.details?.reason, context).toBe('string');
    expect(error.request_id, context).toBe(res.headers['x-request-id']);
    expect(error.code, context).not.toBe('INTERNAL');
  }
}

describe.each(BACKENDS)('bad input (%s)', (backend) => {
  let ctx: Awaited<ReturnType<typeof testQuiver>>;
  let api: Client;
  let ns: string;
  let model: string;
  let version: string;

  beforeAll(async () => {
    ctx = await testQuiver(backend);
    api = client(ctx.quiver.rest);
    ns = uniqueId('ns');
    await newNamespace(api, ns);
    await newModel(api, ns, 'm');
    model = `/v1/namespaces/${ns}/models/m`;
    for (let i = 0; i < 3; i++) await newVersion(api, ns, 'm');
    version = `${model}/versions/1`;
    await api.put(`${model}/aliases/champ`, { version: 2 });
  });
  afterAll(() => ctx.close());

  /** The methods that take a JSON body, each with a body it would accept. */
  const WRITES = {
    'create namespace': () => ['POST', '/v1/namespaces', { namespace_id: uniqueId('ns') }],
    'create model': () => ['POST', `/v1/namespaces/${ns}/models`, { model_id: uniqueId('m') }],
    'create version': () => ['POST', `${model}/versions`, {}],
    transition: () => ['POST', `${model}/versions/3:transition`, { status: 'validated' }],
    batchGet: () => ['POST', '/v1/versions:batchGet', { names: [] }],
    'update model': () => ['PATCH', model, { description: 'd' }],
    'update version': () => ['PATCH', `${model}/versions/2`, { description: 'd' }],
    'set alias': () => ['PUT', `${model}/aliases/other`, { version: 1 }],
  } satisfies Record<string, () => readonly ['POST' | 'PATCH' | 'PUT', string, object]>;
  type WriteName = keyof typeof WRITES;
  const WRITE_NAMES = Object.keys(WRITES) as WriteName[];
  const write = (name: WriteName) => WRITES[name]() as readonly ['POST' | 'PATCH' | 'PUT', string, object];

  describe('bodies that are not JSON objects', () => {
    it.each(WRITE_NAMES)('rejects malformed JSON on %s', async (name) => {
      const [method, url] = write(name);
      for (const raw of ['{"a": ', '{a: 1}', "{'a': 1}", '{"a": 1,}', 'nul', '{"a": 1}}']) {
        expectError(await api.call(method, url, raw), 400, 'INVALID_ARGUMENT', 'MALFORMED_BODY');
      }
    });

    it.each(WRITE_NAMES)('rejects an empty body sent as JSON on %s', async (name) => {
      const [method, url] = write(name);
      const res = await api.call(method, url, '', { 'content-type': 'application/json' });
      expectError(res, 400, 'INVALID_ARGUMENT', 'MALFORMED_BODY');
    });

    it.each(WRITE_NAMES)('rejects JSON that is not an object on %s', async (name) => {
      const [method, url] = write(name);
      for (const raw of ['[]', '[{}]', 'null', '5', '"text"', 'true']) {
        const res = await api.call(method, url, raw);
        expectError(res, 400, 'INVALID_ARGUMENT');
        expect(res.body.error.details.field).toBe('body');
      }
    });

    it.each(WRITE_NAMES)('rejects bodies that are not JSON at all on %s', async (name) => {
      const [method, url, body] = write(name);
      for (const type of ['application/xml', 'application/x-www-form-urlencoded', 'image/png']) {
        const res = await api.call(method, url, JSON.stringify(body), { 'content-type': type });
        expectError(res, 415, 'INVALID_ARGUMENT', 'UNSUPPORTED_MEDIA_TYPE');
      }
      // Fastify reads text/plain itself; the body is then a string, which is not the object the method wants.
      const text = await api.call(method, url, JSON.stringify(body), { 'content-type': 'text/plain' });
      expectError(text, 400, 'INVALID_ARGUMENT');
      const none = await ctx.quiver.rest.inject({
        headers: AUTH,
        method,
        url,
        payload: JSON.stringify(body),
      });
      expect(none.statusCode).toBe(415);
      expect(JSON.parse(none.body).error.details.reason).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('refuses a 2 MiB body under the default limit of 1 MiB', async () => {
      const res = await api.post(`${model}/versions`, { metadata: { blob: 'x'.repeat(2 << 20) } });
      expectError(res, 413, 'RESOURCE_EXHAUSTED', 'BODY_TOO_LARGE');
    });

    it('accepts JSON with a charset parameter', async () => {
      const res = await api.call(
        'POST',
        `/v1/namespaces/${ns}/models`,
        JSON.stringify({ model_id: uniqueId('cs') }),
        { 'content-type': 'application/json; charset=utf-8' },
      );
      expect(res.status).toBe(201);
    });
  });

  describe('wrong types and unknown fields', () => {
    it.each([
      ['create namespace', { namespace_id: 5 }, 'namespace_id'],
      ['create namespace', { namespace_id: ['a'] }, 'namespace_id'],
      ['create namespace', {}, 'namespace_id'],
      ['create model', { model_id: 5 }, 'model_id'],
      ['create model', { model_id: 'ok', description: 5 }, 'description'],
      ['create model', { model_id: 'ok', labels: [] }, 'labels'],
      ['create model', { model_id: 'ok', labels: ['a', 'b'] }, 'labels'],
      ['create model', { model_id: 'ok', labels: 'team=x' }, 'labels'],
      ['create model', { model_id: 'ok', labels: { team: 1 } }, 'labels.team'],
      ['create model', { model_id: 'ok', labels: { team: { a: 'b' } } }, 'labels.team'],
      ['create model', { model_id: { id: 'ok' } }, 'model_id'],
      ['create version', { metadata: [] }, 'metadata'],
      ['create version', { metadata: [{ a: 1 }] }, 'metadata'],
      ['create version', { metadata: 'x' }, 'metadata'],
      ['create version', { metadata: null }, 'metadata'],
      ['create version', { source_uri: 5 }, 'source_uri'],
      ['create version', { labels: null }, 'labels'],
      ['create version', { description: true }, 'description'],
      ['transition', { status: 3 }, 'status'],
      ['transition', { status: ['validated'] }, 'status'],
      ['transition', { status: 'validated', reason: 5 }, 'reason'],
      ['transition', {}, 'status'],
      ['batchGet', { names: 'namespaces/a/models/b/versions/1' }, 'names'],
      ['batchGet', { names: [1] }, 'names.0'],
      ['batchGet', { names: { 0: 'x' } }, 'names'],
      ['batchGet', {}, 'names'],
      ['update model', { description: ['a'] }, 'description'],
      ['update model', { labels: [] }, 'labels'],
      ['update version', { labels: { a: 2 } }, 'labels.a'],
      ['set alias', { version: true }, 'version'],
      ['set alias', { version: 1.5 }, 'version'],
      ['set alias', { version: null }, 'version'],
      ['set alias', { version: [1] }, 'version'],
      ['set alias', {}, 'version'],
    ] as [WriteName, object, string][])(
      'rejects on %s the body %j as INVALID_ARGUMENT on its field',
      async (name, body, field) => {
        const [method, url] = write(name);
        const res = await api.call(method, url, body);
        expectError(res, 400, 'INVALID_ARGUMENT');
        expect(res.body.error.details.field).toBe(field);
      },
    );

    it.each(WRITE_NAMES)('rejects unknown fields on %s', async (name) => {
      const [method, url, body] = write(name);
      for (const extra of ['colour', 'name', 'uid', 'etag', 'create_time']) {
        const res = await api.call(method, url, { ...body, [extra]: 'x' });
        expectError(res, 400, 'INVALID_ARGUMENT');
        expect(res.body.error.details.field).toBe(extra);
        expect(res.body.error.message).toContain(`unknown field '${extra}'`);
      }
    });

    it('changes nothing when a write is rejected', async () => {
      const before = (await api.get(model)).body;
      await api.post(`${model}/versions`, { metadata: [] });
      await api.patch(model, { description: 'x', colour: 'red' });
      await api.put(`${model}/aliases/champ`, { version: true });
      expect((await api.get(model)).body).toEqual(before);
    });
  });

  describe('names outside the pattern', () => {
    const BAD_IDS = [
      'Upper',
      'a'.repeat(64),
      '../etc',
      'a/b',
      'a%2Fb',
      'é',
      'mödel',
      '模型',
      '-lead',
      '_lead',
      '',
      ' a',
      'a b',
      'a.b',
      "x'; DROP TABLE models; --",
    ];

    it.each(BAD_IDS)('rejects the id %j in a create body', async (id) => {
      const nsRes = await api.post('/v1/namespaces', { namespace_id: id });
      expectError(nsRes, 400, 'INVALID_ARGUMENT');
      expect(nsRes.body.error.details.field).toBe('namespace_id');
      const modelRes = await api.post(`/v1/namespaces/${ns}/models`, { model_id: id });
      expectError(modelRes, 400, 'INVALID_ARGUMENT');
      expect(modelRes.body.error.details.field).toBe('model_id');
    });

    it('accepts ids of 1 and 63 characters', async () => {
      const long = `z${'a'.repeat(62)}`;
      expect((await api.post('/v1/namespaces', { namespace_id: long })).status).toBe(201);
      expect((await api.post(`/v1/namespaces/${ns}/models`, { model_id: '7' })).status).toBe(201);
      expect((await api.get(`/v1/namespaces/${long}`)).status).toBe(200);
    });

    it.each([
      'UPPER',
      'a'.repeat(64),
      '..%2Fetc',
      '..%2F..%2Fetc%2Fpasswd',
      'a%2Fb',
      '%C3%A9',
      '%E6%A8%A1',
      '%00',
      'a%20b',
      'a%27%3B%20DROP%20TABLE%20models%3B--',
    ])('rejects the path segment %s as INVALID_NAME', async (segment) => {
      expectError(await api.get(`/v1/namespaces/${segment}`), 400, 'INVALID_ARGUMENT', 'INVALID_NAME');
      expectError(
        await api.get(`/v1/namespaces/${ns}/models/${segment}`),
        400,
        'INVALID_ARGUMENT',
        'INVALID_NAME',
      );
      expectError(
        await api.get(`/v1/namespaces/${segment}/models/m/versions/1`),
        400,
        'INVALID_ARGUMENT',
        'INVALID_NAME',
      );
      expectError(
        await api.post(`/v1/namespaces/${ns}/models/${segment}/versions`, {}),
        400,
        'INVALID_ARGUMENT',
      );
    });

    it('rejects a batchGet name with an SQL-looking segment', async () => {
      const res = await api.post('/v1/versions:batchGet', {
        names: [`namespaces/${ns}/models/m' OR '1'='1/versions/1`],
      });
      expectError(res, 400, 'INVALID_ARGUMENT', 'INVALID_NAME');
      expect(res.body.error.details.field).toBe('names[0]');
    });
  });

  describe('SQL-looking strings', () => {
    it('stores SQL-looking text verbatim and breaks nothing', async () => {
      const evil = [
        "'; DROP TABLE models; --",
        '" OR "1"="1',
        "x') UNION SELECT * FROM quiver_settings --",
        '\\x27; SELECT pg_sleep(10); --',
        '%_%',
      ];
      const id = uniqueId('sql');
      const created = await api.post(`/v1/namespaces/${ns}/models`, {
        model_id: id,
        description: evil[0],
        labels: { a: evil[1]!, b: evil[2]!, c: evil[3]!, d: evil[4]! },
      });
      expect(created.status).toBe(201);
      const v = await api.post(`/v1/namespaces/${ns}/models/${id}/versions`, {
        description: evil[2],
        source_uri: evil[0],
        metadata: { [evil[0]!]: evil[1], nested: { sql: evil[2] } },
      });
      expect(v.status).toBe(201);
      const t = await api.post(`/v1/namespaces/${ns}/models/${id}/versions/1:transition`, {
        status: 'rejected',
        reason: evil[0],
      });
      expect(t.status).toBe(200);
      expect((await api.get(`/v1/namespaces/${ns}/models/${id}`)).body).toMatchObject({
        description: evil[0],
        labels: { a: evil[1], b: evil[2], c: evil[3], d: evil[4] },
      });
      expect((await api.get(`/v1/namespaces/${ns}/models/${id}/versions/1`)).body).toMatchObject({
        description: evil[2],
        source_uri: evil[0],
        metadata: { [evil[0]!]: evil[1], nested: { sql: evil[2] } },
      });
      const list = await api.get(`/v1/namespaces/${ns}/models?page_size=1000`);
      expect(list.status).toBe(200);
      expect(list.body.models.some((m: any) => m.model_id === 'm')).toBe(true);
    });
  });

  describe('metadata limits', () => {
    it('accepts metadata nested 32 levels deep', async () => {
      const res = await api.post(`${model}/versions`, { metadata: nested(32) });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.metadata).toEqual(nested(32));
    });

    it.each([33, 40, 500])('rejects metadata nested %i levels deep as INVALID_METADATA', async (depth) => {
      const res = await api.post(`${model}/versions`, { metadata: nested(depth) });
      expectError(res, 400, 'INVALID_ARGUMENT', 'INVALID_METADATA');
      expect(res.body.error.details).toMatchObject({ field: 'metadata', max_depth: 32 });
    });

    it('rejects very deep objects and arrays without exhausting the stack', async () => {
      const deepObject = `{"metadata":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`;
      const deepArray = `{"metadata":{"a":${'['.repeat(20_000)}1${']'.repeat(20_000)}}}`;
      for (const raw of [deepObject, deepArray]) {
        const res = await api.post(`${model}/versions`, raw);
        expectError(res, 400, 'INVALID_ARGUMENT');
      }
    });

    it('rejects metadata over 64 KiB as INVALID_METADATA and accepts it just under', async () => {
      const over = await api.post(`${model}/versions`, { metadata: { blob: 'x'.repeat(65_530) } });
      expectError(over, 400, 'INVALID_ARGUMENT', 'INVALID_METADATA');
      expect(over.body.error.details.max_bytes).toBe(65_536);
      const huge = await api.post(`${model}/versions`, {
        metadata: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i])),
      });
      expectError(huge, 400, 'INVALID_ARGUMENT', 'INVALID_METADATA');
      const under = await api.post(`${model}/versions`, { metadata: { blob: 'x'.repeat(65_000) } });
      expect(under.status).toBe(201);
    });
  });

  describe('label limits', () => {
    const labelWrites = () =>
      [
        ['POST', `/v1/namespaces/${ns}/models`, (labels: unknown) => ({ model_id: uniqueId('l'), labels })],
        ['PATCH', model, (labels: unknown) => ({ labels })],
        ['POST', `${model}/versions`, (labels: unknown) => ({ labels })],
        ['PATCH', `${model}/versions/1`, (labels: unknown) => ({ labels })],
      ] as const;
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));

    it('accepts 64 labels, 63-character keys and 256-character values', async () => {
      for (const [method, url, body] of labelWrites()) {
        for (const labels of [many(64), { [`k${'e'.repeat(62)}`]: 'v' }, { 'a.b/c-d_e': 'v'.repeat(256) }]) {
          const res = await api.call(method, url, body(labels));
          expect(res.status, `${method} ${url} ${JSON.stringify(res.body)}`).toBeLessThan(300);
          expect(res.body.labels).toEqual(labels);
        }
      }
    });

    it.each([
      ['65 labels', many(65), 'labels'],
      ['a 64-character key', { [`k${'e'.repeat(63)}`]: 'v' }, undefined],
      ['a 257-character value', { team: 'v'.repeat(257) }, 'labels.team'],
      ['an uppercase key', { Team: 'v' }, 'labels.Team'],
      ['an empty key', { '': 'v' }, 'labels.'],
      ['a key starting with -', { '-team': 'v' }, 'labels.-team'],
      ['a key ending with .', { 'team.': 'v' }, 'labels.team.'],
      ['a key with a space', { 'my team': 'v' }, 'labels.my team'],
      ['a non-ASCII key', { équipe: 'v' }, 'labels.équipe'],
      ['a numeric value', { team: 7 }, 'labels.team'],
      ['a null value', { team: null }, 'labels.team'],
    ])('rejects %s as INVALID_ARGUMENT', async (_what, labels, field) => {
      for (const [method, url, body] of labelWrites()) {
        const res = await api.call(method, url, body(labels));
        expectError(res, 400, 'INVALID_ARGUMENT');
        if (field) expect(res.body.error.details.field).toBe(field);
        else expect(res.body.error.details.field).toMatch(/^labels\./);
      }
    });
  });

  describe('__proto__ and constructor', () => {
    it.each([
      `{"model_id":"p1","__proto__":{"polluted":true}}`,
      `{"model_id":"p2","labels":{"__proto__":"x"}}`,
      `{"model_id":"p3","labels":{"__proto__":{"polluted":"yes"}}}`,
      `{"model_id":"p4","constructor":{"prototype":{"polluted":true}}}`,
      `{"model_id":"p5","labels":{"constructor":{"prototype":{"polluted":"yes"}}}}`,
    ])('rejects the poisoned body %s', async (raw) => {
      const res = await api.post(`/v1/namespaces/${ns}/models`, raw);
      expectError(res, 400, 'INVALID_ARGUMENT', 'MALFORMED_BODY');
      expect(({} as any).polluted).toBeUndefined();
      expectError(
        await api.get(`/v1/namespaces/${ns}/models/${JSON.parse(raw.replaceAll('__proto__', 'x')).model_id}`),
        404,
        'NOT_FOUND',
      );
    });

    it('rejects __proto__ inside version metadata', async () => {
      const res = await api.post(`${model}/versions`, `{"metadata":{"a":{"__proto__":{"polluted":true}}}}`);
      expectError(res, 400, 'INVALID_ARGUMENT', 'MALFORMED_BODY');
      expect(({} as any).polluted).toBeUndefined();
    });

    it('treats a top-level constructor field as unknown', async () => {
      const res = await api.post(`/v1/namespaces/${ns}/models`, `{"model_id":"c1","constructor":1}`);
      expectError(res, 400, 'INVALID_ARGUMENT');
      expect(res.body.error.details.field).toBe('constructor');
    });

    it('keeps a label or metadata key named constructor as plain data', async () => {
      const id = uniqueId('ctor');
      const res = await api.post(`/v1/namespaces/${ns}/models`, {
        model_id: id,
        labels: { constructor: 'y' },
      });
      expect(res.status).toBe(201);
      expect(res.body.labels).toEqual({ constructor: 'y' });
      const v = await api.post(`/v1/namespaces/${ns}/models/${id}/versions`, {
        metadata: { constructor: { name: 'x' }, toString: 'y', hasOwnProperty: 1 },
      });
      expect(v.status).toBe(201);
      expect(v.body.metadata).toEqual({ constructor: { name: 'x' }, toString: 'y', hasOwnProperty: 1 });
      expect((await api.get(`/v1/namespaces/${ns}/models/${id}/versions/1`)).body.metadata).toEqual(
        v.body.metadata,
      );
    });
  });

  describe('Idempotency-Key header', () => {
    it.each([
      ['with a space', 'has space'],
      ['of 256 characters', 'k'.repeat(256)],
      ['that is empty', ''],
      ['with a non-ASCII character', 'caf\u00e9'],
      ['with a tab', 'a\tb'],
    ])('rejects a key %s and creates nothing', async (_what, key) => {
      const before = (await api.get(model)).body.latest_version;
      const res = await api.post(`${model}/versions`, {}, { 'idempotency-key': key });
      expectError(res, 400, 'INVALID_ARGUMENT');
      expect(res.body.error.details.field).toBe('Idempotency-Key');
      expect((await api.get(model)).body.latest_version).toBe(before);
    });

    it('accepts a key of 255 printable characters', async () => {
      const key = `${'!~'.repeat(127)}x`;
      const res = await api.post(
        `/v1/namespaces/${ns}/models`,
        { model_id: uniqueId('k') },
        { 'idempotency-key': key },
      );
      expect(res.status).toBe(201);
    });
  });

  describe('page_size', () => {
    const lists = () => [
      '/v1/namespaces',
      `/v1/namespaces/${ns}/models`,
      '/v1/namespaces/-/models',
      `${model}/versions`,
      `${version}/history`,
    ];

    it.each(['-1', '1001', 'abc', '1.5', '', '1,2', '-0.5', '1e4'])('rejects page_size=%j', async (size) => {
      for (const url of lists()) {
        const res = await api.get(`${url}?page_size=${encodeURIComponent(size)}`);
        expectError(res, 400, 'INVALID_ARGUMENT');
        expect(res.body.error.details.field).toBe('page_size');
      }
    });

    it('rejects unknown query parameters on lists', async () => {
      const res = await api.get(`/v1/namespaces/${ns}/models?pageSize=10`);
      expectError(res, 400, 'INVALID_ARGUMENT');
      expect(res.body.error.details.field).toBe('pageSize');
    });

    it('rejects a repeated filter parameter', async () => {
      const res = await api.get(`/v1/namespaces/${ns}/models?filter=a&filter=b`);
      expectError(res, 400, 'INVALID_ARGUMENT');
    });

    it('rejects an over-long filter', async () => {
      const res = await api.get(
        `/v1/namespaces/${ns}/models?${q({ filter: `name = "${'a'.repeat(2100)}"` })}`,
      );
      expectError(res, 400, 'INVALID_ARGUMENT');
    });
  });

  describe('control characters in text', () => {
    // PostgreSQL text cannot hold U+0000; Quiver refuses it on every backend (checkText,
    // checkLabels) with 400 INVALID_ARGUMENT, so both databases behave alike (once a 500 there).
    const cases = () =>
      [
        [
          'namespace description',
          'POST',
          '/v1/namespaces',
          { namespace_id: uniqueId('nul'), description: 'a\u0000b' },
        ],
        [
          'model description',
          'POST',
          `/v1/namespaces/${ns}/models`,
          { model_id: uniqueId('nul'), description: 'a\u0000b' },
        ],
        [
          'model label value',
          'POST',
          `/v1/namespaces/${ns}/models`,
          { model_id: uniqueId('nul'), labels: { a: 'x\u0000' } },
        ],
        ['version source_uri', 'POST', `${model}/versions`, { source_uri: 'file:///a\u0000' }],
        ['version description update', 'PATCH', `${model}/versions/3`, { description: 'a\u0000b' }],
        [
          'transition reason',
          'POST',
          `${model}/versions/2:transition`,
          { status: 'rejected', reason: 'a\u0000' },
        ],
      ] as const;

    it.each([0, 1, 2, 3, 4, 5])('rejects a NUL character in text on every backend (case %i)', async (i) => {
      const [what, method, url, body] = cases()[i]!;
      const res = await api.call(method, url, body);
      expectWellFormed(res, what);
      expectError(res, 400, 'INVALID_ARGUMENT');
    });

    it('stores metadata strings with NUL characters (JSON escapes them)', async () => {
      const res = await api.post(`${model}/versions`, { metadata: { a: 'x\u0000y' } });
      expect(res.status).toBe(201);
      expect((await api.get(`${model}/versions/${res.body.version}`)).body.metadata).toEqual({
        a: 'x\u0000y',
      });
    });
  });

  describe('random input (property-based)', () => {
    const STATUSES = ['registered', 'validated', 'approved', 'deprecated', 'archived', 'rejected'];
    // Printable Unicode: control characters are covered by the NUL tests above.
    const text = fc.string({ unit: 'grapheme', maxLength: 40 });
    const id = fc.oneof(
      fc.constantFrom('m', 'x', 'champ', 'Bad', ''),
      fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,8}$/),
      text,
    );
    const jsonish = fc.oneof(
      fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 4 }),
      fc.anything({ stringUnit: 'grapheme', maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v ?? null))),
    );
    const versionName = fc.oneof(
      fc
        .tuple(
          id,
          id,
          fc.oneof(
            fc.integer({ min: -2, max: 5 }).map(String),
            id.map((a) => `@${a}`),
          ),
        )
        .map(([n, m, v]) => `namespaces/${n}/models/${m}/versions/${v}`),
      text,
    );
    const structured = fc.record(
      {
        namespace_id: id,
        model_id: id,
        description: fc.oneof(text, jsonish),
        labels: fc.oneof(fc.dictionary(id, fc.oneof(text, jsonish), { maxKeys: 4 }), jsonish),
        metadata: jsonish,
        source_uri: fc.oneof(text, jsonish),
        status: fc.oneof(fc.constantFrom(...STATUSES), text, jsonish),
        reason: fc.oneof(text, jsonish),
        names: fc.oneof(fc.array(versionName, { maxLength: 6 }), jsonish),
        version: fc.oneof(
          fc.integer({ min: -5, max: 10 }),
          id.map((a) => `@${a}`),
          jsonish,
        ),
        colour: text,
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(structured, jsonish);

    const targets = () =>
      [
        ['POST', '/v1/namespaces'],
        ['POST', `/v1/namespaces/${ns}/models`],
        ['POST', `${model}/versions`],
        ['POST', `${model}/versions/1:transition`],
        ['POST', `${model}/versions/@champ:transition`],
        ['POST', '/v1/versions:batchGet'],
        ['PATCH', model],
        ['PATCH', `${model}/versions/2`],
        ['PUT', `${model}/aliases/fuzz`],
      ] as const;
    const target = fc.integer({ min: 0, max: 8 });

    it('answers random JSON bodies with 2xx JSON or a 4xx envelope, never 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(target, body, async (t, payload) => {
          const [method, url] = targets()[t]!;
          const res = await api.call(method, url, JSON.stringify(payload));
          expectWellFormed(res, `${method} ${url} ${JSON.stringify(payload)}`);
        }),
        { numRuns: 150 },
      );
    });

    it('answers random text bodies with any content type with a 4xx envelope or 2xx, never 5xx', async () => {
      const raw = fc.oneof(
        text,
        fc.string({ unit: 'binary-ascii', maxLength: 60 }).filter((s) => !s.includes('\u0000')),
        body.map((v) => JSON.stringify(v)).chain((s) => fc.nat(s.length).map((n) => s.slice(0, n))),
      );
      const type = fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'application/xml',
        'application/octet-stream',
        'multipart/form-data; boundary=x',
      );
      await fc.assert(
        fc.asyncProperty(target, raw, type, async (t, payload, contentType) => {
          const [method, url] = targets()[t]!;
          const res = await api.call(method, url, payload, { 'content-type': contentType });
          expectWellFormed(res, `${method} ${url} [${contentType}] ${JSON.stringify(payload)}`);
        }),
        { numRuns: 150 },
      );
    });

    it('answers random filter, order_by, page_size and page_token values with 2xx or a 4xx envelope', async () => {
      const validToken = async (url: string) =>
        (await api.get(`${url}?page_size=1`)).body.next_page_token as string;
      const lists = [
        '/v1/namespaces',
        `/v1/namespaces/${ns}/models`,
        '/v1/namespaces/-/models',
        `${model}/versions`,
        `${version}/history`,
      ];
      const tokens = await Promise.all(lists.map(validToken));
      const field = fc.constantFrom(
        'name',
        'model_id',
        'namespace_id',
        'description',
        'latest_version',
        'create_time',
        'update_time',
        'status',
        'version',
        'created_by',
        'source_uri',
        'labels.team',
        'labels."a.b/c"',
        'labels',
        'colour',
      );
      const op = fc.constantFrom('=', '!=', '<', '>', '<=', '>=', ':');
      const value = fc.oneof(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map(String),
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String),
        fc.constantFrom(
          ...STATUSES,
          '"2024-05-01T12:00:00Z"',
          '"2024-05-01T12:00:00.123+02:00"',
          '*',
          '"a*"',
        ),
        text.map((s) => JSON.stringify(s)),
        fc.stringMatching(/^[a-z0-9_*-]{1,8}$/),
      );
      const comparison = fc.tuple(field, op, value).map(([f, o, v]) => `${f} ${o} ${v}`);
      const filter = fc.oneof(
        text,
        fc.string({ unit: 'binary-ascii', maxLength: 40 }),
        fc
          .array(
            fc.tuple(
              fc.constantFrom('', 'NOT ', '-', '('),
              comparison,
              fc.constantFrom(' AND ', ' OR ', ' ', ') '),
            ),
            {
              minLength: 1,
              maxLength: 4,
            },
          )
          .map((parts) =>
            parts
              .map(([pre, c, join]) => `${pre}${c}${join}`)
              .join('')
              .trim(),
          ),
      );
      const orderBy = fc.oneof(
        fc.constantFrom(
          'name',
          'create_time desc',
          'update_time',
          'latest_version desc',
          'version asc',
          'name desc',
        ),
        text,
      );
      const token = fc.oneof(
        fc.constantFrom(...tokens.filter(Boolean)),
        fc.string({ unit: 'grapheme-ascii', maxLength: 60 }),
        fc
          .tuple(
            fc.constantFrom(...tokens.filter(Boolean)),
            fc.nat(80),
            fc.string({ unit: 'grapheme-ascii', maxLength: 3 }),
          )
          .map(
            ([t, at, insert]) =>
              t.slice(0, at % (t.length + 1)) + insert + t.slice((at % (t.length + 1)) + 1),
          ),
      );
      const pageSize = fc.oneof(fc.integer({ min: -5, max: 1100 }).map(String), text);
      const params = fc.record(
        { filter, order_by: orderBy, page_token: token, page_size: pageSize },
        { requiredKeys: [] },
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...lists), params, async (url, p) => {
          const query = q(p as Record<string, string>);
          const res = await api.get(`${url}${query ? `?${query}` : ''}`);
          expectWellFormed(res, `GET ${url}?${query}`);
        }),
        { numRuns: 150 },
      );
    });
  });
});

describe.each(BACKENDS)('body size limit (%s)', (backend) => {
  let small: Awaited<ReturnType<typeof testQuiver>>;
  let smallApi: Client;

  beforeAll(async () => {
    small = await testQuiver(backend, { env: { QUIVER_BODY_LIMIT_BYTES: '4096' } });
    smallApi = client(small.quiver.rest);
    await newNamespace(smallApi, 'ns');
    await newModel(smallApi, 'ns', 'm');
    await newVersion(smallApi, 'ns', 'm');
  });
  afterAll(() => small.close());

  it.each([
    ['POST', '/v1/namespaces/ns/models/m/versions', (n: number) => ({ metadata: { blob: 'x'.repeat(n) } })],
    ['POST', '/v1/namespaces', (n: number) => ({ namespace_id: 'big', description: 'x'.repeat(n) })],
    ['PATCH', '/v1/namespaces/ns/models/m', (n: number) => ({ description: 'x'.repeat(n) })],
    [
      'POST',
      '/v1/versions:batchGet',
      (n: number) => ({ names: Array(Math.ceil(n / 40)).fill('namespaces/ns/models/m/versions/1') }),
    ],
  ] as const)('refuses a %s %s body over the limit with 413 BODY_TOO_LARGE', async (method, url, body) => {
    const res = await smallApi.call(method, url, body(5000));
    expectError(res, 413, 'RESOURCE_EXHAUSTED', 'BODY_TOO_LARGE');
  });

  it('accepts a body just under the limit', async () => {
    const body = { metadata: { blob: 'x'.repeat(4000) } };
    expect(JSON.stringify(body).length).toBeLessThan(4096);
    const res = await smallApi.post('/v1/namespaces/ns/models/m/versions', body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });
});
