import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createQuiver, type Quiver } from '../../src/main.js';
import { type Client, client, expectError } from '../support/api.js';
import { backends, TEST_TOKEN, type TestDatabase, testDatabase, testQuiver } from '../support/databases.js';
import { waitFor } from '../support/serving.js';

const BACKENDS = await backends();

/** A clock the test moves: token expiry, last-used throttling and rate limits without sleeping. */
function manualClock(start = Date.UTC(2030, 0, 1)) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe.each(BACKENDS)('authentication (%s)', (backend) => {
  let db: TestDatabase;
  let quiver: Quiver;
  let admin: Client;
  const clock = manualClock();

  beforeAll(async () => {
    db = await testDatabase(backend, { QUIVER_RATE_LIMIT_RPS: '0' });
    quiver = await createQuiver(db.config, {
      logger: false,
      clock,
      ...(db.schema ? { postgresSchema: db.schema } : {}),
    });
    admin = client(quiver.rest);
  });
  afterAll(async () => {
    await quiver?.close();
    await db?.drop();
  });

  const tokenFor = async (id: string, body: Record<string, unknown> = {}) => {
    await admin.post('/v1/principals', { principal_id: id, kind: 'service_account' });
    const res = await admin.post(`/v1/principals/${id}/tokens`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { secret: string; token_id: string; prefix: string; name: string };
  };

  it('knows the bootstrap token as the admin', async () => {
    const me = await admin.get('/v1/whoami');
    expect(me.body).toEqual({
      principal: 'principals/admin',
      kind: 'user',
      groups: [],
      authentication: 'on',
      grants: [{ scope: 'global', permissions: expect.arrayContaining(['iam.manage', 'versions.approve']) }],
    });
  });

  it.each([
    [undefined, 'CREDENTIALS_MISSING'],
    ['', 'CREDENTIALS_MISSING'],
    ['Basic YWRtaW46YWRtaW4=', 'TOKEN_INVALID'],
    ['Bearer', 'TOKEN_INVALID'],
    ['Bearer qvr_short', 'TOKEN_INVALID'],
    [`Bearer qvr_${'A'.repeat(43)}`, 'TOKEN_INVALID'],
    [`Bearer ${TEST_TOKEN}x`, 'TOKEN_INVALID'],
    ['Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.', 'TOKEN_INVALID'],
  ])('rejects Authorization %j with UNAUTHENTICATED %s', async (header, reason) => {
    const res = await client(quiver.rest, null).get(
      '/v1/namespaces',
      header === undefined ? {} : { authorization: header },
    );
    expectError(res, 401, 'UNAUTHENTICATED', reason);
    expect(res.headers['www-authenticate']).toContain('Bearer');
  });

  it('audits every rejected credential with outcome denied', async () => {
    const before = Date.now();
    const requestId = `forged-${before}`;
    await client(quiver.rest, null).get('/v1/namespaces', {
      authorization: 'Bearer qvr_forged',
      'x-request-id': requestId,
    });
    const events = await admin.get(`/v1/audit/events?outcome=denied&principal=anonymous&page_size=1000`);
    const event = events.body.events.find((e: { request_id: string }) => e.request_id === requestId);
    expect(event).toMatchObject({ action: 'ListNamespaces', outcome: 'denied', principal: 'anonymous' });
  });

  it('shows a new token once, stores only its hash, and lists it by prefix', async () => {
    const token = await tokenFor('ci-bot', { description: 'CI' });
    expect(token.secret).toMatch(/^qvr_[A-Za-z0-9_-]{43}$/);
    expect(token.secret.startsWith(token.prefix)).toBe(true);
    const listed = await admin.get('/v1/principals/ci-bot/tokens');
    expect(listed.body.tokens).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(token.secret);
    const rows = await quiver.store.db.selectFrom('api_tokens').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(token.secret.slice(12));
    const me = await client(quiver.rest, token.secret).get('/v1/whoami');
    expect(me.body.principal).toBe('principals/ci-bot');
  });

  it('rejects a revoked token at once on this instance', async () => {
    const token = await tokenFor('revoked-bot');
    const bot = client(quiver.rest, token.secret);
    expect((await bot.get('/v1/whoami')).status).toBe(200);
    const revoked = await admin.post(`/v1/${token.name}:revoke`, {});
    expect(revoked.body.state).toBe('revoked');
    expectError(await bot.get('/v1/whoami'), 401, 'UNAUTHENTICATED', 'TOKEN_REVOKED');
  });

  it('rejects an expired token', async () => {
    const token = await tokenFor('short-lived', { ttl_seconds: 60 });
    const bot = client(quiver.rest, token.secret);
    expect((await bot.get('/v1/whoami')).status).toBe(200);
    clock.advance(61_000);
    expectError(await bot.get('/v1/whoami'), 401, 'UNAUTHENTICATED', 'TOKEN_EXPIRED');
  });

  it('rejects the tokens of a disabled principal', async () => {
    const token = await tokenFor('leaver');
    const res = await admin.patch('/v1/principals/leaver', { disabled: true });
    expect(res.body.disabled).toBe(true);
    expectError(
      await client(quiver.rest, token.secret).get('/v1/whoami'),
      401,
      'UNAUTHENTICATED',
      'PRINCIPAL_DISABLED',
    );
  });

  it('records the last use of a token at most once a minute', async () => {
    const token = await tokenFor('busy-bot');
    const bot = client(quiver.rest, token.secret);
    const lastUsed = async () =>
      (await admin.get('/v1/principals/busy-bot/tokens')).body.tokens[0].last_used_time as string | null;
    const first = new Date(clock.now()).toISOString();
    await bot.get('/v1/whoami');
    await waitFor(lastUsed, (t) => t === first, 10_000, 'the first use');
    clock.advance(30_000);
    await bot.get('/v1/whoami');
    clock.advance(31_000);
    const third = new Date(clock.now()).toISOString();
    await bot.get('/v1/whoami');
    await waitFor(lastUsed, (t) => t === third, 10_000, 'the use a minute later');
    const writes = quiver.store.db
      .selectFrom('api_tokens')
      .select('last_used_time')
      .where('id', '=', token.token_id);
    expect(Number((await writes.executeTakeFirstOrThrow()).last_used_time)).toBe(Date.parse(third));
  });
});

describe('first start', () => {
  it('creates the admin and a token, shows it once and writes it to {data_dir}/admin-token (0600)', async () => {
    const db = await testDatabase('sqlite', { QUIVER_BOOTSTRAP_TOKEN: '' });
    const config = loadConfig({ QUIVER_DATA_DIR: db.config.dataDir, QUIVER_LOG_LEVEL: 'silent' });
    const first = await createQuiver(config, { logger: false });
    const file = join(config.dataDir, 'admin-token');
    expect(first.adminToken?.file).toBe(file);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.adminToken?.secret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const me = await client(first.rest, first.adminToken!.secret).get('/v1/whoami');
    expect(me.body.principal).toBe('principals/admin');
    await first.close();
    const second = await createQuiver(config, { logger: false });
    expect(second.adminToken).toBeUndefined();
    await second.close();
    await db.drop();
  });

  it('with QUIVER_AUTH=off, makes every caller an admin-like anonymous principal', async () => {
    const { quiver, close } = await testQuiver('sqlite', { env: { QUIVER_AUTH: 'off' } });
    const open = client(quiver.rest, null);
    expect((await open.get('/v1/whoami')).body).toMatchObject({
      principal: 'principals/anonymous',
      authentication: 'off',
    });
    expect((await open.post('/v1/namespaces', { namespace_id: 'open' })).status).toBe(201);
    await close();
  });
});

describe('rate limits', () => {
  it('answers RESOURCE_EXHAUSTED with Retry-After once a principal spends its burst', async () => {
    const clock = manualClock();
    const db = await testDatabase('sqlite', { QUIVER_RATE_LIMIT_RPS: '1', QUIVER_RATE_LIMIT_BURST: '3' });
    const quiver = await createQuiver(db.config, { logger: false, clock });
    const api = client(quiver.rest);
    for (let i = 0; i < 3; i++) expect((await api.get('/v1/whoami')).status).toBe(200);
    const limited = await api.get('/v1/whoami');
    expectError(limited, 429, 'RESOURCE_EXHAUSTED', 'RATE_LIMITED');
    expect(limited.headers['retry-after']).toBe('1');
    clock.advance(1_000);
    expect((await api.get('/v1/whoami')).status).toBe(200);
    await quiver.close();
    await db.drop();
  });
});
