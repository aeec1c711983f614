import { createHmac } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Quiver } from '../../src/main.js';
import { type Client, client, expectError } from '../support/api.js';
import { backends, testQuiver } from '../support/databases.js';
import { type IdentityProvider, identityProvider } from '../support/identity-provider.js';

const BACKENDS = await backends();
const AUDIENCE = 'quiver-test';

type SigningKey = Parameters<SignJWT['sign']>[0];
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe.each(BACKENDS)('OIDC bearer tokens (%s)', (backend) => {
  let idp: IdentityProvider;
  let quiver: Quiver;
  let close: () => Promise<void>;
  let admin: Client;

  const jwt = (
    claims: Record<string, unknown> = {},
    options: { exp?: string | number; key?: SigningKey } = {},
  ) =>
    new SignJWT({
      iss: idp.issuer,
      aud: AUDIENCE,
      sub: 'alice-sub',
      groups: ['ml-team'],
      name: 'Alice',
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuedAt()
      .setExpirationTime(options.exp ?? '5m')
      .sign(options.key ?? idp.privateKey);
  const as = (token: string) => client(quiver.rest, token);

  beforeAll(async () => {
    idp = await identityProvider();
    ({ quiver, close } = await testQuiver(backend, {
      env: { QUIVER_OIDC_ISSUER: idp.issuer, QUIVER_OIDC_AUDIENCE: AUDIENCE },
    }));
    admin = client(quiver.rest);
  });
  afterAll(async () => {
    await close?.();
    await idp?.close();
  });

  it('creates a user principal for a new subject and carries its groups', async () => {
    const me = await as(await jwt()).get('/v1/whoami');
    expect(me.status, JSON.stringify(me.body)).toBe(200);
    expect(me.body).toMatchObject({ kind: 'user', groups: ['ml-team'] });
    expect(me.body.principal).toMatch(/^principals\/oidc-[0-9a-f]{24}$/);
    const principal = await admin.get(`/v1/${me.body.principal}`);
    expect(principal.body).toMatchObject({
      display_name: 'Alice',
      external_subject: `${idp.issuer}|alice-sub`,
    });
  });

  it('grants what the groups of the token are bound to', async () => {
    const token = await jwt({ groups: ['auditors'] });
    expectError(await as(token).get('/v1/audit:verify'), 403, 'PERMISSION_DENIED');
    await admin.post('/v1/roles', { role_id: 'auditor', permissions: ['audit.read'] });
    await admin.post('/v1/roleBindings', { role: 'auditor', member: 'groups/auditors' });
    expect((await as(token).get('/v1/audit:verify')).status).toBe(200);
  });

  it('maps a subject to an existing principal through its external subject', async () => {
    await admin.post('/v1/principals', { principal_id: 'bob', external_subject: `${idp.issuer}|bob-sub` });
    const me = await as(await jwt({ sub: 'bob-sub' })).get('/v1/whoami');
    expect(me.body.principal).toBe('principals/bob');
  });

  it('rejects expired JWTs', async () => {
    const expired = await jwt({}, { exp: Math.floor(Date.now() / 1000) - 60 });
    expectError(await as(expired).get('/v1/whoami'), 401, 'UNAUTHENTICATED', 'TOKEN_EXPIRED');
  });

  it.each([
    ['a wrong issuer', { iss: 'https://evil.example' }],
    ['a wrong audience', { aud: 'someone-else' }],
  ])('rejects JWTs with %s', async (_, claims) => {
    expectError(await as(await jwt(claims)).get('/v1/whoami'), 401, 'UNAUTHENTICATED', 'TOKEN_INVALID');
  });

  it('rejects JWTs signed by another key under the same key id (forged)', async () => {
    const other = await generateKeyPair('RS256');
    expectError(
      await as(await jwt({}, { key: other.privateKey })).get('/v1/whoami'),
      401,
      'UNAUTHENTICATED',
      'TOKEN_INVALID',
    );
  });

  it('rejects alg "none"', async () => {
    const claims = {
      iss: idp.issuer,
      aud: AUDIENCE,
      sub: 'alice-sub',
      exp: Math.floor(Date.now() / 1000) + 300,
    };
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    expectError(await as(unsigned).get('/v1/whoami'), 401, 'UNAUTHENTICATED', 'TOKEN_INVALID');
  });

  it('rejects an HS256 JWT whose HMAC key is the issuer public key (algorithm confusion)', async () => {
    const claims = {
      iss: idp.issuer,
      aud: AUDIENCE,
      sub: 'alice-sub',
      exp: Math.floor(Date.now() / 1000) + 300,
    };
    const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: 'k1' })}.${b64(claims)}`;
    const signature = createHmac('sha256', idp.publicPem).update(input).digest('base64url');
    expectError(await as(`${input}.${signature}`).get('/v1/whoami'), 401, 'UNAUTHENTICATED', 'TOKEN_INVALID');
  });

  it.each(['a.b.c', 'not-a-jwt', `${b64({ alg: 'RS256' })}.e30.`])(
    'rejects the malformed token %s',
    async (token) => {
      expectError(await as(token).get('/v1/whoami'), 401, 'UNAUTHENTICATED', 'TOKEN_INVALID');
    },
  );
});
