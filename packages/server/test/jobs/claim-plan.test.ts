import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, testStore, withClient } from '../support/databases.js';

const BACKENDS = await backends();

/**
 * Claiming jobs must cost the same with 10 or 100,000 queued: the due-jobs probe walks the jobs_due
 * index in its order and stops after `limit` rows. A probe the index cannot order sorts every due
 * job on each claim (with 25,000 queued rollouts that was 84% of the worker's CPU).
 */
describe.each(BACKENDS)('job claim (%s)', (backend) => {
  let ctx: Awaited<ReturnType<typeof testStore>>;
  const statements: { sql: string; parameters: readonly unknown[] }[] = [];

  beforeAll(async () => {
    ctx = await testStore(backend, {
      onQuery: (e) => {
        if (e.level === 'query') statements.push({ sql: e.query.sql, parameters: e.query.parameters });
      },
    });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  const enqueue = (kind: string, runAfter: number) =>
    ctx.store.write((repos) =>
      repos.jobs.enqueue({ kind, payload: {}, maxAttempts: 3, runAfter, traceContext: '' }, Date.now()),
    );

  it('claims the earliest due jobs first, never one not yet due', async () => {
    const now = Date.now();
    const late = await enqueue('plan', now - 1_000);
    const early = await enqueue('plan', now - 5_000);
    await enqueue('plan', now + 60_000);
    const first = await ctx.store.write((repos) => repos.jobs.claim('w1', now, 10_000, 1, ['plan']));
    expect(first.map((j) => j.id)).toEqual([early]);
    const rest = await ctx.store.write((repos) => repos.jobs.claim('w1', now, 10_000, 10, ['plan']));
    expect(rest.map((j) => j.id)).toEqual([late]);
  });

  it('finds due jobs through the jobs_due index without sorting them', async () => {
    for (let i = 0; i < 50; i++) await enqueue('plan-scan', Date.now() - i);
    statements.length = 0;
    await ctx.store.write((repos) => repos.jobs.claim('w2', Date.now(), 10_000, 4, ['plan-scan']));
    const probe = statements.find((s) => /run_after/.test(s.sql) && /^select/i.test(s.sql));
    expect(probe, statements.map((s) => s.sql).join('\n')).toBeDefined();
    const { sql, parameters } = probe!;
    if (backend === 'sqlite') {
      const db = new Database(join(ctx.db.config.dataDir, 'quiver.db'), { readonly: true });
      try {
        const plan = db
          .prepare(`explain query plan ${sql}`)
          .all(...parameters)
          .map((r) => (r as { detail: string }).detail);
        expect(plan.join('\n')).toContain('jobs_due');
        expect(plan.join('\n')).not.toContain('TEMP B-TREE');
      } finally {
        db.close();
      }
    } else {
      // With sorting priced out, a plan that still sorts is one no index can order.
      const plan = await withClient(async (c) => {
        await c.query('set enable_sort = off');
        const res = await c.query(`explain ${sql}`, [...parameters]);
        return res.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
      }, ctx.db.schema);
      expect(plan).toContain('jobs_due');
      expect(plan).not.toMatch(/\bSort\b/);
    }
  });
});
