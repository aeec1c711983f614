/**
 * The authorization code flow with PKCE, as pure functions over URLs and JSON: what the console
 * sends to the identity provider, and how it checks what comes back. The browser's side
 * (storage, redirects, fetch) is in signin.ts.
 */

/** A sign-in failure the user can act on; its message says what to do. */
export class SignInError extends Error {
  override readonly name = 'SignInError';
}

/** The fields of an OpenID Provider's discovery document the console uses. */
export interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
}

/** A sign-in this tab started, kept in sessionStorage until the identity provider sends the user back. */
export interface PendingSignIn {
  issuer: string;
  clientId: string;
  redirectUri: string;
  tokenEndpoint: string;
  state: string;
  nonce: string;
  verifier: string;
  /** The console's hash route when sign-in started (`#/models/fraud`), restored afterwards. */
  returnTo: string;
}

/** What the identity provider sent back in the redirect URI's query (RFC 6749 §4.1.2). */
export type Callback =
  | { kind: 'code'; code: string; state: string | undefined; iss: string | undefined }
  | { kind: 'error'; error: string; description: string | undefined; state: string | undefined };

export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

/** The discovery document, checked: it must be the configured issuer's, with http(s) endpoints and S256. */
export function checkDiscovery(doc: unknown, issuer: string): Discovery {
  const d = (doc ?? {}) as Record<string, unknown>;
  if (d.issuer !== issuer) {
    throw new SignInError(
      `The identity provider's discovery document names issuer ${String(d.issuer)}, not ${issuer}: ask an administrator to set QUIVER_OIDC_ISSUER to the issuer exactly as the provider writes it.`,
    );
  }
  for (const field of ['authorization_endpoint', 'token_endpoint'] as const) {
    const url = d[field];
    if (typeof url !== 'string' || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
      throw new SignInError(`The identity provider's discovery document has no usable ${field}.`);
  }
  const methods = d.code_challenge_methods_supported;
  if (Array.isArray(methods) && !methods.includes('S256')) {
    throw new SignInError(
      `${hostOf(issuer)} does not support PKCE with S256, which the console requires: choose another identity provider or sign in with an API token.`,
    );
  }
  return d as unknown as Discovery;
}

/** The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636 §4.3). */
export function authorizationUrl(
  endpoint: string,
  request: {
    clientId: string;
    redirectUri: string;
    scopes: readonly string[];
    state: string;
    nonce: string;
    challenge: string;
  },
): string {
  // Parameters the endpoint already carries (some providers put the tenant there) are kept.
  const url = new URL(endpoint);
  const params = {
    response_type: 'code',
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    scope: request.scopes.join(' '),
    state: request.state,
    nonce: request.nonce,
    code_challenge: request.challenge,
    code_challenge_method: 'S256',
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.toString();
}

/** The identity provider's answer in a query string, or undefined when the page was opened otherwise. */
export function readCallback(search: string): Callback | undefined {
  const q = new URLSearchParams(search);
  const state = q.get('state') ?? undefined;
  const error = q.get('error');
  if (error !== null) {
    return { kind: 'error', error, description: q.get('error_description') ?? undefined, state };
  }
  const code = q.get('code');
  if (code === null) return undefined;
  return { kind: 'code', code, state, iss: q.get('iss') ?? undefined };
}

/**
 * Checks an answer against the sign-in this tab started and returns the code to redeem. The
 * state must match first: an answer this tab did not ask for (a forged link, an old tab) is
 * refused whatever it says.
 */
export function acceptCallback(
  callback: Callback,
  pending: PendingSignIn | undefined,
): { code: string; pending: PendingSignIn } {
  if (!pending) {
    throw new SignInError(
      'This sign-in answer does not belong to a sign-in started in this tab (it may be old, or opened in another tab). Sign in again.',
    );
  }
  if (callback.state !== pending.state) {
    throw new SignInError(
      'The sign-in answer does not match the sign-in this tab started (state mismatch), so it was ignored. Sign in again.',
    );
  }
  if (callback.kind === 'error') {
    const why = callback.description ? `${callback.error}: ${callback.description}` : callback.error;
    throw new SignInError(
      `${hostOf(pending.issuer)} did not sign you in (${why}). Try again, or sign in with an API token.`,
    );
  }
  // RFC 9207: when the provider names itself, it must be the one this tab went to.
  if (callback.iss !== undefined && callback.iss !== pending.issuer) {
    throw new SignInError(
      `The sign-in answer comes from ${callback.iss}, not from ${pending.issuer}, so it was ignored. Sign in again.`,
    );
  }
  return { code: callback.code, pending };
}

/** The token request of a public client (RFC 6749 §4.1.3, RFC 7636 §4.5): no secret, the verifier instead. */
export function tokenRequestBody(pending: PendingSignIn, code: string): URLSearchParams {
  return new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: pending.redirectUri,
    client_id: pending.clientId,
    code_verifier: pending.verifier,
  });
}

/**
 * The bearer token for Quiver from a token response: the access token when it is a JWT (its
 * audience is the API's), otherwise the ID token (whose audience is the client id). The ID
 * token's nonce must be the one this sign-in sent: a replayed or injected token is refused.
 */
export function chooseToken(response: unknown, nonce: string): string {
  const r = (response ?? {}) as Record<string, unknown>;
  const idToken = typeof r.id_token === 'string' ? r.id_token : undefined;
  if (idToken !== undefined && jwtClaims(idToken)?.nonce !== nonce) {
    throw new SignInError(
      'The ID token does not carry the nonce this sign-in sent, so it was refused. Sign in again.',
    );
  }
  if (typeof r.access_token === 'string' && isJwt(r.access_token)) return r.access_token;
  if (idToken !== undefined && isJwt(idToken)) return idToken;
  throw new SignInError(
    'The identity provider returned neither a JWT access token nor an ID token, and Quiver accepts only JWTs. Ask an administrator to check the client has the openid scope.',
  );
}

/** Whether a token is a JWS in compact form with a JSON header naming an algorithm. */
export function isJwt(token: string): boolean {
  const [header] = token.split('.');
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token) || header === undefined) return false;
  const decoded = decodeJson(header) as { alg?: unknown } | undefined;
  return typeof decoded?.alg === 'string';
}

/** The claims of a JWT, unverified (the server verifies the token it is given); undefined if unreadable. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1];
  const claims = payload === undefined ? undefined : decodeJson(payload);
  return claims !== null && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined;
}

function decodeJson(part: string): unknown {
  try {
    const binary = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

/** `login.example.com` from an issuer URL: how the console names the identity provider. */
export function hostOf(issuer: string): string {
  return URL.canParse(issuer) ? new URL(issuer).host : issuer;
}
