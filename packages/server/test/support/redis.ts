import { Redis } from 'ioredis';

export const REDIS_URL = process.env.QUIVER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

let probe: Promise<boolean> | undefined;

/** Whether Redis answers. Under CI=true a missing server is an error, never a skip. */
export function redisAvailable(): Promise<boolean> {
  probe ??= (async () => {
    const client = new Redis(REDIS_URL, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      connectTimeout: 2_000,
    });
    try {
      await client.connect();
      await client.ping();
      return true;
    } catch (err) {
      if (process.env.CI === 'true') {
        throw new Error(
          `CI=true but Redis at ${REDIS_URL} does not answer (${(err as Error).message}); .ci/run must start it.`,
        );
      }
      console.warn(
        `[quiver tests] Redis at ${REDIS_URL} does not answer: skipping Redis suites. Start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`,
      );
      return false;
    } finally {
      client.disconnect();
    }
  })();
  return probe;
}

/** The cache buses to run a suite on: in-process always, Redis when it answers (always under CI). */
export async function cacheBuses(): Promise<('memory' | 'redis')[]> {
  return (await redisAvailable()) ? ['memory', 'redis'] : ['memory'];
}
