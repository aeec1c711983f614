import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheStats } from '../ports/cache.js';
import type { ServingMetrics } from '../ports/metrics.js';
import { DEPLOYMENT_STATUSES, type DeploymentStatus } from '../ports/serving.repositories.js';
import { auditMetrics, databaseMetrics } from './database-metrics.js';

/** What the gauges read on each scrape; each source is optional (a role may not have it). */
export interface MetricsSources {
  /** Deployments in the in-memory table by status (inference roles). */
  deployments?: () => Partial<Record<DeploymentStatus, number>>;
  /** The job queue as the database sees it now. */
  jobs?: () => Promise<JobStats>;
  /** Models the runtime holds. */
  models?: () => readonly { sizeBytes: number }[];
  /** The read cache's counters. */
  cache?: () => CacheStats;
  /** Load shedding: requests in progress and requests refused since start. */
  admission?: () => { inFlight: number; shed: number };
  /** The database pool now (PostgreSQL). */
  pool?: () => { total: number; idle: number; waiting: number; max: number };
  /** Batches and writes committed together (SQLite's group commit), running totals. */
  groupCommit?: () => { batches: number; writes: number } | undefined;
  /** The SQLite WAL checkpointer thread's counters. */
  checkpoints?: () => { runs: number; lastLog: number; lastCheckpointed: number; failing: boolean };
  /** The audit chain as the database sees it now: its length and when its last checkpoint was signed. */
  audit?: () => Promise<AuditStats>;
}

export interface AuditStats {
  length: number;
  /** Epoch ms of the last signed checkpoint; undefined when none was signed yet. */
  lastCheckpointMs: number | undefined;
  /** Now, by the clock the service uses (the age is measured against it). */
  nowMs: number;
}

export type JobStats = { queued: number; running: number; oldestDueAgeMs: number };

export interface MetricsOptions {
  /** How long a scrape waits for the database; past it the job gauges keep their last values. Default 1 s. */
  collectTimeoutMs?: number;
  /** Process metrics (event loop lag, heap, GC); default true. */
  processMetrics?: boolean;
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const INFERENCE_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const LOAD_SECONDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const BATCH_ROWS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/**
 * Quiver's Prometheus metrics on a registry of its own (never prom-client's global one, so
 * several instances in one process do not collide). Labels stay bounded: route templates, not
 * paths; gRPC method and status names; deployments that exist; no caller identities.
 */
export class Metrics implements ServingMetrics {
  readonly registry = new Registry();
  readonly #sources: MetricsSources = {};
  readonly #timeoutMs: number;
  readonly #reads = new Map<string, Promise<unknown>>();

  readonly #httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly #httpDuration: Histogram<'method' | 'route'>;
  readonly #httpChildren = new Map<
    string,
    { count: { inc(): void }; duration: { observe(v: number): void } }
  >();
  readonly #grpcChildren = new Map<
    string,
    { count: { inc(): void }; duration: { observe(v: number): void } }
  >();
  readonly #inferenceChildren = new Map<string, { observe(v: number): void }>();
  readonly #grpcRequests: Counter<'method' | 'code'>;
  readonly #grpcDuration: Histogram<'method'>;
  readonly #inference: Histogram<'deployment' | 'version'>;
  readonly #batch: Histogram;
  readonly #modelLoad: Histogram;

  constructor(options: MetricsOptions = {}) {
    this.#timeoutMs = options.collectTimeoutMs ?? 1_000;
    const registers = [this.registry];
    const sources = this.#sources;
    this.#httpRequests = new Counter({
      name: 'quiver_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status code.',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    });
    this.#httpDuration = new Histogram({
      name: 'quiver_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method and route template.',
      labelNames: ['method', 'route'] as const,
      buckets: SECONDS,
      registers,
    });
    this.#grpcRequests = new Counter({
      name: 'quiver_grpc_requests_total',
      help: 'gRPC calls answered, by method and status code.',
      labelNames: ['method', 'code'] as const,
      registers,
    });
    this.#grpcDuration = new Histogram({
      name: 'quiver_grpc_request_duration_seconds',
      help: 'Time to answer a gRPC call, by method.',
      labelNames: ['method'] as const,
      buckets: SECONDS,
      registers,
    });
    this.#inference = new Histogram({
      name: 'quiver_inference_duration_seconds',
      help: 'Time of a successful inference (routing, checks, queueing and run), by deployment and version.',
      labelNames: ['deployment', 'version'] as const,
      buckets: INFERENCE_SECONDS,
      registers,
    });
    this.#batch = new Histogram({
      name: 'quiver_inference_batch_size',
      help: 'Rows (dimension 0) per model run of deployments with dynamic batching.',
      buckets: BATCH_ROWS,
      registers,
    });
    this.#modelLoad = new Histogram({
      name: 'quiver_model_load_seconds',
      help: 'Time to load a model into the runtime, warm-up included.',
      buckets: LOAD_SECONDS,
      registers,
    });
    new Gauge({
      name: 'quiver_deployments',
      help: 'Deployments this process knows of, by status.',
      labelNames: ['status'] as const,
      registers,
      collect() {
        const counts = sources.deployments?.();
        if (!counts) return;
        for (const status of DEPLOYMENT_STATUSES) this.set({ status }, counts[status] ?? 0);
      },
    });
    const jobs = () => this.#shared('jobs', sources.jobs);
    new Gauge({
      name: 'quiver_jobs',
      help: 'Jobs in the queue, by status (queued, running).',
      labelNames: ['status'] as const,
      registers,
      async collect() {
        // A slow or failing database leaves the last values in place rather than inventing zeros.
        const stats = await jobs();
        if (!stats) return;
        this.set({ status: 'queued' }, stats.queued);
        this.set({ status: 'running' }, stats.running);
      },
    });
    new Gauge({
      name: 'quiver_jobs_oldest_due_age_seconds',
      help: 'How long the oldest job that is due has waited to be claimed (0 when none waits).',
      registers,
      async collect() {
        const stats = await jobs();
        if (stats) this.set(stats.oldestDueAgeMs / 1000);
      },
    });
    new Gauge({
      name: 'quiver_models_loaded',
      help: 'Models the runtime holds in memory.',
      registers,
      collect() {
        this.set(sources.models?.().length ?? 0);
      },
    });
    new Gauge({
      name: 'quiver_models_loaded_bytes',
      help: 'Bytes of the model files the runtime holds (what counts against its memory budget).',
      registers,
      collect() {
        this.set((sources.models?.() ?? []).reduce((n, m) => n + m.sizeBytes, 0));
      },
    });
    const cache = () => sources.cache?.();
    for (const [name, help, pick] of [
      ['quiver_cache_hits_total', 'Reads the read cache answered.', (c: CacheStats) => c.hits],
      [
        'quiver_cache_misses_total',
        'Reads the read cache passed to the database.',
        (c: CacheStats) => c.misses,
      ],
      [
        'quiver_cache_invalidations_total',
        'Invalidations applied (local and from other instances).',
        (c: CacheStats) => c.invalidations,
      ],
    ] as const) {
      new Counter({
        name,
        help,
        registers,
        collect() {
          const stats = cache();
          // The cache keeps the running totals; the counter mirrors them at each scrape.
          if (stats) {
            this.reset();
            this.inc(pick(stats));
          }
        },
      });
    }
    new Gauge({
      name: 'quiver_requests_in_flight',
      help: 'REST and gRPC requests the process is working on (what load shedding counts).',
      registers,
      collect() {
        this.set(sources.admission?.().inFlight ?? 0);
      },
    });
    new Counter({
      name: 'quiver_requests_shed_total',
      help: 'Requests answered UNAVAILABLE because the process was at QUIVER_MAX_IN_FLIGHT or its event loop past QUIVER_MAX_EVENT_LOOP_DELAY_MS.',
      registers,
      collect() {
        const stats = sources.admission?.();
        if (stats) {
          this.reset();
          this.inc(stats.shed);
        }
      },
    });
    new Gauge({
      name: 'quiver_cache_bytes',
      help: 'Approximate bytes the read cache holds.',
      registers,
      collect() {
        this.set(cache()?.bytes ?? 0);
      },
    });
    new Gauge({
      name: 'quiver_cache_entries',
      help: 'Entries the read cache holds.',
      registers,
      collect() {
        this.set(cache()?.entries ?? 0);
      },
    });
    if (options.processMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: 'quiver_' });
  }

  /** Where the gauges read from on each scrape (set once the services exist). */
  watch(sources: MetricsSources): void {
    const fresh = Object.fromEntries(
      Object.entries(sources).filter(([key]) => !(key in this.#sources)),
    ) as MetricsSources;
    Object.assign(this.#sources, sources);
    // Families whose source only some roles and databases have are registered when it is given.
    const registers = [this.registry];
    databaseMetrics(registers, this.#sources, fresh);
    if (fresh.audit) auditMetrics(registers, () => this.#shared('audit', this.#sources.audit));
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text of every metric. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    // Labelled children are cached (routes × methods × statuses is a small, bounded set), so a
    // request does not hash its labels twice on the hot path.
    const key = `${method} ${route} ${status}`;
    let child = this.#httpChildren.get(key);
    if (!child) {
      child = {
        count: this.#httpRequests.labels({ method, route, status: String(status) }),
        duration: this.#httpDuration.labels({ method, route }),
      };
      this.#httpChildren.set(key, child);
    }
    child.count.inc();
    child.duration.observe(seconds);
  }

  grpcRequest(method: string, code: string, seconds: number): void {
    // Cached children, as for HTTP: methods × status codes is a small, fixed set.
    const key = `${method} ${code}`;
    let child = this.#grpcChildren.get(key);
    if (!child) {
      child = {
        count: this.#grpcRequests.labels({ method, code }),
        duration: this.#grpcDuration.labels({ method }),
      };
      this.#grpcChildren.set(key, child);
    }
    child.count.inc();
    child.duration.observe(seconds);
  }

  inference(deployment: string, version: string, seconds: number): void {
    // One child per deployment and version: the series the histogram keeps anyway.
    const key = `${deployment} ${version}`;
    let child = this.#inferenceChildren.get(key);
    if (!child) {
      child = this.#inference.labels({ deployment, version });
      this.#inferenceChildren.set(key, child);
    }
    child.observe(seconds);
  }

  batch(rows: number): void {
    this.#batch.observe(rows);
  }

  modelLoad(seconds: number): void {
    this.#modelLoad.observe(seconds);
  }

  /**
   * One database read shared by the gauges of a scrape that show it; undefined when it fails or
   * is slow, so that a struggling database leaves the last values in place rather than zeros.
   */
  #shared<T>(name: string, read: (() => Promise<T>) | undefined): Promise<T | undefined> {
    if (!read) return Promise.resolve(undefined);
    let pending = this.#reads.get(name) as Promise<T | undefined> | undefined;
    if (!pending) {
      pending = new Promise<T | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), this.#timeoutMs);
        timer.unref();
        read().then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          () => {
            clearTimeout(timer);
            resolve(undefined);
          },
        );
      }).finally(() => this.#reads.delete(name));
      this.#reads.set(name, pending);
    }
    return pending;
  }
}

/** Seconds since `start` (a `performance.now()` reading). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
