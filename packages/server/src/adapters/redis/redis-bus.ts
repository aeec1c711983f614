import { Redis } from 'ioredis';
import type { InvalidationBus } from '../../ports/cache.js';

/**
 * Invalidations between instances on different machines, over Redis pub/sub. Each message
 * carries the publishing instance's id so that it does not re-apply its own (it already has).
 * The channel is per database, so two installations sharing a Redis never mix.
 */
export class RedisBus implements InvalidationBus {
  readonly name = 'redis';
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #channel: string;
  readonly #origin: string;

  private constructor(url: string, channel: string, origin: string) {
    const options = { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true };
    this.#pub = new Redis(url, options);
    this.#sub = new Redis(url, options);
    this.#channel = channel;
    this.#origin = origin;
  }

  /** Connects both clients (fails fast with a clear message when Redis does not answer). */
  static async connect(url: string, channel: string, origin: string): Promise<RedisBus> {
    const bus = new RedisBus(url, channel, origin);
    try {
      await Promise.all([bus.#pub.connect(), bus.#sub.connect()]);
      await bus.#sub.subscribe(channel);
    } catch (err) {
      bus.#pub.disconnect();
      bus.#sub.disconnect();
      throw new Error(
        `Redis at ${redact(url)} did not answer (${(err as Error).message}); check QUIVER_REDIS_URL.`,
        {
          cause: err,
        },
      );
    }
    return bus;
  }

  publish(tags: readonly string[]): void {
    // Fire and forget: a lost message is bounded by the cache TTL (see InvalidationBus).
    this.#pub.publish(this.#channel, JSON.stringify({ o: this.#origin, t: tags })).catch(() => {});
  }

  subscribe(onTags: (tags: readonly string[]) => void): void {
    this.#sub.on('message', (channel: string, text: string) => {
      if (channel !== this.#channel) return;
      try {
        const m = JSON.parse(text) as { o?: unknown; t?: unknown };
        if (m.o !== this.#origin && Array.isArray(m.t))
          onTags(m.t.filter((t): t is string => typeof t === 'string'));
      } catch {
        // Not ours (someone else published on the channel): ignore.
      }
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#sub.quit(), this.#pub.quit()]);
  }
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
