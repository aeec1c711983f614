import { CLIENT_REASONS, QuiverError } from './errors.js';
import {
  type MethodInput,
  type MethodName,
  type MethodOutput,
  STREAMING_METHODS,
  type Transport,
  WRITE_METHODS,
} from './transport.js';

/** Per-call options, accepted as the last argument of every client method. */
export interface CallOptions {
  /** Aborts the call (and its retries); the call then rejects with `CANCELLED`. */
  signal?: AbortSignal | undefined;
  /**
   * Deadline of each attempt in milliseconds (default: the client's, 30 s). A slow attempt
   * is cut and, like any `UNAVAILABLE`, retried. For one deadline over all attempts pass
   * `signal: AbortSignal.timeout(ms)`. Uploads, downloads and watches have no default deadline
   * (see `STREAMING_METHODS`).
   */
  timeoutMs?: number | undefined;
  /** Idempotency key of a write; default: a fresh UUID per logical call, reused by its retries. */
  idempotencyKey?: string | undefined;
  /** Only apply the update if the resource still has this ETag (else `FAILED_PRECONDITION`, 412). */
  ifMatch?: string | undefined;
  /** Retries after the first attempt (default: the client's, 3). */
  retries?: number | undefined;
}

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff; doubled per retry, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Codes worth retrying: the server or network was unavailable, or a concurrent write won
 * a race (`ABORTED`). Writes are retried with the same idempotency key, so a retry of a
 * write that did commit returns the first result instead of applying it twice.
 */
const RETRYABLE = new Set(['UNAVAILABLE', 'ABORTED']);

/** Runs one logical call: idempotency key, per-attempt deadline, retries with backoff. */
export class Invoker {
  constructor(
    private readonly transport: Transport,
    private readonly defaults: { timeoutMs: number; retry: RetryPolicy },
  ) {}

  async call<M extends MethodName>(
    method: M,
    input: MethodInput<M>,
    options: CallOptions = {},
  ): Promise<MethodOutput<M>> {
    const { signal } = options;
    const streaming = STREAMING_METHODS[method] === true;
    const timeoutMs = options.timeoutMs ?? (streaming ? undefined : this.defaults.timeoutMs);
    const retries = options.retries ?? this.defaults.retry.retries;
    const idempotencyKey = WRITE_METHODS[method] ? (options.idempotencyKey ?? newUuid()) : undefined;
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw abortedByCaller(method, signal);
      const deadline = attemptSignal(signal, timeoutMs);
      try {
        return await this.transport.call(method, input, {
          signal: deadline.signal,
          idempotencyKey,
          ifMatch: options.ifMatch,
        });
      } catch (err) {
        if (signal?.aborted) throw abortedByCaller(method, signal);
        const error = deadline.timedOut()
          ? new QuiverError('UNAVAILABLE', `${method}: no answer within ${timeoutMs} ms.`, {
              details: { reason: CLIENT_REASONS.DEADLINE_EXCEEDED, timeout_ms: timeoutMs },
              cause: err,
            })
          : err instanceof QuiverError
            ? err
            : new QuiverError('INTERNAL', `${method}: ${err instanceof Error ? err.message : String(err)}`, {
                cause: err,
              });
        if (attempt >= retries || !RETRYABLE.has(error.code)) throw error;
        await sleep(backoff(attempt, this.defaults.retry), method, signal);
      } finally {
        // A stream outlives the call: keep the caller's signal linked so it can still cancel it.
        deadline.dispose(streaming);
      }
    }
  }
}

/** Full-range exponential backoff with jitter: half to all of min(max, base·2^attempt). */
function backoff(attempt: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

/**
 * The caller's signal plus this attempt's own deadline (none when `timeoutMs` is undefined),
 * without `AbortSignal.any` (not in every browser yet).
 */
function attemptSignal(outer: AbortSignal | undefined, timeoutMs: number | undefined) {
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onAbort, { once: true });
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          controller.abort(new QuiverError('UNAVAILABLE', `no answer within ${timeoutMs} ms`));
        }, timeoutMs);
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    /** Ends the deadline; `keepLinked` leaves the caller's signal able to abort what the attempt returned. */
    dispose(keepLinked = false) {
      clearTimeout(timer);
      if (!keepLinked) outer?.removeEventListener('abort', onAbort);
    },
  };
}

/** Waits `ms`, or rejects with {@link abortedByCaller} as soon as `signal` aborts. */
export function sleep(ms: number, method: string, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedByCaller(method, signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `AbortSignal.timeout()` fired: a deadline (`UNAVAILABLE`); any other abort: `CANCELLED`. */
export function abortedByCaller(method: string, signal: AbortSignal): QuiverError {
  const reason: unknown = signal.reason;
  if ((reason as { name?: unknown } | undefined)?.name === 'TimeoutError') {
    return new QuiverError('UNAVAILABLE', `${method}: the caller's deadline was exceeded.`, {
      details: { reason: CLIENT_REASONS.DEADLINE_EXCEEDED },
      cause: reason,
    });
  }
  return new QuiverError('CANCELLED', `${method}: cancelled by the caller.`, {
    details: { reason: CLIENT_REASONS.CANCELLED },
    cause: reason,
  });
}

/** `crypto.randomUUID` exists only in secure contexts in browsers; fall back to getRandomValues. */
export function newUuid(): string {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
