import { hash, randomBytes } from 'node:crypto';

/** Every API token starts with this, so secret scanners (and people) recognise a leaked one. */
export const TOKEN_PREFIX = 'qvr_';
/** `qvr_` and base64url characters: 43 of them (256 random bits) for generated tokens; QUIVER_BOOTSTRAP_TOKEN may be 32 to 128. */
export const TOKEN_PATTERN = /^qvr_[A-Za-z0-9_-]{32,128}$/;

/** A new random API token secret (shown once, never stored). */
export function newTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** What the database keeps instead of the secret. */
export function hashToken(secret: string): string {
  // One-shot: every authenticated request hashes its token (the cache is keyed by the hash, so the
  // token itself is never kept); this is 2.5x cheaper than a Hash object.
  return hash('sha256', secret, 'hex');
}

/** The visible start of a token (`qvr_AbCd1234`), enough to tell tokens apart in a list. */
export function tokenPrefix(secret: string): string {
  return secret.slice(0, TOKEN_PREFIX.length + 8);
}
