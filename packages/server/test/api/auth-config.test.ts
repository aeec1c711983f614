import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { homeRoutes } from '../../src/transports/rest/routes/home.routes.js';
import { client } from '../support/api.js';
import { testQuiver } from '../support/databases.js';

const ISSUER = 'https://login.example.com/realms/ml';
const OIDC = {
  QUIVER_OIDC_ISSUER: ISSUER,
  QUIVER_OIDC_AUDIENCE: 'quiver',
  QUIVER_OIDC_CLIENT_ID: 'quiver-console',
};

/**
 * `GET /v1/auth/config` only echoes configuration and touches no storage, so one backend is
 * enough; the route-coverage suite checks on both that it is the one public /v1 route.
 */
async function authConfig(env: Record<string, string>, token: string | null = null) {
  const { quiver, close } = await testQuiver('sqlite', { env });
  try {
    return await client(quiver.rest, token).get('/v1/auth/config');
  } finally {
    await close();
  }
}

describe('how to sign in: GET /v1/auth/config', () => {
  it('answers without a token that only API tokens are offered when OIDC is not configured', async () => {
    const res = await authConfig({});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ oidc: null });
  });

  it('names the issuer, the console client and the default scopes when OIDC sign-in is configured', async () => {
    const res = await authConfig(OIDC);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      oidc: { issuer: ISSUER, client_id: 'quiver-console', scopes: ['openid', 'profile', 'email'] },
    });
  });

  it('ignores a bad token: the console asks before it has one', async () => {
    const res = await authConfig(OIDC, 'qvr_not-a-real-token-000000000000000000');
    expect(res.status).toBe(200);
    expect(res.body.oidc.client_id).toBe('quiver-console');
  });

  it('takes the scopes of QUIVER_OIDC_SCOPES', async () => {
    const res = await authConfig({ ...OIDC, QUIVER_OIDC_SCOPES: ' openid  groups api://quiver/read ' });
    expect(res.body.oidc.scopes).toEqual(['openid', 'groups', 'api://quiver/read']);
  });

  it('offers no OIDC sign-in when the issuer accepts JWTs but no console client is set', async () => {
    const { QUIVER_OIDC_CLIENT_ID: _, ...bearerOnly } = OIDC;
    expect((await authConfig(bearerOnly)).body).toEqual({ oidc: null });
  });

  it('offers no OIDC sign-in with authentication off (a token would not be checked)', async () => {
    expect((await authConfig({ ...OIDC, QUIVER_AUTH: 'off' })).body).toEqual({ oidc: null });
  });
});

describe('OIDC sign-in settings', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ QUIVER_DATA_DIR: tmpdir(), ...env });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    return '';
  };

  it('refuses a client id without an issuer', () => {
    expect(problems({ QUIVER_OIDC_CLIENT_ID: 'quiver-console' })).toContain(
      'QUIVER_OIDC_CLIENT_ID is set but QUIVER_OIDC_ISSUER is not',
    );
  });

  it('refuses scopes without openid', () => {
    expect(problems({ ...OIDC, QUIVER_OIDC_SCOPES: 'profile email' })).toContain(
      'QUIVER_OIDC_SCOPES must include openid',
    );
  });

  it.each([' padded', 'tab\there'])('refuses the client id %j', (id) => {
    expect(problems({ ...OIDC, QUIVER_OIDC_CLIENT_ID: id })).toContain('QUIVER_OIDC_CLIENT_ID must be');
  });

  it('refuses a scope with a quote', () => {
    expect(problems({ ...OIDC, QUIVER_OIDC_SCOPES: 'openid "x"' })).toContain('QUIVER_OIDC_SCOPES must be');
  });
});

describe("the console's Content-Security-Policy", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'quiver-console-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title>');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const csp = async (connectTo: string[]) => {
    const app = Fastify();
    await app.register(homeRoutes({ version: '0', database: 'test', consoleDir: dir, connectTo }));
    const res = await app.inject({ url: '/', headers: { accept: 'text/html' } });
    await app.close();
    return String(res.headers['content-security-policy']);
  };

  it('lets the console connect to its own origin only, without OIDC', async () => {
    expect(await csp([])).toContain("connect-src 'self';");
  });

  it("lets it connect to the issuer's origin too, for discovery and the token endpoint", async () => {
    expect(await csp(['https://login.example.com'])).toContain(
      "connect-src 'self' https://login.example.com;",
    );
  });
});
