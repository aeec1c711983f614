import { createHash } from 'node:crypto';
import { QuiverError } from '../domain/errors.js';
import type { Repositories } from '../ports/repositories.js';
import type { UnitOfWork } from '../ports/unit-of-work.js';
import type { CallContext } from './context.js';

/**
 * Runs a write once per Idempotency-Key. The key is stored in the same transaction as the
 * change, so a retry after a crash or timeout returns the first result instead of a duplicate.
 * A concurrent twin that loses the race (unique violation, or the change's own conflict)
 * finds the winner's stored result and returns it.
 */
export async function idempotentWrite<T>(
  uow: UnitOfWork,
  ctx: CallContext,
  operation: string,
  request: unknown,
  now: () => number,
  work: (repos: Repositories) => Promise<T>,
): Promise<T> {
  const key = ctx.idempotencyKey;
  if (key === undefined) return uow.write(work);
  const scope = `${ctx.actor.principal} ${operation}`;
  const fingerprint = createHash('sha256').update(JSON.stringify(request)).digest('base64url');
  const replay = (stored: { fingerprint: string; response: unknown }): T => {
    if (stored.fingerprint !== fingerprint) {
      throw new QuiverError(
        'IDEMPOTENCY_KEY_REUSED',
        `Idempotency-Key '${key.slice(0, 64)}' was already used for a different ${operation} request; use a new key.`,
        { details: { field: 'Idempotency-Key' } },
      );
    }
    return stored.response as T;
  };
  try {
    return await uow.write(async (repos) => {
      const stored = await repos.idempotency.find(scope, key);
      if (stored) return replay(stored);
      const result = await work(repos);
      await repos.idempotency.save(scope, key, fingerprint, result, now());
      return result;
    });
  } catch (err) {
    const stored = await uow.read((repos) => repos.idempotency.find(scope, key)).catch(() => undefined);
    if (stored) return replay(stored);
    throw err;
  }
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
