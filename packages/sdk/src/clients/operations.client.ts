import { CLIENT_REASONS, isQuiverError, QuiverError } from '../errors.js';
import { abortedByCaller, type CallOptions, type Invoker, sleep } from '../invoker.js';
import type { Operation } from '../types.js';

/** Options of `operations.watch`. */
export interface WatchOptions {
  /** Stops the watch; the iteration then throws `CANCELLED` (or `UNAVAILABLE` for `AbortSignal.timeout`). */
  signal?: AbortSignal | undefined;
}

/** Options of `operations.wait`. */
export interface WaitOptions extends WatchOptions {
  /** Called with the operation now and on every change (progress, message), the last time done. */
  onProgress?: ((operation: Operation) => void) | undefined;
  /** Gives up after this long with `UNAVAILABLE` (reason `DEADLINE_EXCEEDED`); the operation goes on. */
  timeoutMs?: number | undefined;
}

/** Dropped watch streams are reopened this many times in a row before the error is thrown. */
const RECONNECTS = 5;

/**
 * Long-running operations (AIP-151): deploys, updates and undeploys answer at once with an
 * operation that a worker then carries out. Read it, follow it live, or wait for it.
 */
export class OperationsClient {
  /** @internal */
  constructor(private readonly invoker: Invoker) {}

  /**
   * Reads an operation by name (`operations/0193…` or the bare id).
   *
   * @example
   * ```ts
   * const op = await client.operations.get('operations/0193c5e2-…');
   * console.log(op.done, op.metadata.progress, op.metadata.message);
   * ```
   */
  get<R = Record<string, unknown>>(name: string, options?: CallOptions): Promise<Operation<R>> {
    return this.invoker.call('GetOperation', { operation: name }, options) as Promise<Operation<R>>;
  }

  /**
   * Follows an operation live (Server-Sent Events): yields it now and on every change, and
   * ends after yielding it done (failed operations included: check `error`). A dropped
   * connection is reopened; breaking out of the loop closes it.
   *
   * @example
   * ```ts
   * for await (const op of client.operations.watch(name)) {
   *   console.log(`${op.metadata.progress}% ${op.metadata.message}`);
   * }
   * ```
   */
  async *watch<R = Record<string, unknown>>(
    name: string,
    options: WatchOptions = {},
  ): AsyncGenerator<Operation<R>, void, undefined> {
    const { signal } = options;
    let last = '';
    let failures = 0;
    for (;;) {
      let failure: unknown;
      try {
        const stream = await this.invoker.call('WatchOperation', { operation: name }, { signal });
        for await (const op of stream) {
          failures = 0;
          const text = JSON.stringify(op);
          if (text !== last) {
            last = text;
            yield op as Operation<R>;
          }
          if (op.done) return;
        }
        failure = new QuiverError(
          'UNAVAILABLE',
          `The watch of ${name} ended before the operation was done.`,
          {
            details: { reason: CLIENT_REASONS.NETWORK_ERROR },
          },
        );
      } catch (err) {
        if (signal?.aborted) throw abortedByCaller('WatchOperation', signal);
        failure = err;
      }
      if (!isQuiverError(failure, 'UNAVAILABLE') || ++failures > RECONNECTS) throw failure;
      await sleep(Math.min(5_000, 100 * 2 ** failures), 'WatchOperation', signal);
    }
  }

  /**
   * Waits until an operation is done and resolves with it; a failed operation rejects with
   * its error as a {@link QuiverError} (code, message and details of the failure, plus
   * `details.operation`).
   *
   * @example
   * ```ts
   * const op = await client.deployments.create({ deployment_id: 'fraud-prod', model, version: '@champion' });
   * try {
   *   const done = await client.operations.wait(op.name, {
   *     onProgress: (o) => console.log(`${o.metadata.progress}% ${o.metadata.message}`),
   *     timeoutMs: 120_000,
   *   });
   *   console.log(done.result);
   * } catch (err) {
   *   if (isQuiverError(err)) console.error(err.code, err.message);
   * }
   * ```
   */
  async wait<R = Record<string, unknown>>(name: string, options: WaitOptions = {}): Promise<Operation<R>> {
    const { onProgress, timeoutMs } = options;
    const deadline = new AbortController();
    let timedOut = false;
    const onAbort = () => deadline.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            deadline.abort();
          }, timeoutMs);
    try {
      for await (const op of this.watch<R>(name, { signal: deadline.signal })) {
        onProgress?.(op as Operation);
        if (op.done) return finished(op);
      }
      throw new QuiverError('INTERNAL', `The watch of ${name} ended without the operation being done.`);
    } catch (err) {
      if (timedOut) {
        throw new QuiverError('UNAVAILABLE', `${name} was not done within ${timeoutMs} ms; it goes on.`, {
          details: { reason: CLIENT_REASONS.DEADLINE_EXCEEDED, timeout_ms: timeoutMs, operation: name },
          cause: err,
        });
      }
      throw err;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** A done operation, or its error thrown as a QuiverError. */
export function finished<R>(op: Operation<R>): Operation<R> {
  if (op.error) throw operationError(op);
  return op;
}

/**
 * The error of a failed operation as a {@link QuiverError}, with the operation's name in
 * `details.operation`.
 *
 * @example
 * ```ts
 * const op = await client.operations.get(name);
 * if (op.done && op.error) console.error(operationError(op).reason);
 * ```
 */
export function operationError(op: Operation<unknown>): QuiverError {
  const error = op.error ?? { code: 'INTERNAL', message: `${op.name} failed.`, details: {} };
  return new QuiverError(error.code, error.message, { details: { ...error.details, operation: op.name } });
}

/**
 * A long-running operation as a create, update or delete returns it: the operation as last
 * seen (`operation`), and ways to follow it. Serialises to the operation's JSON.
 *
 * @example
 * ```ts
 * const op = await client.deployments.create({ deployment_id: 'fraud-prod', model, version: 3 });
 * console.log(op.name); // operations/0193…
 * const done = await op.wait({ onProgress: (o) => console.log(o.metadata.message) });
 * console.log(done.result?.status); // 'ready'
 * ```
 */
export class OperationHandle<R = Record<string, unknown>> {
  #operation: Operation<R>;

  /** @internal */
  constructor(
    private readonly operations: OperationsClient,
    operation: Operation<R>,
  ) {
    this.#operation = operation;
  }

  /** `operations/{id}`. */
  get name(): string {
    return this.#operation.name;
  }

  /** The operation as last seen (first: the server's answer to the request). */
  get operation(): Operation<R> {
    return this.#operation;
  }

  get done(): boolean {
    return this.#operation.done;
  }

  /**
   * Reads the operation again.
   *
   * @example
   * ```ts
   * const { metadata } = await op.refresh();
   * ```
   */
  async refresh(options?: CallOptions): Promise<Operation<R>> {
    this.#operation = await this.operations.get<R>(this.name, options);
    return this.#operation;
  }

  /**
   * Follows the operation live until it is done (see `operations.watch`).
   *
   * @example
   * ```ts
   * for await (const o of op.watch()) console.log(o.metadata.progress);
   * ```
   */
  async *watch(options: WatchOptions = {}): AsyncGenerator<Operation<R>, void, undefined> {
    if (this.#operation.done) {
      yield this.#operation;
      return;
    }
    for await (const o of this.operations.watch<R>(this.name, options)) {
      this.#operation = o;
      yield o;
    }
  }

  /**
   * Waits until the operation is done (see `operations.wait`): resolves with it, or rejects
   * with its error as a QuiverError.
   *
   * @example
   * ```ts
   * const done = await op.wait({ timeoutMs: 60_000 });
   * ```
   */
  async wait(options: WaitOptions = {}): Promise<Operation<R>> {
    if (this.#operation.done) {
      options.onProgress?.(this.#operation as Operation);
      return finished(this.#operation);
    }
    const onProgress = (o: Operation) => {
      this.#operation = o as Operation<R>;
      options.onProgress?.(o);
    };
    return this.operations.wait<R>(this.name, { ...options, onProgress });
  }

  /** The operation as last seen, so `JSON.stringify(handle)` prints what the API returned. */
  toJSON(): Operation<R> {
    return this.#operation;
  }
}
