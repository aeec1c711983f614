import cluster from 'node:cluster';
import type { InvalidationBus } from '../../ports/cache.js';

/** What a cluster worker sends the primary, which relays it to every other worker. */
export interface InvalidateMessage {
  quiver: 'invalidate';
  tags: readonly string[];
}

export function isInvalidateMessage(m: unknown): m is InvalidateMessage {
  return (
    typeof m === 'object' &&
    m !== null &&
    (m as InvalidateMessage).quiver === 'invalidate' &&
    Array.isArray((m as InvalidateMessage).tags)
  );
}

/**
 * Invalidations between the processes of one `quiver serve --workers N` (node:cluster IPC): the
 * worker that committed a change tells the primary, the primary tells the others. Sub-millisecond
 * on one machine, no server to run.
 */
export class ClusterBus implements InvalidationBus {
  readonly name = 'cluster';
  #listener: ((m: unknown) => void) | undefined;

  publish(tags: readonly string[]): void {
    const message: InvalidateMessage = { quiver: 'invalidate', tags };
    if (process.connected) process.send?.(message);
  }

  subscribe(onTags: (tags: readonly string[]) => void): void {
    this.#listener = (m: unknown) => {
      if (isInvalidateMessage(m)) onTags(m.tags);
    };
    process.on('message', this.#listener);
  }

  async close(): Promise<void> {
    if (this.#listener) process.off('message', this.#listener);
  }
}

/** The primary's half: relays each worker's invalidations to every other worker. */
export function relayInvalidations(): void {
  cluster.on('message', (from, message) => {
    if (!isInvalidateMessage(message)) return;
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker && worker !== from && worker.isConnected()) worker.send(message);
    }
  });
}
