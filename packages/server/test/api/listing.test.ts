import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, client, expectError, newModel, newNamespace, newVersion } from '../support/api.js';
import { backends, testQuiver } from '../support/databases.js';
import { q, uniqueId, walkPages } from './helpers.js';

const BACKENDS = await backends();

const FIXTURE_SIZE = 120;

/** The sort key each order_by compares, and its direction. */
const ORDERS = [
  { orderBy: 'name', key: (m: any) => m.model_id as string, desc: false },
  { orderBy: 'create_time desc', key: (m: any) => Date.parse(m.create_time), desc: true },
  { orderBy: 'update_time', key: (m: any) => Date.parse(m.update_time), desc: false },
  { orderBy: 'latest_version desc', key: (m: any) => m.latest_version as number, desc: true },
] as const;

function expectSorted(items: any[], key: (m: any) => string | number, desc: boolean) {
  for (let i = 1; i < items.length; i++) {
    const [a, b] = [key(items[i - 1]), key(items[i])];
    if (desc) expect(a >= b, `${a} before ${b}`).toBe(true);
    else expect(a <= b, `${a} before ${b}`).toBe(true);
  }
}

function expectEachOnce(items: any[]) {
  const names = items.map((m) => m.name);
  expect(new Set(names).size, 'no duplicates').toBe(names.length);
}

describe.each(BACKENDS)('listing (%s)', (backend) => {
  let ctx: Awaited<ReturnType<typeof testQuiver>>;
  let api: Client;
  /** A namespace of 120 models, created one after another, with 0–4 versions each. */
  let fixture: string;
  let fixtureIds: string[];

  beforeAll(async () => {
    ctx = await testQuiver(backend);
    api = client(ctx.quiver.rest);
    fixture = uniqueId('fixture');
    await newNamespace(api, fixture);
    // Creation order differs from name order (a permutation of 0..119).
    fixtureIds = Array.from(
      { length: FIXTURE_SIZE },
      (_, i) => `m${String((i * 37) % FIXTURE_SIZE).padStart(3, '0')}`,
    );
    for (const id of fixtureIds) await newModel(api, fixture, id, { labels: { group: `g${id.at(-1)}` } });
    // Versions change update_time and latest_version, so every order is a different permutation.
    await Promise.all(
      fixtureIds.map(async (id, i) => {
        for (let v = 0; v < (i * 7) % 5; v++) await newVersion(api, fixture, id);
      }),
    );
  });
  afterAll(() => ctx.close());

  const fixtureUrl = () => `/v1/namespaces/${fixture}/models`;

  describe('page size', () => {
    it('returns 50 items per page by default', async () => {
      const res = await api.get(fixtureUrl());
      expect(res.status).toBe(200);
      expect(res.body.models).toHaveLength(50);
      expect(res.body.next_page_token).not.toBe('');
    });

    it('treats page_size 0 as the default', async () => {
      const res = await api.get(`${fixtureUrl()}?page_size=0`);
      expect(res.body.models).toHaveLength(50);
    });

    it('returns up to 1000 items in one page and no next token at the end', async () => {
      const res = await api.get(`${fixtureUrl()}?page_size=1000`);
      expect(res.status).toBe(200);
      expect(res.body.models).toHaveLength(FIXTURE_SIZE);
      expect(res.body.next_page_token).toBe('');
    });

    it('rejects a page_size above 1000', async () => {
      const res = await api.get(`${fixtureUrl()}?page_size=1001`);
      expectError(res, 400, 'INVALID_ARGUMENT');
      expect(res.body.error.details.field).toBe('page_size');
    });

    it('ends with an empty token when the last page is exactly full', async () => {
      const { items, pages } = await walkPages(api, fixtureUrl(), 'models', { pageSize: 60 });
      expect(items).toHaveLength(FIXTURE_SIZE);
      expect(pages).toBe(2);
    });

    it('accepts a different page_size with the same page token', async () => {
      const first = await api.get(`${fixtureUrl()}?page_size=10`);
      const next = await api.get(
        `${fixtureUrl()}?${q({ page_size: 25, page_token: first.body.next_page_token })}`,
      );
      expect(next.status).toBe(200);
      expect(next.body.models).toHaveLength(25);
      const all = (await api.get(`${fixtureUrl()}?page_size=1000`)).body.models;
      expect(next.body.models).toEqual(all.slice(10, 35));
    });
  });

  describe('walking all pages', () => {
    it.each(ORDERS)('yields each model exactly once, in order, for order_by=$orderBy', async (order) => {
      const url = `${fixtureUrl()}?${q({ order_by: order.orderBy })}`;
      const { items, pages } = await walkPages(api, url, 'models', { pageSize: 7 });
      expect(pages).toBe(Math.ceil(FIXTURE_SIZE / 7));
      expectEachOnce(items);
      expect(new Set(items.map((m) => m.model_id))).toEqual(new Set(fixtureIds));
      expectSorted(items, order.key, order.desc);
      // Walking pages gives exactly the order of one big page (ties broken the same way).
      const whole = await api.get(`${url}&page_size=1000`);
      expect(items).toEqual(whole.body.models);
    });

    it('orders by name descending too', async () => {
      const { items } = await walkPages(api, `${fixtureUrl()}?order_by=name%20desc`, 'models', {
        pageSize: 11,
      });
      expect(items.map((m) => m.model_id)).toEqual([...fixtureIds].sort().reverse());
    });

    it.each(ORDERS)('stays stable under concurrent inserts for order_by=$orderBy', async (order) => {
      const ns = uniqueId('ns');
      await newNamespace(api, ns);
      const originals = Array.from({ length: 30 }, (_, i) => `o${String((i * 7) % 30).padStart(2, '0')}`);
      for (const [i, id] of originals.entries()) {
        await newModel(api, ns, id);
        if (i % 3 === 0) await newVersion(api, ns, id);
      }
      const url = `/v1/namespaces/${ns}/models?${q({ order_by: order.orderBy })}`;
      const expected = (await api.get(`${url}&page_size=1000`)).body.models.map((m: any) => m.model_id);
      let inserted = 0;
      const { items } = await walkPages(api, url, 'models', {
        pageSize: 4,
        // New models sort before, between and after the originals (names `a…`, `o…x`, `z…`).
        between: async () => {
          for (const prefix of ['a', 'o15x', 'z']) {
            const id = `${prefix}${inserted++}`;
            await newModel(api, ns, id);
            if (inserted % 2 === 0) await newVersion(api, ns, id);
          }
        },
      });
      expect(inserted).toBeGreaterThan(0);
      expectEachOnce(items);
      const seenOriginals = items.map((m) => m.model_id).filter((id) => originals.includes(id));
      expect(seenOriginals).toEqual(expected);
    });
  });

  describe('page tokens', () => {
    async function firstToken(url = fixtureUrl()) {
      const res = await api.get(`${url}${url.includes('?') ? '&' : '?'}page_size=5`);
      expect(res.body.next_page_token).not.toBe('');
      return res.body.next_page_token as string;
    }

    async function expectBadToken(url: string, token: string) {
      const res = await api.get(`${url}${url.includes('?') ? '&' : '?'}${q({ page_token: token })}`);
      expectError(res, 400, 'INVALID_ARGUMENT', 'INVALID_PAGE_TOKEN');
      expect(res.body.error.details.field).toBe('page_token');
    }

    it('rejects a token the server never issued', async () => {
      for (const token of [
        'junk',
        'a.b',
        '.',
        'eyJrIjpbIm0wMDAiLDFdfQ',
        `${'A'.repeat(40)}.${'B'.repeat(22)}`,
      ]) {
        await expectBadToken(fixtureUrl(), token);
      }
    });

    it('rejects a token whose body or signature was altered', async () => {
      const token = await firstToken();
      const [body, mac] = token.split('.') as [string, string];
      const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      await expectBadToken(fixtureUrl(), `${flip(body, 3)}.${mac}`);
      await expectBadToken(fixtureUrl(), `${body}.${flip(mac, 0)}`);
      await expectBadToken(fixtureUrl(), `${body}.${mac.slice(0, -1)}`);
      await expectBadToken(fixtureUrl(), `${body}x.${mac}`);
      // A re-encoded keyset that jumps ahead keeps the old signature, which no longer fits.
      const decoded = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      decoded.k = ['m100', 1];
      await expectBadToken(
        fixtureUrl(),
        `${Buffer.from(JSON.stringify(decoded)).toString('base64url')}.${mac}`,
      );
    });

    it('rejects a token reused with a different filter, order or parent', async () => {
      const filtered = `${fixtureUrl()}?${q({ filter: 'labels.group = g1' })}`;
      const token = await firstToken(filtered);
      expect((await api.get(`${filtered}&${q({ page_token: token })}`)).status).toBe(200);
      await expectBadToken(fixtureUrl(), token);
      await expectBadToken(`${fixtureUrl()}?${q({ filter: 'labels.group = g2' })}`, token);
      await expectBadToken(`${filtered}&order_by=create_time`, token);
      await expectBadToken(`${filtered}&${q({ order_by: 'name desc' })}`, token);
      await expectBadToken(`/v1/namespaces/-/models?${q({ filter: 'labels.group = g1' })}`, token);
      const plain = await firstToken();
      await expectBadToken(`${fixtureUrl()}?order_by=update_time`, plain);
      await expectBadToken('/v1/namespaces', plain);
      await expectBadToken(`${fixtureUrl()}/${fixtureIds[0]}/versions`, plain);
    });

    // A signature of non-ASCII characters has more bytes than characters; decode checks its
    // shape before timingSafeEqual (which once threw a RangeError: a 500).
    it('rejects a token whose signature has non-ASCII characters', async () => {
      const token = await firstToken();
      const body = token.split('.')[0];
      await expectBadToken(fixtureUrl(), `${body}.${'é'.repeat(22)}`);
    });
  });

  describe('filters', () => {
    let ns: string;
    let url: string;
    const names = (res: any) => res.body.models.map((m: any) => m.model_id);
    async function filter(expr: string, base = () => url) {
      const res = await api.get(`${base()}?${q({ filter: expr, page_size: 1000 })}`);
      expect(res.status, `${expr}: ${JSON.stringify(res.body)}`).toBe(200);
      return res;
    }

    beforeAll(async () => {
      ns = uniqueId('filters');
      url = `/v1/namespaces/${ns}/models`;
      await newNamespace(api, ns);
      const models: [string, Record<string, string>, number][] = [
        ['alpha', { team: 'fraud', tier: 'gold' }, 3],
        ['alpine', { team: 'risk' }, 1],
        ['beta', { team: 'fraud' }, 0],
        ['gamma', {}, 2],
        ['delta', { 'app.kubernetes.io/name': 'scorer' }, 0],
      ];
      for (const [id, labels, versions] of models) {
        await newModel(api, ns, id, { labels, description: `the ${id} model` });
        for (let v = 0; v < versions; v++) await newVersion(api, ns, id);
      }
      const alpha = `${url}/alpha/versions`;
      await api.post(`${alpha}/1:transition`, { status: 'validated' });
      await api.post(`${alpha}/1:transition`, { status: 'approved' });
      await api.post(`${alpha}/2:transition`, { status: 'rejected' });
    });

    it.each([
      ['name = alpha', ['alpha']],
      ['name = "alpha"', ['alpha']],
      ['name != alpha', ['alpine', 'beta', 'delta', 'gamma']],
      ['name < "b"', ['alpha', 'alpine']],
      ['name >= beta', ['beta', 'delta', 'gamma']],
      ['name > "alpine" AND name <= "delta"', ['beta', 'delta']],
      ['name:"al*"', ['alpha', 'alpine']],
      ['name:al*', ['alpha', 'alpine']],
      ['name:"alp*"', ['alpha', 'alpine']],
      ['name:"alpha"', ['alpha']],
      ['name:"zz*"', []],
    ])('filters models by name: %s', async (expr, expected) => {
      expect(names(await filter(expr))).toEqual(expected);
    });

    it('accepts the full resource name in a name filter', async () => {
      expect(names(await filter(`name = "namespaces/${ns}/models/gamma"`))).toEqual(['gamma']);
    });

    it.each([
      ['labels.team = fraud', ['alpha', 'beta']],
      ['labels.team = "risk"', ['alpine']],
      // "not equal" includes models without the key (AIP-160 has-not semantics chosen by Quiver).
      ['labels.team != fraud', ['alpine', 'delta', 'gamma']],
      ['labels.team:*', ['alpha', 'alpine', 'beta']],
      ['labels.tier:"go*"', ['alpha']],
      ['labels.team:fraud', ['alpha', 'beta']],
      ['labels."app.kubernetes.io/name" = scorer', ['delta']],
      ['labels.missing:*', []],
    ])('filters models by label: %s', async (expr, expected) => {
      expect(names(await filter(expr))).toEqual(expected);
    });

    it.each([
      ['latest_version = 0', ['beta', 'delta']],
      ['latest_version >= 2', ['alpha', 'gamma']],
      ['latest_version < 1', ['beta', 'delta']],
      ['latest_version > 2', ['alpha']],
      ['latest_version != 0', ['alpha', 'alpine', 'gamma']],
      ['latest_version <= 1', ['alpine', 'beta', 'delta']],
    ])('filters models by latest_version: %s', async (expr, expected) => {
      expect(names(await filter(expr))).toEqual(expected);
    });

    it.each([
      ['labels.team = fraud AND latest_version > 0', ['alpha']],
      ['labels.team = fraud latest_version > 0', ['alpha']],
      ['labels.team = risk OR name = gamma', ['alpine', 'gamma']],
      ['NOT labels.team = fraud', ['alpine', 'delta', 'gamma']],
      ['-name = alpha', ['alpine', 'beta', 'delta', 'gamma']],
      ['(name = alpha OR name = beta) AND labels.tier = gold', ['alpha']],
      ['NOT (name = alpha OR name = beta)', ['alpine', 'delta', 'gamma']],
      ['(labels.team = fraud OR labels.team = risk) AND NOT latest_version = 0', ['alpha', 'alpine']],
      ['((name:"a*"))', ['alpha', 'alpine']],
    ])('combines comparisons: %s', async (expr, expected) => {
      expect(names(await filter(expr))).toEqual(expected);
    });

    it('filters models by create_time with quoted RFC 3339 times', async () => {
      const all = (await filter('')).body.models as any[];
      const pivot = all.find((m) => m.model_id === 'gamma').create_time as string;
      const later = all.filter((m) => m.create_time >= pivot).map((m) => m.model_id);
      expect(names(await filter(`create_time >= "${pivot}"`))).toEqual(later);
      const earlier = all.filter((m) => m.create_time < pivot).map((m) => m.model_id);
      expect(names(await filter(`create_time < "${pivot}"`))).toEqual(earlier);
      expect(names(await filter('create_time > "2000-01-01T00:00:00Z"'))).toHaveLength(5);
      expect(names(await filter('create_time < "2000-01-01T00:00:00+02:00"'))).toEqual([]);
      const offset = new Date(Date.parse(pivot)).toISOString().replace('Z', '+00:00');
      expect(names(await filter(`create_time >= '${offset}'`))).toEqual(later);
    });

    it.each([
      ['status = approved', [1]],
      ['status = registered', [3]],
      ['status != registered', [2, 1]],
      ['status = registered OR status = rejected', [3, 2]],
      ['NOT status = approved', [3, 2]],
      ['status:rejected', [2]],
    ])('filters versions by status: %s', async (expr, expected) => {
      const res = await filter(expr, () => `${url}/alpha/versions`);
      expect(res.body.versions.map((v: any) => v.version)).toEqual(expected);
    });

    it('filters across all namespaces with -', async () => {
      const res = await filter(`name:"alp*" AND labels.team = risk`, () => '/v1/namespaces/-/models');
      expect(res.body.models.map((m: any) => m.name)).toEqual([`namespaces/${ns}/models/alpine`]);
    });

    it.each([
      ['colour = red', 'colour'],
      ['labels = x', 'labels'],
      ['latest_version = many', 'latest_version'],
      ['create_time > "yesterday"', 'create_time'],
      ['create_time > "2024-02-30T00:00:00Z"', 'create_time'],
      ['latest_version:"1*"', 'latest_version'],
      ['name = alpha*', 'name'],
      ['labels."Team" = x', 'labels."Team"'],
    ])('rejects the filter %s as INVALID_FILTER', async (expr, field) => {
      const res = await api.get(`${url}?${q({ filter: expr })}`);
      expectError(res, 400, 'INVALID_ARGUMENT', 'INVALID_FILTER');
      expect(res.body.error.details.field).toBe('filter');
      expect(res.body.error.details.filterField).toBe(field);
    });

    it.each([
      'name =',
      'name = (',
      '(name = alpha',
      'name = alpha)',
      'AND name = alpha',
      'name = "unterminated',
      'create_time > 2024-01-01T00:00:00Z',
      '= alpha',
      'name == alpha',
      `${'('.repeat(20)}name = a${')'.repeat(20)}`,
      Array.from({ length: 60 }, (_, i) => `name = m${i}`).join(' OR '),
    ])('rejects the unparseable filter %s as INVALID_FILTER', async (expr) => {
      const res = await api.get(`${url}?${q({ filter: expr })}`);
      expectError(res, 400, 'INVALID_ARGUMENT', 'INVALID_FILTER');
    });

    it('rejects a version status that does not exist', async () => {
      const res = await api.get(`${url}/alpha/versions?${q({ filter: 'status = retired' })}`);
      expectError(res, 400, 'INVALID_ARGUMENT', 'INVALID_FILTER');
      expect(res.body.error.details.allowed).toContain('approved');
    });

    it.each([
      ['colour', '/models'],
      ['name sideways', '/models'],
      ['name, create_time', '/models'],
      ['name asc desc', '/models'],
      ['latest_version', '/models/alpha/versions'],
      ['status', '/models/alpha/versions'],
    ])('rejects order_by=%s as INVALID_ORDER_BY', async (orderBy, path) => {
      const res = await api.get(`/v1/namespaces/${ns}${path}?${q({ order_by: orderBy })}`);
      expectError(res, 400, 'INVALID_ARGUMENT', 'INVALID_ORDER_BY');
      expect(res.body.error.details.field).toBe('order_by');
      expect(Array.isArray(res.body.error.details.allowed)).toBe(true);
    });

    it.each([
      `name = "x' OR '1'='1"`,
      `name = "alpha; DROP TABLE models; --"`,
      `name = "alpha' --"`,
      `labels.team = "' OR 1=1 --"`,
      `labels.team = "fraud\\" OR \\"1\\"=\\"1"`,
      `description:"%*"`,
      `name:"_*"`,
      `name = "1; SELECT pg_sleep(5)"`,
      `description = "'); DELETE FROM models WHERE ('1'='1"`,
      `labels."x') OR 1=1 --" = y`,
    ])('returns nothing for the SQL-looking filter %s and breaks nothing', async (expr) => {
      const res = await api.get(`${url}?${q({ filter: expr })}`);
      if (res.status === 200) expect(res.body.models).toEqual([]);
      else expectError(res, 400, 'INVALID_ARGUMENT', 'INVALID_FILTER');
      expect(names(await filter(''))).toEqual(['alpha', 'alpine', 'beta', 'delta', 'gamma']);
      expect((await api.get(`${url}/alpha/versions`)).body.versions).toHaveLength(3);
    });

    it('matches a label value with SQL metacharacters literally', async () => {
      const tricky = uniqueId('tricky');
      await newModel(api, ns, tricky, { labels: { note: "50%_off' OR 1=1" } });
      expect(names(await filter(`labels.note = "50%_off' OR 1=1"`))).toEqual([tricky]);
      expect(names(await filter(`labels.note:"50%*"`))).toEqual([tricky]);
      expect(names(await filter(`labels.note:"5_*"`))).toEqual([]);
      await api.delete(`${url}/${tricky}`);
    });

    it('rejects integers beyond 32 bits as INVALID_FILTER and accepts the 32-bit bounds', async () => {
      for (const [expr, base] of [
        ['latest_version > 99999999999', url],
        ['latest_version < -2147483649', url],
        ['version = 2147483648', `${url}/alpha/versions`],
      ] as const) {
        const res = await api.get(`${base}?${q({ filter: expr })}`);
        expectError(res, 400, 'INVALID_ARGUMENT', 'INVALID_FILTER');
      }
      expect(names(await filter('latest_version < 2147483647'))).toHaveLength(5);
      expect(names(await filter('latest_version > -2147483648'))).toHaveLength(5);
      const res = await filter('version = 2147483647', () => `${url}/alpha/versions`);
      expect(res.body.versions).toEqual([]);
    });
  });
});
