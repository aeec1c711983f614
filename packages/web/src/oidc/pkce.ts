/** Proof Key for Code Exchange (RFC 7636) with WebCrypto: no dependency, no secret in the page. */

/** base64url without padding (RFC 4648 §5), as PKCE and JWTs write bytes. */
export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * `bytes` random bytes from the platform's CSPRNG as base64url: the default 32 make a
 * 43-character code verifier, the length RFC 7636 §4.1 recommends; state and nonce use it too.
 */
export function randomToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The characters and length RFC 7636 §4.1 allows a code verifier. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** The S256 code challenge of a verifier: BASE64URL(SHA-256(ASCII(verifier))), RFC 7636 §4.2. */
export async function codeChallenge(verifier: string): Promise<string> {
  if (!VERIFIER.test(verifier)) {
    throw new Error('A PKCE code verifier is 43 to 128 characters of A-Z, a-z, 0-9, "-", ".", "_", "~".');
  }
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}
