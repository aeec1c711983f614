import { QuiverError } from '../domain/errors.js';

/**
 * Load shedding. Each process admits a request only while it can answer it in reasonable time
 * (REST and gRPC together); otherwise it answers at once with UNAVAILABLE and `Retry-After`
 * instead of queueing more work than it can finish, so latency stays bounded and clients back off
 * (the SDK retries UNAVAILABLE). Two signals, either of which refuses:
 *
 * - at most `limit` requests in progress. A request in flight is one awaiting the database, a
 *   batch commit or the runtime; the limit is set well above what a saturated process holds in
 *   normal operation, so it only acts when clients outnumber what the process can serve.
 * - the event loop's delay under `maxDelayMs`. Work that never waits (requests answered from the
 *   cache, batch reads) does not stay in flight: it makes each turn of the loop longer, and every
 *   request waits for the whole turn before it is even read. A turn that took longer than the
 *   bound means the requests arriving now would wait as long, so they are refused until turns are
 *   short again.
 */
export class Admission {
  #inFlight = 0;
  #shed = 0;

  constructor(
    readonly limit: number,
    private readonly delay?: { maxMs: number; lag: LoopLag },
  ) {}

  /** Takes a slot, or refuses (counted) with the reason. A limit of 0 = no limit. */
  enter(): QuiverError | undefined {
    if (this.limit > 0 && this.#inFlight >= this.limit) {
      this.#shed++;
      return overloaded(`${this.limit} requests in progress`);
    }
    if (this.delay && this.delay.lag.ms > this.delay.maxMs) {
      this.#shed++;
      return overloaded(`its event loop is ${Math.round(this.delay.lag.ms)} ms behind`);
    }
    this.#inFlight++;
    return undefined;
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
}

/**
 * How late the event loop runs: a timer every `everyMs` notes by how much it fired after it was
 * due, which is how long the turn before it took. Unreferenced: it never keeps a process alive.
 */
export class LoopLag {
  #ms = 0;
  #timer: NodeJS.Timeout | undefined;

  /**
   * `late`, when given, is told of every turn that ran later than `late.overMs`: how late, so an
   * operator learns from the logs when (and how long) the process could not keep up.
   */
  constructor(
    private readonly everyMs = 50,
    private readonly late?: { overMs: number; report(ms: number): void },
  ) {}

  /** The delay measured last, in ms. */
  get ms(): number {
    return this.#ms;
  }

  start(): this {
    if (this.#timer) return this;
    let due = performance.now() + this.everyMs;
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.#ms = Math.max(0, now - due);
      due = now + this.everyMs;
      if (this.late && this.#ms > this.late.overMs) this.late.report(this.#ms);
    }, this.everyMs);
    this.#timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#ms = 0;
  }
}

/** The answer to a request the process has no room for. */
export function overloaded(why: string): QuiverError {
  return new QuiverError(
    'OVERLOADED',
    `The server is at capacity (${why}); retry after the delay in Retry-After.`,
    { details: { retry_after_seconds: 1 } },
  );
}

/**
 * Turns late turns of the event loop into warnings: the first at once, then at most one every
 * `everyMs` summing up the ones in between (how many, the longest), so a saturated process logs
 * what is happening without flooding its own logs.
 */
export function lateLoopWarnings(
  warn: (fields: object, message: string) => void,
  boundMs: number,
  everyMs = 10_000,
): (ms: number) => void {
  let last = Number.NEGATIVE_INFINITY;
  let count = 0;
  let worst = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (count === 0) return;
    last = performance.now();
    warn(
      { late_turns: count, worst_ms: Math.round(worst), bound_ms: boundMs },
      `The event loop ran up to ${Math.round(worst)} ms late (${count} turn${count === 1 ? '' : 's'} over ${boundMs} ms): new requests are refused with 503/UNAVAILABLE until it catches up (QUIVER_MAX_EVENT_LOOP_DELAY_MS).`,
    );
    count = 0;
    worst = 0;
  };
  return (ms) => {
    count++;
    worst = Math.max(worst, ms);
    const wait = last + everyMs - performance.now();
    if (wait <= 0) return flush();
    // Summed up when the interval is over, also when no late turn follows.
    if (scheduled) return;
    scheduled = true;
    setTimeout(flush, wait).unref();
  };
}
