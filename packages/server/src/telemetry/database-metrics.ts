import { Counter, Gauge, type Registry } from 'prom-client';
import type { AuditStats, MetricsSources } from './metrics.js';

/**
 * The database's own metrics, read on each scrape from what the dialect exposes: PostgreSQL's
 * pool, SQLite's group commit and WAL checkpointer. Each family is registered only when its
 * source exists (Metrics.watch), so a database without it shows no series rather than zeros
 * that would read as "idle".
 */
export function databaseMetrics(registers: Registry[], sources: MetricsSources, given: MetricsSources): void {
  if (given.pool) poolMetrics(registers, sources);
  if (given.groupCommit) groupCommitMetrics(registers, sources);
  if (given.checkpoints) checkpointMetrics(registers, sources);
}

function poolMetrics(registers: Registry[], sources: MetricsSources): void {
  new Gauge({
    name: 'quiver_db_pool_connections',
    help: 'Connections of the PostgreSQL pool, by state (in_use, idle).',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const pool = sources.pool?.();
      if (!pool) return;
      this.set({ state: 'in_use' }, pool.total - pool.idle);
      this.set({ state: 'idle' }, pool.idle);
    },
  });
  gauge(
    registers,
    'quiver_db_pool_waiting',
    'Queries waiting for a PostgreSQL pool connection.',
    () => sources.pool?.().waiting,
  );
  gauge(
    registers,
    'quiver_db_pool_max',
    'Most connections the PostgreSQL pool opens.',
    () => sources.pool?.().max,
  );
}

function groupCommitMetrics(registers: Registry[], sources: MetricsSources): void {
  // The store keeps running totals; the counters mirror them at each scrape.
  mirror(
    registers,
    'quiver_db_group_commit_batches_total',
    'Transactions SQLite committed for grouped writes (one per batch).',
    () => sources.groupCommit?.()?.batches,
  );
  mirror(
    registers,
    'quiver_db_group_commit_writes_total',
    'Writes committed in a group (writes / batches is the mean group size).',
    () => sources.groupCommit?.()?.writes,
  );
}

function checkpointMetrics(registers: Registry[], sources: MetricsSources): void {
  mirror(
    registers,
    'quiver_sqlite_wal_checkpoints_total',
    'WAL checkpoint passes of the background thread.',
    () => sources.checkpoints?.().runs,
  );
  gauge(
    registers,
    'quiver_sqlite_wal_frames',
    'Frames in the WAL at the last checkpoint pass (a growing value means checkpoints fall behind).',
    () => sources.checkpoints?.().lastLog,
  );
  gauge(registers, 'quiver_sqlite_wal_checkpoint_failing', '1 when the last checkpoint pass failed.', () => {
    const stats = sources.checkpoints?.();
    return stats && (stats.failing ? 1 : 0);
  });
}

/** The audit chain's length and the age of its last signed checkpoint, from one read per scrape. */
export function auditMetrics(registers: Registry[], read: () => Promise<AuditStats | undefined>): void {
  new Gauge({
    name: 'quiver_audit_chain_length',
    help: 'Events in the audit chain (the sequence number of its head).',
    registers,
    async collect() {
      const stats = await read();
      if (stats) this.set(stats.length);
    },
  });
  new Gauge({
    name: 'quiver_audit_checkpoint_age_seconds',
    help: 'Time since the last signed checkpoint of the audit chain (NaN until the first one).',
    registers,
    async collect() {
      const stats = await read();
      if (!stats) return;
      this.set(
        stats.lastCheckpointMs === undefined
          ? Number.NaN
          : Math.max(0, stats.nowMs - stats.lastCheckpointMs) / 1000,
      );
    },
  });
}

function gauge(registers: Registry[], name: string, help: string, read: () => number | undefined): void {
  new Gauge({
    name,
    help,
    registers,
    collect() {
      const value = read();
      if (value !== undefined) this.set(value);
    },
  });
}

/** A counter mirroring a running total kept elsewhere. */
function mirror(registers: Registry[], name: string, help: string, read: () => number | undefined): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      const value = read();
      if (value === undefined) return;
      this.reset();
      this.inc(value);
    },
  });
}
