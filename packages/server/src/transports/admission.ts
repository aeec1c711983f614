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

  constructor(readonly limit: number) {}

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
}

/** The answer to a request the process has no room for. */
export function overloaded(limit: number): QuiverError {
  return new QuiverError(
    'OVERLOADED',
    `The server is at capacity (${limit} requests in progress); retry after the delay in Retry-After.`,
    { details: { retry_after_seconds: 1 } },
  );
}
