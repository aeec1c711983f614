import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuiverError } from '../../src/domain/errors.js';
import { backoff, type JobHandler, PermanentJobError, Worker } from '../../src/jobs/worker.js';
import { systemClock } from '../../src/ports/clock.js';
import { backends, testStore } from '../support/databases.js';
import { waitFor } from '../support/serving.js';

const BACKENDS = await backends();

describe.each(BACKENDS)('job worker (%s)', (backend) => {
  let ctx: Awaited<ReturnType<typeof testStore>>;
  const workers: Worker[] = [];
  beforeAll(async () => {
    ctx = await testStore(backend);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop(1_000)));
    await ctx.close();
  });

  const enqueue = (kind: string, maxAttempts = 3) =>
    ctx.store.write((repos) =>
      repos.jobs.enqueue(
        { kind, payload: { n: 1 }, maxAttempts, runAfter: Date.now(), traceContext: '' },
        Date.now(),
      ),
    );
  const job = (id: number) => ctx.store.read((repos) => repos.jobs.get(id));
  const start = (handlers: JobHandler[]) => {
    const w = new Worker({
      store: ctx.store,
      clock: systemClock,
      handlers,
      kinds: handlers.map((h) => h.kind),
      pollMs: 20,
      leaseMs: 2_000,
    });
    workers.push(w);
    w.start();
    return w;
  };

  it('retries a failing job with backoff until it succeeds', async () => {
    let calls = 0;
    const gaveUp: number[] = [];
    start([
      {
        kind: `flaky-${backend}`,
        run: async () => {
          calls++;
          if (calls < 3) throw new Error(`transient failure ${calls}`);
        },
        giveUp: async (j) => void gaveUp.push(j.id),
      },
    ]);
    const id = await enqueue(`flaky-${backend}`, 5);
    const done = await waitFor(
      () => job(id),
      (j) => j?.status === 'succeeded',
      15_000,
      'the job to succeed',
    );
    expect(done).toMatchObject({ attempts: 3, last_error: 'transient failure 2', lease_owner: null });
    expect(calls).toBe(3);
    expect(gaveUp).toEqual([]);
  });

  it('gives up after its last attempt, once, with the last error', async () => {
    const gaveUp: string[] = [];
    start([
      {
        kind: `broken-${backend}`,
        run: async () => {
          throw new Error('still broken');
        },
        giveUp: async (_j, err) => void gaveUp.push(err.message),
      },
    ]);
    const id = await enqueue(`broken-${backend}`, 2);
    const failed = await waitFor(
      () => job(id),
      (j) => j?.status === 'failed',
      15_000,
      'the job to fail',
    );
    expect(failed).toMatchObject({ attempts: 2, last_error: 'still broken' });
    await waitFor(
      async () => gaveUp.length,
      (n) => n === 1,
      5_000,
      'giveUp',
    );
    expect(gaveUp).toEqual(['still broken']);
  });

  it('gives up at once on a permanent error', async () => {
    let calls = 0;
    start([
      {
        kind: `permanent-${backend}`,
        run: async () => {
          calls++;
          throw new PermanentJobError(new QuiverError('INVALID_MODEL', 'not a model'));
        },
        giveUp: async () => {},
      },
    ]);
    const id = await enqueue(`permanent-${backend}`, 5);
    const failed = await waitFor(
      () => job(id),
      (j) => j?.status === 'failed',
      10_000,
      'the job to fail',
    );
    expect(failed).toMatchObject({ attempts: 1, last_error: 'not a model' });
    expect(calls).toBe(1);
  });
});

describe('job worker configuration', () => {
  it('refuses to start when a job kind has no handler or two', () => {
    const handler = (kind: string): JobHandler => ({ kind, run: async () => {}, giveUp: async () => {} });
    const store = {} as never;
    expect(
      () => new Worker({ store, clock: systemClock, handlers: [handler('a')], kinds: ['a', 'b'] }),
    ).toThrow(/missing b/);
    expect(
      () => new Worker({ store, clock: systemClock, handlers: [handler('a'), handler('a')], kinds: ['a'] }),
    ).toThrow(/Two job handlers/);
    expect(
      () => new Worker({ store, clock: systemClock, handlers: [handler('a'), handler('c')], kinds: ['a'] }),
    ).toThrow(/unknown c/);
  });

  it('backs off exponentially with jitter, capped at 30 s', () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const base = Math.min(30_000, 500 * 2 ** (attempt - 1));
      const delay = backoff(attempt);
      expect(delay).toBeGreaterThanOrEqual(base * 0.75 - 1);
      expect(delay).toBeLessThanOrEqual(base * 1.25 + 1);
    }
  });
});
