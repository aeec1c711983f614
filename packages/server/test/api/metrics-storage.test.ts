import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Quiver } from '../../src/main.js';
import { AUTH, backends, testQuiver } from '../support/databases.js';

const BACKENDS = await backends();

interface Family {
  name: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: { labels?: Record<string, string>; value?: string }[];
}

describe.each(BACKENDS)('database and audit metrics (%s)', (backend) => {
  let quiver: Quiver;
  let close: () => Promise<void>;
  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    quiver.rest.inject({ headers: AUTH, method, url, ...(payload ? { payload } : {}) });
  /** The exposition parsed by the real Prometheus text-format parser, by family name. */
  const scrape = async () => {
    const res = await call('GET', '/metrics');
    expect(res.statusCode).toBe(200);
    const families = parsePrometheusTextFormat(res.body) as Family[];
    return new Map(families.map((f) => [f.name, f]));
  };
  const sample = (families: Map<string, Family>, name: string, labels: Record<string, string> = {}) => {
    const found = families
      .get(name)
      ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
    expect(found, `${name} ${JSON.stringify(labels)}`).toBeDefined();
    return Number(found!.value);
  };

  beforeAll(async () => {
    ({ quiver, close } = await testQuiver(backend));
    for (const ns of ['a', 'b', 'c']) {
      expect((await call('POST', '/v1/namespaces', { namespace_id: ns })).statusCode).toBe(201);
    }
  });
  afterAll(() => close?.());

  it('reports the audit chain length and the age of its last checkpoint', async () => {
    const head = await quiver.store.read((repos) => repos.audit.head());
    expect(head.seq).toBeGreaterThanOrEqual(3);
    let families = await scrape();
    expect(families.get('quiver_audit_chain_length')?.type).toBe('GAUGE');
    expect(families.get('quiver_audit_checkpoint_age_seconds')?.type).toBe('GAUGE');
    expect(sample(families, 'quiver_audit_chain_length')).toBe(head.seq);
    // No checkpoint signed yet (the periodic one waits a minute).
    expect(sample(families, 'quiver_audit_checkpoint_age_seconds')).toBeNaN();

    expect((await call('POST', '/v1/audit:checkpoint')).statusCode).toBeLessThan(300);
    families = await scrape();
    const age = sample(families, 'quiver_audit_checkpoint_age_seconds');
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(600);
    // The checkpoint itself is an audited change: the chain grew by it.
    expect(sample(families, 'quiver_audit_chain_length')).toBeGreaterThan(head.seq);
  });

  it('reports what this database exposes: the pool (PostgreSQL) or group commit and WAL checkpoints (SQLite)', async () => {
    const families = await scrape();
    if (backend === 'postgres') {
      expect(families.get('quiver_db_pool_connections')?.type).toBe('GAUGE');
      expect(families.get('quiver_db_pool_waiting')?.type).toBe('GAUGE');
      expect(sample(families, 'quiver_db_pool_max')).toBe(quiver.config.databasePoolSize);
      const idle = sample(families, 'quiver_db_pool_connections', { state: 'idle' });
      const inUse = sample(families, 'quiver_db_pool_connections', { state: 'in_use' });
      expect(idle + inUse).toBeGreaterThan(0);
      expect(idle + inUse).toBeLessThanOrEqual(quiver.config.databasePoolSize);
      expect(sample(families, 'quiver_db_pool_waiting')).toBeGreaterThanOrEqual(0);
      expect(families.has('quiver_db_group_commit_batches_total')).toBe(false);
    } else {
      expect(families.get('quiver_db_group_commit_batches_total')?.type).toBe('COUNTER');
      expect(families.get('quiver_db_group_commit_writes_total')?.type).toBe('COUNTER');
      const batches = sample(families, 'quiver_db_group_commit_batches_total');
      const writes = sample(families, 'quiver_db_group_commit_writes_total');
      expect(batches).toBeGreaterThan(0);
      expect(writes).toBeGreaterThanOrEqual(batches);
      expect(families.get('quiver_sqlite_wal_checkpoints_total')?.type).toBe('COUNTER');
      expect(families.get('quiver_sqlite_wal_frames')?.type).toBe('GAUGE');
      expect(families.has('quiver_db_pool_connections')).toBe(false);
    }
  });

  it('keeps label values bounded: no principal, namespace or token in any series', async () => {
    const res = await call('GET', '/metrics');
    for (const line of res.body.split('\n').filter((l) => l && !l.startsWith('#'))) {
      expect(line).not.toMatch(/qvr_|principal|admin|namespace="/);
    }
  });
});
