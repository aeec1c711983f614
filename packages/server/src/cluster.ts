import cluster, { type Worker } from 'node:cluster';
import { relayInvalidations } from './adapters/memory/cluster-bus.js';
import { SqlStore } from './adapters/sql/store.js';
import type { Config } from './config/config.js';
import { dialectFor } from './main.js';

/** What a cluster worker tells the primary once it listens. */
export interface ListeningMessage {
  quiver: 'listening';
  address: string;
  grpcPort: number;
}

export interface RunningCluster {
  address: string;
  grpcPort: number;
  workers: number;
  /** Asks every worker to shut down gracefully and waits for them. */
  close(): Promise<void>;
}

/**
 * Starts `config.workers` processes that each run a whole Quiver and share its ports (node's
 * cluster hands connections out round-robin). The primary migrates the database first, so
 * workers never race on migrations, and stops them all together. A worker that dies is not
 * silently replaced: the failure is logged and the primary exits so a supervisor can act.
 */
export async function startCluster(
  config: Config,
  onWorkerDeath: (message: string) => void,
): Promise<RunningCluster> {
  if (!cluster.isPrimary) throw new Error('startCluster runs in the primary process only.');
  const store = await SqlStore.open(dialectFor(config));
  await store.close();
  const workers: Worker[] = [];
  // Each worker's committed changes invalidate the other workers' read caches.
  relayInvalidations();
  let stopping = false;
  const listening = await Promise.all(
    Array.from({ length: config.workers }, (_, i) => {
      const worker = cluster.fork({ QUIVER_WORKER_INDEX: String(i) });
      workers.push(worker);
      worker.on('exit', (code, signal) => {
        if (!stopping) onWorkerDeath(`worker ${i} (pid ${worker.process.pid}) exited (${signal ?? code})`);
      });
      return new Promise<ListeningMessage>((resolve, reject) => {
        worker.on('message', (m: ListeningMessage) => m?.quiver === 'listening' && resolve(m));
        worker.once('exit', (code) => reject(new Error(`worker ${i} exited (${code}) before it listened`)));
      });
    }),
  );
  const first = listening[0]!;
  return {
    address: first.address,
    grpcPort: first.grpcPort,
    workers: workers.length,
    async close() {
      stopping = true;
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve) => {
              if (w.isDead()) return resolve();
              w.once('exit', () => resolve());
              w.process.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}

/** In a cluster worker: tells the primary where this worker listens. */
export function reportListening(address: string, grpcPort: number): void {
  if (cluster.isWorker) process.send?.({ quiver: 'listening', address, grpcPort } satisfies ListeningMessage);
}

export const isClusterWorker = () => cluster.isWorker;
