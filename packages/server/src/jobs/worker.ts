import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type Context, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { QuiverError } from '../domain/errors.js';
import type { Clock } from '../ports/clock.js';
import type { Job } from '../ports/serving.repositories.js';
import type { UnitOfWork } from '../ports/unit-of-work.js';
import type { Tracing } from '../telemetry/tracing.js';

/** What a handler may tell the worker while it runs. */
export interface JobRun {
  job: Job;
  /** True on the last attempt: a handler records its final failure then. */
  lastAttempt: boolean;
  /** Fired when the lease was lost (another worker took the job over): stop touching shared state. */
  signal: AbortSignal;
}

export interface JobHandler {
  kind: string;
  run(run: JobRun): Promise<void>;
  /** Called once when the job gives up for good (after its last attempt or on a permanent error). */
  giveUp(job: Job, error: QuiverError): Promise<void>;
}

/** A failure that retrying cannot fix (an unreadable model): the job gives up at once. */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
  constructor(readonly error: QuiverError) {
    super(error.message, { cause: error });
  }
}

export interface WorkerOptions {
  store: UnitOfWork;
  clock: Clock;
  handlers: readonly JobHandler[];
  /** Kinds that must have exactly one handler (fail fast at startup otherwise). */
  kinds: readonly string[];
  concurrency?: number;
  leaseMs?: number;
  pollMs?: number;
  /** When enabled: each run is a span `job <kind>` continuing the trace stored with the job. */
  tracing?: Tracing | undefined;
  logger?: {
    info(o: object, m: string): void;
    warn(o: object, m: string): void;
    error(o: object, m: string): void;
  };
}

/**
 * Runs jobs from the database queue. Claims with a lease and renews it while a handler runs;
 * a crashed worker's jobs are claimed again once their lease expires, so no job is lost.
 * Failures retry with exponential backoff and jitter up to the job's max attempts.
 */
export class Worker {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #o: Required<Omit<WorkerOptions, 'logger' | 'tracing'>> &
    Pick<WorkerOptions, 'logger' | 'tracing'>;
  readonly #handlers: Map<string, JobHandler>;
  readonly #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #polling = false;
  #again = false;
  lastPoll = 0;

  constructor(options: WorkerOptions) {
    this.#o = { concurrency: 4, leaseMs: 15_000, pollMs: 500, ...options };
    this.#handlers = new Map();
    for (const h of options.handlers) {
      if (this.#handlers.has(h.kind)) throw new Error(`Two job handlers for kind '${h.kind}'.`);
      this.#handlers.set(h.kind, h);
    }
    const missing = options.kinds.filter((k) => !this.#handlers.has(k));
    const extra = [...this.#handlers.keys()].filter((k) => !options.kinds.includes(k));
    if (missing.length || extra.length) {
      throw new Error(
        `Job handlers do not match job kinds: missing ${missing.join(', ') || 'none'}, unknown ${extra.join(', ') || 'none'}.`,
      );
    }
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.wake();
  }

  /** Polls now (called after an in-process commit enqueued work). */
  wake(): void {
    if (!this.#running) return;
    if (this.#polling) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    void this.#poll();
  }

  /** Stops claiming; waits for running jobs up to `graceMs` (their leases then expire and another worker resumes them). */
  async stop(graceMs = 10_000): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    const all = Promise.allSettled([...this.#inFlight]);
    await Promise.race([all, new Promise((r) => setTimeout(r, graceMs).unref())]);
  }

  get busy(): number {
    return this.#inFlight.size;
  }

  async #poll(): Promise<void> {
    this.#polling = true;
    try {
      do {
        this.#again = false;
        this.lastPoll = this.#o.clock.now();
        const free = this.#o.concurrency - this.#inFlight.size;
        if (free <= 0) break;
        const now = this.#o.clock.now();
        const claimStart = Date.now();
        const jobs = await this.#o.store.write((repos) =>
          repos.jobs.claim(this.owner, now, this.#o.leaseMs, free, this.#o.kinds),
        );
        for (const job of jobs) this.#track(this.#execute(job, claimStart));
        if (jobs.length === free) this.#again = true;
      } while (this.#again && this.#running);
    } catch (err) {
      this.#o.logger?.warn({ err }, 'job poll failed; will retry');
    } finally {
      this.#polling = false;
      if (this.#running) this.#timer = setTimeout(() => void this.#poll(), this.#o.pollMs);
    }
  }

  #track(p: Promise<void>): void {
    this.#inFlight.add(p);
    void p.finally(() => {
      this.#inFlight.delete(p);
      this.wake();
    });
  }

  /** Runs the job in its span (continuing the trace of the request that enqueued it) when tracing. */
  #execute(job: Job, claimStart: number): Promise<void> {
    const tracing = this.#o.tracing;
    // A job without a stored trace would start a new one: none at 0% sampling.
    if (!tracing?.enabled || (!job.trace_context && !tracing.samplesRoots)) return this.#run(job, undefined);
    const parent: Context = job.trace_context
      ? tracing.extract({ traceparent: job.trace_context })
      : context.active();
    if (job.trace_context) {
      // The claim is one query for a batch of jobs; each traced job shows it, with how long it waited.
      tracing.tracer
        .startSpan(
          'job.claim',
          {
            kind: SpanKind.CONSUMER,
            startTime: claimStart,
            attributes: {
              'quiver.job.id': job.id,
              'quiver.job.kind': job.kind,
              'quiver.job.wait_ms': Math.max(0, this.#o.clock.now() - job.run_after),
              'quiver.worker': this.owner,
            },
          },
          parent,
        )
        .end();
    }
    const span = tracing.tracer.startSpan(
      `job ${job.kind}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'quiver.job.id': job.id,
          'quiver.job.kind': job.kind,
          'quiver.job.attempt': job.attempts,
        },
      },
      job.trace_context ? parent : trace.deleteSpan(context.active()),
    );
    // An unsampled job enters no context (AsyncLocalStorage's hooks stay off; see the REST app).
    const run = span.isRecording()
      ? context.with(trace.setSpan(parent, span), () => this.#run(job, span))
      : this.#run(job, undefined);
    return run.finally(() => span.end());
  }

  async #run(job: Job, span: Span | undefined): Promise<void> {
    const handler = this.#handlers.get(job.kind);
    const { store, clock, leaseMs } = this.#o;
    const lost = new AbortController();
    const beat = setInterval(
      () => {
        const now = clock.now();
        store
          .write((repos) => repos.jobs.heartbeat(job.id, this.owner, now + leaseMs, now))
          .then((held) => {
            if (!held) lost.abort();
          })
          .catch((err: unknown) => this.#o.logger?.warn({ err, job: job.id }, 'lease renewal failed'));
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    );
    beat.unref();
    try {
      if (!handler)
        throw new PermanentJobError(new QuiverError('INTERNAL', `No handler for job kind '${job.kind}'.`));
      if (job.attempts > job.max_attempts) {
        throw new PermanentJobError(
          new QuiverError('INTERNAL', `Gave up after ${job.max_attempts} attempts: ${job.last_error}`),
        );
      }
      await handler.run({ job, lastAttempt: job.attempts >= job.max_attempts, signal: lost.signal });
      await store.write((repos) => repos.jobs.succeed(job.id, this.owner, clock.now()));
    } catch (err) {
      const permanent = err instanceof PermanentJobError;
      // An unexpected error keeps its own message: it becomes the deployment's status and the
      // operation's error, which an operator reads to know what to fix.
      const message = String((err as Error)?.message ?? err);
      const error = permanent
        ? err.error
        : err instanceof QuiverError
          ? err
          : new QuiverError('INTERNAL', message, { cause: err });
      const giveUp = permanent || job.attempts >= job.max_attempts;
      span?.setAttribute('error.type', error.code);
      span?.setStatus({ code: SpanStatusCode.ERROR, message });
      const now = clock.now();
      const retryAt = giveUp ? null : now + backoff(job.attempts);
      this.#o.logger?.[giveUp ? 'error' : 'warn'](
        { err, job: job.id, kind: job.kind, attempt: job.attempts },
        giveUp ? 'job failed for good' : 'job failed; will retry',
      );
      try {
        await store.write((repos) => repos.jobs.fail(job.id, this.owner, message, retryAt, now));
        if (giveUp && handler) await handler.giveUp(job, error);
      } catch (inner) {
        this.#o.logger?.error(
          { err: inner, job: job.id },
          'could not record job failure; the lease will expire and the job run again',
        );
      }
    } finally {
      clearInterval(beat);
    }
  }
}

/** 0.5 s, 1 s, 2 s, … capped at 30 s, with ±25% jitter so that retries of many jobs spread out. */
export function backoff(attempt: number): number {
  const base = Math.min(30_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}
