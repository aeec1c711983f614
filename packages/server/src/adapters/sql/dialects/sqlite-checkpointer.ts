import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The thread's code. It is evaluated (not loaded from a file) so that it runs the same from
 * the compiled build and from the TypeScript sources under test. CommonJS, plain JavaScript.
 */
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 100');
db.pragma('synchronous = NORMAL');
let timer;
let lastLog = -1;
let lastReport = 0;
let idleSince = Date.now();
const tick = () => {
  let idle = false;
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    // Nothing written for a second, and all of it copied: the database is resting.
    const quiet = row.log === lastLog && row.checkpointed === row.log;
    if (!quiet) idleSince = Date.now();
    idle = quiet && Date.now() - idleSince >= 1000;
    lastLog = row.log;
    if (!idle || Date.now() - lastReport >= 1000) {
      lastReport = Date.now();
      parentPort.postMessage({ checkpointed: row.checkpointed, log: row.log });
    }
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
  timer = setTimeout(tick, idle ? workerData.idleMs : workerData.intervalMs);
};
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
tick();
`;

export interface CheckpointerStats {
  /** Checkpoint passes run, and the WAL frames the last one found and copied. */
  runs: number;
  lastLog: number;
  lastCheckpointed: number;
  lastError: string | undefined;
}

/**
 * Copies the WAL back into the database file from a thread of its own. SQLite otherwise runs
 * that checkpoint inside whichever COMMIT crosses the WAL size threshold, on the event loop:
 * measured at 1M versions, it was half the cost of a create-version commit on average and the
 * whole of its tail. A PASSIVE checkpoint never blocks readers or the writer; the connection's
 * own auto-checkpoint stays on, with a higher threshold, as the backstop should this thread
 * fall behind.
 *
 * Small and often: each pass ends with an fsync of what it copied, and while the kernel flushes
 * it, the writer's own appends to the WAL wait (ext4 on this machine). Passes every 10 ms under
 * sustained writes kept those waits to a few ms (commit p99 26 ms at 1M versions), where passes
 * every 250 ms stalled a commit for 100 ms or more; every 3 ms took create's p99 at 64 connections
 * from 53 to 39–45 ms (1 ms was no better and cost throughput). A database without writes for a
 * second is looked at every 100 ms (or ten times less often, whichever is rarer).
 */
export class SqliteCheckpointer {
  readonly stats: CheckpointerStats = { runs: 0, lastLog: 0, lastCheckpointed: 0, lastError: undefined };
  readonly #worker: Worker;
  readonly #exited: Promise<void>;

  constructor(file: string, intervalMs: number) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const idleMs = Math.min(1_000, Math.max(100, intervalMs * 10));
    this.#worker = new Worker(SOURCE, { eval: true, workerData: { file, driver, intervalMs, idleMs } });
    this.#worker.unref();
    this.#exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.on('message', (m: { checkpointed?: number; log?: number; error?: string }) => {
      this.stats.runs++;
      this.stats.lastLog = m.log ?? 0;
      this.stats.lastCheckpointed = m.checkpointed ?? 0;
      this.stats.lastError = m.error;
    });
    // A thread that cannot open the file leaves the backstop in charge; nothing else depends on it.
    this.#worker.on('error', (err) => {
      this.stats.lastError = err.message;
    });
  }

  async close(): Promise<void> {
    // Held while it stops: an unreferenced thread would let the process end mid-await.
    this.#worker.ref();
    this.#worker.postMessage('stop');
    await this.#exited;
  }
}
