import { describe, expect, it } from 'vitest';
import { base64url, codeChallenge, randomToken } from '../src/oidc/pkce.js';
import {
  acceptCallback,
  authorizationUrl,
  checkDiscovery,
  chooseToken,
  isJwt,
  type PendingSignIn,
  readCallback,
  SignInError,
  tokenRequestBody,
} from '../src/oidc/protocol.js';

const ISSUER = 'https://login.example.com/realms/ml';

const pending: PendingSignIn = {
  issuer: ISSUER,
  clientId: 'quiver-console',
  redirectUri: 'https://quiver.example.com/',
  tokenEndpoint: `${ISSUER}/token`,
  state: 'state-123',
  nonce: 'nonce-456',
  verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
  returnTo: '#/models/fraud',
};

const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims: object) => `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;

/** The SignInError a call throws (the test fails if it throws nothing or something else). */
function signInError(call: () => unknown): SignInError {
  try {
    call();
  } catch (err) {
    expect(err).toBeInstanceOf(SignInError);
    return err as SignInError;
  }
  throw new Error('expected a SignInError');
}

describe('PKCE (RFC 7636)', () => {
  // Appendix B: 32 random octets, the verifier they encode to, and its S256 challenge.
  const OCTETS = [
    116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214,
    191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
  ];

  it('encodes the octets of the appendix B example to its verifier', () => {
    expect(base64url(new Uint8Array(OCTETS))).toBe('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
  });

  it('derives the S256 challenge of the appendix B example', async () => {
    expect(await codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('writes bytes as base64url without padding', () => {
    expect(base64url(new Uint8Array([0xfb, 0xff, 0xfe]))).toBe('-__-');
    expect(base64url(new Uint8Array([1]))).toBe('AQ');
  });

  it('makes 43-character verifiers that differ every time and are valid input to the challenge', async () => {
    const a = randomToken();
    const b = randomToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await codeChallenge(a)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it.each(['too-short', 'x'.repeat(129), `${'a'.repeat(42)}+`])('refuses the verifier %s', async (bad) => {
    await expect(codeChallenge(bad)).rejects.toThrow(/43 to 128/);
  });
});

describe('the authorization request', () => {
  it('carries the client, redirect URI, scopes, state, nonce and S256 challenge', () => {
    const url = new URL(
      authorizationUrl(`${ISSUER}/auth?kc_idp_hint=corp`, {
        clientId: 'quiver-console',
        redirectUri: 'https://quiver.example.com/',
        scopes: ['openid', 'profile', 'email'],
        state: 's',
        nonce: 'n',
        challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      }),
    );
    expect(`${url.origin}${url.pathname}`).toBe(`${ISSUER}/auth`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      kc_idp_hint: 'corp',
      response_type: 'code',
      client_id: 'quiver-console',
      redirect_uri: 'https://quiver.example.com/',
      scope: 'openid profile email',
      state: 's',
      nonce: 'n',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
  });

  it('accepts a discovery document of the configured issuer with S256', () => {
    const doc = {
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/auth`,
      token_endpoint: `${ISSUER}/token`,
      code_challenge_methods_supported: ['plain', 'S256'],
    };
    expect(checkDiscovery(doc, ISSUER).token_endpoint).toBe(`${ISSUER}/token`);
  });

  it.each([
    ['another issuer', { issuer: 'https://evil.example' }, /names issuer https:\/\/evil\.example/],
    ['no token endpoint', { token_endpoint: undefined }, /no usable token_endpoint/],
    ['a javascript: endpoint', { authorization_endpoint: 'javascript:alert(1)' }, /authorization_endpoint/],
    ['no S256', { code_challenge_methods_supported: ['plain'] }, /does not support PKCE with S256/],
  ])('refuses a discovery document with %s', (_, change, message) => {
    const doc = {
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/auth`,
      token_endpoint: `${ISSUER}/token`,
      ...change,
    };
    expect(signInError(() => checkDiscovery(doc, ISSUER)).message).toMatch(message);
  });
});

describe('the answer of the identity provider', () => {
  it('reads a code and its state from the query', () => {
    expect(readCallback('?code=abc&state=state-123&iss=x')).toEqual({
      kind: 'code',
      code: 'abc',
      state: 'state-123',
      iss: 'x',
    });
  });

  it('reads an error with its description', () => {
    expect(readCallback('?error=access_denied&error_description=User+cancelled&state=s')).toEqual({
      kind: 'error',
      error: 'access_denied',
      description: 'User cancelled',
      state: 's',
    });
  });

  it('sees no answer in a page opened otherwise', () => {
    expect(readCallback('')).toBeUndefined();
    expect(readCallback('?page=2')).toBeUndefined();
  });

  it('accepts a code whose state is the one this tab sent', () => {
    const callback = readCallback(`?code=abc&state=state-123&iss=${encodeURIComponent(ISSUER)}`)!;
    expect(acceptCallback(callback, pending)).toEqual({ code: 'abc', pending });
  });

  it.each([
    ['another state', '?code=abc&state=forged'],
    ['no state', '?code=abc'],
  ])('refuses a code with %s', (_, search) => {
    const err = signInError(() => acceptCallback(readCallback(search)!, pending));
    expect(err.message).toMatch(/state mismatch.*Sign in again/);
  });

  it('refuses a code when this tab started no sign-in', () => {
    const err = signInError(() => acceptCallback(readCallback('?code=abc&state=state-123')!, undefined));
    expect(err.message).toMatch(/not belong to a sign-in started in this tab/);
  });

  it('refuses a code from another issuer (RFC 9207 mix-up)', () => {
    const err = signInError(() =>
      acceptCallback(readCallback('?code=abc&state=state-123&iss=https://evil.example')!, pending),
    );
    expect(err.message).toMatch(/comes from https:\/\/evil\.example/);
  });

  it("reports the provider's refusal, and only for the state this tab sent", () => {
    const refused = readCallback('?error=access_denied&error_description=User+cancelled&state=state-123')!;
    expect(signInError(() => acceptCallback(refused, pending)).message).toBe(
      'login.example.com did not sign you in (access_denied: User cancelled). Try again, or sign in with an API token.',
    );
    const forged = readCallback('?error=access_denied&error_description=Call+us&state=forged')!;
    expect(signInError(() => acceptCallback(forged, pending)).message).toMatch(/state mismatch/);
  });
});

describe('redeeming the code', () => {
  it('sends the verifier and no secret', () => {
    expect(Object.fromEntries(tokenRequestBody(pending, 'abc'))).toEqual({
      grant_type: 'authorization_code',
      code: 'abc',
      redirect_uri: 'https://quiver.example.com/',
      client_id: 'quiver-console',
      code_verifier: pending.verifier,
    });
  });

  it('prefers a JWT access token, and takes the ID token when the access token is opaque', () => {
    const access = jwt({ aud: 'quiver' });
    const id = jwt({ aud: 'quiver-console', nonce: 'nonce-456' });
    expect(chooseToken({ access_token: access, id_token: id }, 'nonce-456')).toBe(access);
    expect(chooseToken({ access_token: 'opaque-2YotnFZFEjr1zCsicMWpAA', id_token: id }, 'nonce-456')).toBe(
      id,
    );
  });

  it('refuses an ID token without the nonce this sign-in sent', () => {
    const id = jwt({ nonce: 'someone-else' });
    const err = signInError(() => chooseToken({ access_token: jwt({}), id_token: id }, 'nonce-456'));
    expect(err.message).toMatch(/nonce/);
  });

  it('refuses an answer with no JWT at all', () => {
    expect(signInError(() => chooseToken({ access_token: 'opaque' }, 'n')).message).toMatch(/only JWTs/);
  });

  it('tells a JWT from an opaque token', () => {
    expect(isJwt(jwt({}))).toBe(true);
    expect(isJwt('a.b.c')).toBe(false);
    expect(isJwt('opaque')).toBe(false);
  });
});
