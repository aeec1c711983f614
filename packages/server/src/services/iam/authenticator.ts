import { createHash } from 'node:crypto';
import { QuiverError } from '../../domain/errors.js';
import { Grants } from '../../domain/permissions.js';
import type { Actor } from '../../domain/resources.js';
import type { Clock } from '../../ports/clock.js';
import type { UnitOfWork } from '../../ports/unit-of-work.js';
import type { CallContext } from '../context.js';
import type { Mutations } from '../mutations.js';
import { loadGrants } from './grants.js';
import type { OidcIdentity, OidcVerifier } from './oidc.js';
import { hashToken, TOKEN_PATTERN, TOKEN_PREFIX } from './secrets.js';

export interface AuthenticatorDeps {
  store: UnitOfWork;
  /** OIDC principals seen for the first time are created through here (and so audited). */
  mutations: Mutations;
  clock: Clock;
  /** False when QUIVER_AUTH=off: every caller is `anonymous` with every permission. */
  enabled: boolean;
  oidc?: OidcVerifier | undefined;
  /**
   * How long a token's principal and grants are reused without reading the database. Changes
   * made on this instance apply at once (`invalidate`); changes made on another instance
   * apply here within this bound.
   */
  cacheTtlMs: number;
  logger?: { warn(obj: object, msg: string): void } | undefined;
}

interface Entry {
  actor: Actor;
  /** API token id, for the last-used time (null for JWTs). */
  tokenId: string | null;
  /** Epoch ms until which the entry may be used: the cache TTL, or the token's expiry if sooner. */
  until: number;
}

/** Keeps the cache bounded however many distinct tokens call. */
const MAX_ENTRIES = 10_000;
/** last_used_time is written at most this often per token (and per instance). */
export const LAST_USED_WRITE_MS = 60_000;

export const ANONYMOUS_ADMIN: Actor = { principal: 'anonymous', grants: Grants.all() };

/**
 * Turns an `Authorization` header into an actor: an API token (`qvr_…`, looked up by its
 * SHA-256) or an OIDC JWT (verified against the issuer's keys). The principal and its grants
 * are cached per token, so a request with a known token does no I/O at all.
 */
export class Authenticator {
  readonly #cache = new Map<string, Entry>();
  readonly #touched = new Map<string, number>();

  constructor(private readonly deps: AuthenticatorDeps) {}

  get enabled(): boolean {
    return this.deps.enabled;
  }

  /**
   * The caller when the cache answers it now, without I/O (a token seen within the TTL), else
   * undefined: `authenticate` then reads, verifies or refuses it. Never throws.
   */
  cached(authorization: string | undefined): Actor | undefined {
    if (!this.deps.enabled) return ANONYMOUS_ADMIN;
    if (authorization === undefined) return undefined;
    const m = BEARER.exec(authorization);
    if (!m) return undefined;
    const now = this.deps.clock.now();
    const entry = this.#fresh(hashToken(m[1]!), now);
    if (entry === undefined) return undefined;
    if (entry.tokenId !== null) this.#used(entry.tokenId, now);
    return entry.actor;
  }

  async authenticate(authorization: string | undefined, ctx: Omit<CallContext, 'actor'>): Promise<Actor> {
    if (!this.deps.enabled) return ANONYMOUS_ADMIN;
    const token = bearer(authorization);
    const now = this.deps.clock.now();
    const key = hashToken(token);
    let entry = this.#fresh(key, now);
    if (entry === undefined) {
      entry = token.startsWith(TOKEN_PREFIX)
        ? await this.#apiToken(token, key, now)
        : await this.#jwt(token, now, ctx);
      this.#cache.delete(key);
      if (this.#cache.size >= MAX_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(key, entry);
    }
    if (entry.tokenId !== null) this.#used(entry.tokenId, now);
    return entry.actor;
  }

  /** The cached entry of a token's hash while it may still be used. */
  #fresh(key: string, now: number): Entry | undefined {
    const entry = this.#cache.get(key);
    return entry !== undefined && entry.until > now ? entry : undefined;
  }

  /** Forgets every cached principal: IAM changes made on this instance apply to the next request. */
  invalidate(): void {
    this.#cache.clear();
  }

  async #apiToken(token: string, hash: string, now: number): Promise<Entry> {
    if (!TOKEN_PATTERN.test(token)) throw invalid('The API token is malformed.');
    const found = await this.deps.store.read(async (repos) => {
      const hit = await repos.tokens.byHash(hash);
      if (!hit || hit.token.revoke_time !== null || hit.principal.disabled) return hit && { hit };
      return { hit, grants: await loadGrants(repos, hit.principal.id) };
    });
    if (!found) throw invalid('The API token is not known to this server.');
    const { token: record, principal } = found.hit;
    if (record.revoke_time !== null) {
      throw new QuiverError('TOKEN_REVOKED', `API token ${record.prefix}… was revoked.`, {
        details: { token: record.prefix },
      });
    }
    if (record.expire_time !== null && record.expire_time <= now) {
      throw new QuiverError('TOKEN_EXPIRED', `API token ${record.prefix}… expired.`, {
        details: { token: record.prefix },
      });
    }
    if (principal.disabled) throw disabled(principal.id);
    return {
      actor: { principal: principal.id, kind: principal.kind, groups: [], grants: found.grants! },
      tokenId: record.id,
      until: Math.min(now + this.deps.cacheTtlMs, record.expire_time ?? Number.POSITIVE_INFINITY),
    };
  }

  async #jwt(token: string, now: number, ctx: Omit<CallContext, 'actor'>): Promise<Entry> {
    if (!this.deps.oidc || token.split('.').length !== 3) {
      throw invalid(
        this.deps.oidc
          ? 'The bearer token is neither an API token (qvr_…) nor a JWT.'
          : 'The bearer token is not an API token (qvr_…), and this server accepts no JWTs (OIDC is not configured).',
      );
    }
    const identity = await this.deps.oidc.verify(token);
    const principal = await this.#principalOf(identity, ctx);
    if (principal.disabled) throw disabled(principal.id);
    const grants = await this.deps.store.read((repos) => loadGrants(repos, principal.id, identity.groups));
    return {
      actor: { principal: principal.id, kind: principal.kind, groups: identity.groups, grants },
      tokenId: null,
      until: Math.min(now + this.deps.cacheTtlMs, identity.expiresAt),
    };
  }

  /** The principal mapped to the OIDC subject, created (as a user) the first time it is seen. */
  async #principalOf(identity: OidcIdentity, ctx: Omit<CallContext, 'actor'>) {
    const existing = await this.deps.store.read((repos) => repos.principals.bySubject(identity.subject));
    if (existing) return existing;
    const id = `oidc-${createHash('sha256').update(identity.subject).digest('hex').slice(0, 24)}`;
    const time = this.deps.clock.now();
    const record = {
      id,
      kind: 'user' as const,
      display_name: identity.displayName,
      disabled: false,
      external_subject: identity.subject,
      create_time: time,
      update_time: time,
    };
    try {
      await this.deps.mutations.run(
        { ...ctx, actor: { principal: id }, idempotencyKey: undefined },
        { action: 'CreatePrincipal', resource: `principals/${id}`, request: { ...record, source: 'oidc' } },
        (repos) => repos.principals.create(record),
      );
      return record;
    } catch (err) {
      // A concurrent first request with the same identity created it.
      const raced = await this.deps.store.read((repos) => repos.principals.bySubject(identity.subject));
      if (raced) return raced;
      throw err;
    }
  }

  #used(tokenId: string, now: number): void {
    const last = this.#touched.get(tokenId) ?? 0;
    if (now - last < LAST_USED_WRITE_MS) return;
    this.#touched.set(tokenId, now);
    if (this.#touched.size > MAX_ENTRIES) this.#touched.delete(this.#touched.keys().next().value!);
    this.deps.store
      .write((repos) => repos.tokens.touch(tokenId, now))
      .catch((err: unknown) => this.deps.logger?.warn({ err }, 'recording the last use of a token failed'));
  }
}

const BEARER = /^Bearer +(\S{1,8192})\s*$/i;

function bearer(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') {
    throw new QuiverError(
      'CREDENTIALS_MISSING',
      'Authentication required: send Authorization: Bearer <token> (an API token qvr_… or an OIDC JWT).',
    );
  }
  const m = BEARER.exec(authorization);
  if (!m) throw invalid('The Authorization header must be "Bearer <token>".');
  return m[1]!;
}

function invalid(message: string): QuiverError {
  return new QuiverError('TOKEN_INVALID', message);
}

function disabled(id: string): QuiverError {
  return new QuiverError('PRINCIPAL_DISABLED', `Principal '${id}' is disabled.`, {
    details: { resource: `principals/${id}` },
  });
}
