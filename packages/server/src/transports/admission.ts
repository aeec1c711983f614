import { QuiverError } from '../domain/errors.js';

/**
 * Load shedding. Each process admits at most `limit` requests at once (REST and gRPC together);
 * past that it answers at once with UNAVAILABLE and `Retry-After` instead of queueing more work
 * than it can finish, so latency stays bounded and clients back off (the SDK retries UNAVAILABLE).
 * The limit is set well above what a saturated process holds in normal operation (a request in
 * flight is one awaiting the database, a batch commit or the runtime), so it only acts when
 * clients outnumber what the process can serve.
 */
export class Admission {
  #inFlight = 0;
  #shed = 0;
  /** Requests waiting for a later turn of the event loop, in arrival order. */
  readonly #waiting: (() => void)[] = [];
  /** When the current turn's slice began (undefined between turns). */
  #turnStart: number | undefined;
  #drainScheduled = false;
  #deferred = 0;

  /**
   * @param limit requests in progress at once; 0 = no limit.
   * @param sliceMs request work one turn of the event loop may start; 0 = no slicing (see `turn`).
   */
  constructor(
    readonly limit: number,
    readonly sliceMs = 0,
  ) {}

  /**
   * Time slices. Node accepts ONE new connection per turn of its event loop (libuv 1.45 stopped
   * accepting in a loop), so when a turn runs the work of hundreds of requests (every socket that
   * became readable), connections wait in the kernel's accept queue for many turns: at 1,000
   * connections clients waited over 10 s to be accepted while the server kept busy with the
   * others. So a turn starts at most `sliceMs` of request work; requests past it wait, in arrival
   * order, for the following turns, each of which also accepts a connection and reads new data.
   *
   * Returns undefined when the request may run now, or a promise that resolves when it may.
   */
  turn(): Promise<void> | undefined {
    if (this.sliceMs <= 0) return undefined;
    const now = performance.now();
    if (this.#turnStart === undefined) {
      this.#turnStart = now;
      this.#scheduleDrain();
    }
    if (this.#waiting.length === 0 && now - this.#turnStart < this.sliceMs) return undefined;
    this.#deferred++;
    return new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    // setImmediate runs after this turn's I/O callbacks; one scheduled from inside it runs in the next turn.
    setImmediate(this.#drain);
  }

  readonly #drain = (): void => {
    this.#drainScheduled = false;
    const start = performance.now();
    this.#turnStart = start;
    const release = (): void => {
      if (this.#waiting.length === 0) {
        // Nothing queued: the next request to arrive opens a new slice.
        this.#turnStart = undefined;
        return;
      }
      if (performance.now() - start >= this.sliceMs) {
        this.#scheduleDrain();
        return;
      }
      this.#waiting.shift()!();
      // The released request's synchronous work runs in the microtasks queued before this one.
      queueMicrotask(release);
    };
    release();
  };

  /** Takes a slot, or refuses (counted) when all are taken. 0 = no limit. */
  enter(): boolean {
    if (this.limit > 0 && this.#inFlight >= this.limit) {
      this.#shed++;
      return false;
    }
    this.#inFlight++;
    return true;
  }

  leave(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests refused since start. */
  get shed(): number {
    return this.#shed;
  }

  /** Requests that waited for a later turn since start, and how many wait now. */
  get deferred(): { total: number; waiting: number } {
    return { total: this.#deferred, waiting: this.#waiting.length };
  }
}

/** The answer to a request the process has no room for. */
export function overloaded(limit: number): QuiverError {
  return new QuiverError(
    'OVERLOADED',
    `The server is at capacity (${limit} requests in progress); retry after the delay in Retry-After.`,
    { details: { retry_after_seconds: 1 } },
  );
}
