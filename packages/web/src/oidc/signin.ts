import { type AuthConfig, isQuiverError, type QuiverClient, type WhoAmI } from '@quiver/sdk';
import { signInWith } from '../session.js';
import { codeChallenge, randomToken } from './pkce.js';
import {
  acceptCallback,
  authorizationUrl,
  type Callback,
  checkDiscovery,
  chooseToken,
  type Discovery,
  discoveryUrl,
  hostOf,
  type PendingSignIn,
  readCallback,
  SignInError,
  tokenRequestBody,
} from './protocol.js';

export type OidcConfig = NonNullable<AuthConfig['oidc']>;

/**
 * The sign-in in flight, in sessionStorage: it survives the round trip to the identity provider
 * in this tab only, and is removed as soon as the answer is read (a code is redeemed once).
 */
const PENDING_KEY = 'quiver.oidc.pending';

/**
 * Sends the browser to the identity provider. Resolves only if it could not (the page is left
 * otherwise); rejects with a SignInError saying why.
 */
export async function startOidcSignIn(config: OidcConfig): Promise<void> {
  const discovery = await fetchDiscovery(config.issuer);
  const pending: PendingSignIn = {
    issuer: config.issuer,
    clientId: config.client_id,
    redirectUri: `${window.location.origin}/`,
    tokenEndpoint: discovery.token_endpoint,
    state: randomToken(),
    nonce: randomToken(),
    verifier: randomToken(32),
    returnTo: window.location.hash,
  };
  const url = authorizationUrl(discovery.authorization_endpoint, {
    clientId: pending.clientId,
    redirectUri: pending.redirectUri,
    scopes: config.scopes,
    state: pending.state,
    nonce: pending.nonce,
    challenge: await codeChallenge(pending.verifier),
  });
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  window.location.assign(url);
}

/** Whether this page load is the identity provider sending the user back. */
export function hasCallback(): boolean {
  return readCallback(window.location.search) !== undefined;
}

/**
 * Takes the identity provider's answer out of the address bar (the code must not stay in the
 * URL, its history entry or a bookmark), before anything is awaited.
 */
export function takeCallback(): Callback | undefined {
  const callback = readCallback(window.location.search);
  if (callback) window.history.replaceState(null, '', `${window.location.pathname}${window.location.hash}`);
  return callback;
}

/**
 * Finishes a sign-in: checks the answer against the one this tab started, redeems the code with
 * the PKCE verifier, then signs in with the token exactly as a pasted token is (whoami, kept in
 * sessionStorage).
 */
export async function completeOidcSignIn(callback: Callback): Promise<{ client: QuiverClient; me: WhoAmI }> {
  const { code, pending } = acceptCallback(callback, takePending());
  if (pending.returnTo)
    window.history.replaceState(null, '', `${window.location.pathname}${pending.returnTo}`);
  const token = chooseToken(await redeem(pending, code), pending.nonce);
  try {
    return await signInWith(token);
  } catch (err) {
    if (!isQuiverError(err, 'UNAUTHENTICATED')) throw err;
    const host = hostOf(pending.issuer);
    const fix =
      err.reason === 'TOKEN_INVALID'
        ? `An administrator must make QUIVER_OIDC_AUDIENCE the audience ${host} writes in its tokens (for an ID token, the client id ${pending.clientId}).`
        : 'Sign in again, or ask an administrator.';
    throw new SignInError(`${host} signed you in, but Quiver refused its token (${err.message}) ${fix}`);
  }
}

async function fetchDiscovery(issuer: string): Promise<Discovery> {
  const url = discoveryUrl(issuer);
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'omit' });
  } catch {
    throw new SignInError(
      `${hostOf(issuer)} could not be reached at ${url} (the network, or the provider does not allow this origin, ${window.location.origin}, by CORS). Try again later, or sign in with an API token.`,
    );
  }
  if (!res.ok) throw new SignInError(`${url} answered ${res.status}: the identity provider is not ready.`);
  const discovery = checkDiscovery(await res.json().catch(() => undefined), issuer);
  // The page may connect only to its own origin and the issuer's (its Content-Security-Policy).
  if (new URL(discovery.token_endpoint).origin !== new URL(issuer).origin) {
    throw new SignInError(
      `The token endpoint of ${hostOf(issuer)} (${discovery.token_endpoint}) is not on the issuer's origin, which is the only one the console may connect to. Sign in with an API token.`,
    );
  }
  return discovery;
}

async function redeem(pending: PendingSignIn, code: string): Promise<unknown> {
  const host = hostOf(pending.issuer);
  let res: Response;
  try {
    res = await fetch(pending.tokenEndpoint, {
      method: 'POST',
      // A form post with safelisted headers: a simple CORS request, no preflight.
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: tokenRequestBody(pending, code),
      credentials: 'omit',
    });
  } catch {
    throw new SignInError(
      `The token endpoint of ${host} could not be reached (the network, or it does not allow this origin, ${window.location.origin}, by CORS). Sign in again, or with an API token.`,
    );
  }
  const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (!res.ok) {
    const error = typeof body?.error === 'string' ? body.error : `HTTP ${res.status}`;
    const description = typeof body?.error_description === 'string' ? `: ${body.error_description}` : '';
    throw new SignInError(
      `${host} did not issue a token (${error}${description}). Sign in again; if it keeps failing, ask an administrator to check that client ${pending.clientId} is a public client allowing PKCE and the redirect URI ${pending.redirectUri}.`,
    );
  }
  return body;
}

function takePending(): PendingSignIn | undefined {
  const text = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as PendingSignIn;
  } catch {
    return undefined;
  }
}
