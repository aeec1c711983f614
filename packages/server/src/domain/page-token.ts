import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { QuiverError } from './errors.js';

/** A keyset position: the sort values of the last row of a page, then its primary key. */
export type Keyset = readonly (string | number | null)[];

export const DEFAULT_PAGE_SIZE = 50;
const MAC_RE = /^[A-Za-z0-9_-]{22}$/;
export const MAX_PAGE_SIZE = 1000;

/**
 * Page tokens are opaque to clients: base64url(JSON) plus an HMAC. The MAC covers the
 * query (parent, filter, order) so a token cannot be replayed against another query,
 * and any edit of the keyset is detected instead of silently skipping rows.
 */
export class PageTokenCodec {
  readonly #key: Buffer;

  constructor(secret: string | Buffer) {
    this.#key = createHash('sha256').update(secret).digest();
  }

  encode(query: string, keyset: Keyset): string {
    const body = Buffer.from(JSON.stringify({ q: fingerprint(query), k: keyset })).toString('base64url');
    return `${body}.${this.#mac(body)}`;
  }

  decode(query: string, token: string): Keyset {
    const dot = token.indexOf('.');
    const body = token.slice(0, dot);
    const mac = token.slice(dot + 1);
    const expected = this.#mac(body);
    // The shape check comes first: timingSafeEqual needs equal byte lengths, and non-ASCII text has more bytes than characters.
    if (dot <= 0 || !MAC_RE.test(mac) || !timingSafeEqual(Buffer.from(mac), Buffer.from(expected))) {
      throw invalid('it was not issued by this server or was altered');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw invalid('it is not readable');
    }
    const p = parsed as { q?: unknown; k?: unknown };
    if (p.q !== fingerprint(query)) throw invalid('it belongs to a different filter, order or parent');
    if (!Array.isArray(p.k)) throw invalid('it is not readable');
    return p.k as Keyset;
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url').slice(0, 22);
  }
}

function fingerprint(query: string): string {
  return createHash('sha256').update(query).digest('base64url').slice(0, 11);
}

function invalid(why: string): QuiverError {
  return new QuiverError(
    'INVALID_PAGE_TOKEN',
    `page_token is not valid: ${why}. Restart the listing without page_token.`,
    {
      details: { field: 'page_token' },
    },
  );
}

export function pageSize(requested: number | undefined): number {
  if (requested === undefined || requested === 0) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(requested) || requested < 0) {
    throw new QuiverError('INVALID_ARGUMENT', 'page_size must be a non-negative integer.', {
      details: { field: 'page_size' },
    });
  }
  return Math.min(requested, MAX_PAGE_SIZE);
}
