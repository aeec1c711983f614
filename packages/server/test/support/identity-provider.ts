import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';

/** The user the authorization endpoint signs in, without a login page. */
export interface TestUser {
  sub: string;
  name: string;
  groups: string[];
}

/** One request to the token endpoint and how it was answered. */
export interface TokenExchange {
  params: Record<string, string>;
  status: number;
  /** The OAuth error code of a refusal (`invalid_grant`, …). */
  error?: string;
  description?: string;
}

export interface IdentityProviderOptions {
  /** The public client the console uses (no secret). */
  clientId?: string;
  /** The `aud` of access tokens: what Quiver's QUIVER_OIDC_AUDIENCE names. */
  audience?: string;
}

/**
 * A small OpenID Provider served by the test itself, never the network: discovery, a JWKS, an
 * authorization endpoint that signs `user` in at once and sends the browser back with a code,
 * and a token endpoint that redeems the code for a public client only with the PKCE verifier
 * (S256) of the challenge it was issued for. Tokens are RS256 JWTs.
 *
 * What it checks is what a real provider checks; what it records (`authorizations`,
 * `exchanges`) lets a test prove what the client sent.
 */
export async function identityProvider(options: IdentityProviderOptions = {}) {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const codes = new Map<
    string,
    { redirectUri: string; challenge: string; nonce: string | undefined; user: TestUser }
  >();
  const idp = {
    issuer: '',
    clientId: options.clientId ?? 'quiver-console',
    audience: options.audience ?? 'quiver',
    /** Exact redirect URIs the client registered; an authorization request for another one is refused. */
    redirectUris: new Set<string>(),
    user: { sub: 'alice-sub', name: 'Alice', groups: ['ml-team'] } as TestUser,
    /** When set, the next authorization is refused with this OAuth error (the user declined, …). */
    refuseNext: undefined as string | undefined,
    /** Query parameters of every authorization request. */
    authorizations: [] as Record<string, string>[],
    exchanges: [] as TokenExchange[],
    publicKey,
    privateKey,
    publicPem: await exportSPKI(publicKey),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A browser keeps its connections open; they carry nothing once the test is done.
        server.closeAllConnections();
      }),
  };

  const sign = (claims: Record<string, unknown>, audience: string) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' })
      .setIssuer(idp.issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);

  const authorize = (params: Record<string, string>, res: ServerResponse) => {
    idp.authorizations.push(params);
    // RFC 6749 §4.1.2.1: an unknown client or redirect URI gets an error page, never a redirect.
    if (params.client_id !== idp.clientId || !idp.redirectUris.has(params.redirect_uri ?? '')) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('unknown client_id or redirect_uri');
      return;
    }
    const back = new URL(params.redirect_uri!);
    const answer = (values: Record<string, string | undefined>) => {
      for (const [k, v] of Object.entries({ ...values, state: params.state, iss: idp.issuer }))
        if (v !== undefined) back.searchParams.set(k, v);
      res.writeHead(302, { location: back.toString() }).end();
    };
    const refused = idp.refuseNext;
    idp.refuseNext = undefined;
    if (params.response_type !== 'code') return answer({ error: 'unsupported_response_type' });
    if (!params.code_challenge || params.code_challenge_method !== 'S256')
      return answer({ error: 'invalid_request', error_description: 'PKCE with S256 is required' });
    if (!params.scope?.split(' ').includes('openid')) return answer({ error: 'invalid_scope' });
    if (refused) return answer({ error: refused, error_description: 'The user declined to sign in' });
    const code = randomBytes(16).toString('base64url');
    codes.set(code, {
      redirectUri: params.redirect_uri!,
      challenge: params.code_challenge,
      nonce: params.nonce,
      user: { ...idp.user },
    });
    answer({ code });
  };

  const token = async (params: Record<string, string>) => {
    const refuse = (status: number, error: string, description: string) => {
      idp.exchanges.push({ params, status, error, description });
      return { status, body: { error, error_description: description } };
    };
    if (params.grant_type !== 'authorization_code')
      return refuse(400, 'unsupported_grant_type', 'only authorization_code');
    if (params.client_id !== idp.clientId) return refuse(401, 'invalid_client', 'unknown client');
    const grant = codes.get(params.code ?? '');
    // A code is redeemed once, whatever the outcome.
    codes.delete(params.code ?? '');
    if (!grant) return refuse(400, 'invalid_grant', 'unknown or used code');
    if (params.redirect_uri !== grant.redirectUri)
      return refuse(400, 'invalid_grant', 'redirect_uri differs from the authorization request');
    const verifier = params.code_verifier ?? '';
    if (createHash('sha256').update(verifier).digest('base64url') !== grant.challenge)
      return refuse(400, 'invalid_grant', 'PKCE verification failed');
    const { sub, name, groups } = grant.user;
    const body = {
      token_type: 'Bearer',
      expires_in: 300,
      access_token: await sign({ sub, name, groups }, idp.audience),
      id_token: await sign({ sub, name, nonce: grant.nonce }, idp.clientId),
    };
    idp.exchanges.push({ params, status: 200 });
    return { status: 200, body };
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', idp.issuer);
    // Browsers read discovery and the token endpoint cross-origin: CORS, without credentials.
    res.setHeader('access-control-allow-origin', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-headers': 'content-type',
        'access-control-allow-methods': 'GET, POST',
      });
      res.end();
      return;
    }
    const json = (status: number, body: unknown) =>
      res
        .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(body));
    if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer: idp.issuer,
        authorization_endpoint: `${idp.issuer}/authorize`,
        token_endpoint: `${idp.issuer}/token`,
        jwks_uri: `${idp.issuer}/jwks`,
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code'],
        code_challenge_methods_supported: ['S256'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['none'],
        authorization_response_iss_parameter_supported: true,
      });
    }
    if (req.method === 'GET' && url.pathname === '/jwks') return json(200, { keys: [jwk] });
    if (req.method === 'GET' && url.pathname === '/authorize')
      return authorize(Object.fromEntries(url.searchParams), res);
    if (req.method === 'POST' && url.pathname === '/token') {
      if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded'))
        return json(400, { error: 'invalid_request', error_description: 'form-encoded body expected' });
      const answer = await token(Object.fromEntries(new URLSearchParams(await text(req))));
      return json(answer.status, answer.body);
    }
    json(404, { error: 'not_found' });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  idp.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return idp;
}

export type IdentityProvider = Awaited<ReturnType<typeof identityProvider>>;

async function text(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
