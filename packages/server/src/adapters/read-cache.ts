import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/config.js';
import type { InvalidationBus, ReadCache } from '../ports/cache.js';
import { ClusterBus } from './memory/cluster-bus.js';
import { MemoryReadCache, NoReadCache } from './memory/memory-cache.js';
import { RedisBus } from './redis/redis-bus.js';

/**
 * The read cache this instance runs, with the bus that keeps it coherent with the others:
 * Redis when configured (instances on several machines), node:cluster IPC between the
 * processes of one `quiver serve --workers N`, nothing for a single process.
 * `installation` names the database the instances share (the Redis channel is per installation).
 */
export async function readCacheFor(config: Config, installation: string): Promise<ReadCache> {
  if (config.cacheMaxMb === 0) return new NoReadCache();
  let bus: InvalidationBus | undefined;
  if (config.redisUrl)
    bus = await RedisBus.connect(config.redisUrl, `quiver:invalidate:${installation}`, randomUUID());
  else if (cluster.isWorker) bus = new ClusterBus();
  return new MemoryReadCache({ maxBytes: config.cacheMaxMb * 1024 * 1024, ttlMs: config.cacheTtlMs, bus });
}
