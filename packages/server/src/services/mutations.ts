import { hash } from 'node:crypto';
import { QuiverError } from '../domain/errors.js';
import type { Repositories } from '../ports/repositories.js';
import type { UnitOfWork } from '../ports/unit-of-work.js';
import type { CallContext } from './context.js';

/** One change a caller asks for: what it does, to which resource, with which input. */
export interface Mutation {
  /** The method name in the API's vocabulary: `CreateVersion`, `TransitionVersion`, `SetAlias`… */
  action: string;
  /**
   * The resource the change is made to: its full name (`namespaces/a/models/b/versions/3`), or
   * for a create whose name the database chooses, the parent it is created under.
   */
  resource: string;
  /** The validated input; it fingerprints Idempotency-Keys and digests the change for the audit log. */
  request: unknown;
}

/**
 * Hooks every mutation passes through. `inTransaction` runs inside the change's transaction
 * after its work (the audit log writes its event there, so there is no change without its
 * event); `committed` runs after the commit (caches invalidate there).
 */
export interface MutationObserver {
  inTransaction?(repos: Repositories, ctx: CallContext, mutation: Mutation, result: unknown): Promise<void>;
  committed?(ctx: CallContext, mutation: Mutation, result: unknown): void;
}

/**
 * The one way services change state: a write transaction, made safe to retry by an
 * Idempotency-Key stored in the same transaction, observed by the audit log and the caches.
 */
export class Mutations {
  readonly #observers: MutationObserver[] = [];

  constructor(
    private readonly uow: UnitOfWork,
    private readonly now: () => number,
  ) {}

  observe(observer: MutationObserver): this {
    this.#observers.push(observer);
    return this;
  }

  async run<T>(ctx: CallContext, mutation: Mutation, work: (repos: Repositories) => Promise<T>): Promise<T> {
    const result = await this.#write(ctx, mutation, work);
    if (result.fresh) for (const o of this.#observers) o.committed?.(ctx, mutation, result.value);
    return result.value;
  }

  async #observed<T>(
    repos: Repositories,
    ctx: CallContext,
    mutation: Mutation,
    work: (r: Repositories) => Promise<T>,
  ) {
    const value = await work(repos);
    for (const o of this.#observers) await o.inTransaction?.(repos, ctx, mutation, value);
    return value;
  }

  /**
   * Runs a write once per Idempotency-Key. The key is stored in the same transaction as the
   * change, so a retry after a crash or timeout returns the first result instead of a duplicate.
   * A concurrent twin that loses the race (unique violation, or the change's own conflict)
   * finds the winner's stored result and returns it. A replay changes nothing and is not observed.
   */
  async #write<T>(
    ctx: CallContext,
    mutation: Mutation,
    work: (repos: Repositories) => Promise<T>,
  ): Promise<{ value: T; fresh: boolean }> {
    const key = ctx.idempotencyKey;
    if (key === undefined) {
      const value = await this.uow.write((repos) => this.#observed(repos, ctx, mutation, work));
      return { value, fresh: true };
    }
    const operation = mutation.action;
    const scope = `${ctx.actor.principal} ${operation}`;
    const fingerprint = requestDigest(mutation.request);
    const replay = (stored: { fingerprint: string; response: unknown }) => {
      if (stored.fingerprint !== fingerprint) {
        throw new QuiverError(
          'IDEMPOTENCY_KEY_REUSED',
          `Idempotency-Key '${key.slice(0, 64)}' was already used for a different ${operation} request; use a new key.`,
          { details: { field: 'Idempotency-Key' } },
        );
      }
      return { value: stored.response as T, fresh: false };
    };
    try {
      return await this.uow.write(async (repos) => {
        const stored = await repos.idempotency.find(scope, key);
        if (stored) return replay(stored);
        const value = await this.#observed(repos, ctx, mutation, work);
        await repos.idempotency.save(scope, key, fingerprint, value, this.now());
        return { value, fresh: true };
      });
    } catch (err) {
      const stored = await this.uow
        .read((repos) => repos.idempotency.find(scope, key))
        .catch(() => undefined);
      if (stored) return replay(stored);
      throw err;
    }
  }
}

/** SHA-256 of a request's JSON form: the Idempotency-Key fingerprint and the audit log's digest of a change. */
export function requestDigest(request: unknown): string {
  return hash('sha256', JSON.stringify(request ?? null), 'base64url');
}

/** Idempotency keys: printable ASCII, 1–255 characters (the IETF draft's shape). */
export function checkIdempotencyKey(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(raw)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      'Idempotency-Key must be 1-255 printable ASCII characters without spaces.',
      {
        details: { field: 'Idempotency-Key' },
      },
    );
  }
  return raw;
}
