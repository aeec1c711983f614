import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { signerOf } from '../../src/adapters/fs/audit-signing-key.js';
import { postgresDialect } from '../../src/adapters/sql/dialects/postgres.js';
import { sqliteDialect } from '../../src/adapters/sql/dialects/sqlite.js';
import { SqlStore } from '../../src/adapters/sql/store.js';
import { type AuditEvent, seal } from '../../src/domain/audit-chain.js';
import { PageTokenCodec } from '../../src/domain/page-token.js';
import type { AuditEntry } from '../../src/ports/audit.js';
import { AuditService } from '../../src/services/audit.service.js';
import type { CallContext } from '../../src/services/context.js';
import { Mutations } from '../../src/services/mutations.js';
import { expectQuiverError, MINUTE, T0 } from '../support/builders.js';
import { type Backend, backends, POSTGRES_URL, testStore } from '../support/databases.js';

const BACKENDS = await backends();
const ctx: CallContext = { actor: { principal: 'auditor' }, requestId: 'req-audit' };

/** Drops the triggers that keep the audit tables append-only, as a malicious administrator would. */
async function dropTriggers(store: SqlStore, backend: Backend, table: 'audit_events' | 'audit_checkpoints') {
  const statements =
    backend === 'sqlite'
      ? [`drop trigger ${table}_no_update`, `drop trigger ${table}_no_delete`]
      : [`drop trigger ${table}_no_change on ${table}`];
  for (const s of statements) await sql.raw(s).execute(store.db);
}

/** The insert trigger moved the head to the forged row; the attacker points it back at the last event. */
async function moveHeadToLast(store: SqlStore) {
  await sql`update audit_head set seq = (select max(seq) from audit_events),
    hash = (select hash from audit_events where seq = (select max(seq) from audit_events))`.execute(store.db);
}

function entry(i: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    principal: ['alice', 'bob', 'carol'][i % 3]!,
    action: i % 2 === 0 ? 'CreateVersion' : 'TransitionVersion',
    resource: `namespaces/${i % 2 === 0 ? 'fraud' : 'vision'}/models/m${i}`,
    outcome: i % 5 === 4 ? 'denied' : 'success',
    requestId: `req-${i}`,
    changeDigest: `digest-${i}`,
    details: { i, nested: { b: 2, a: [1, 'x'] } },
    ...overrides,
  };
}

describe.each(BACKENDS)('audit log storage (%s)', (backend) => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  /** A store with an audit service on a controllable clock, and `n` events recorded a minute apart. */
  async function seeded(n: number) {
    const opened = await testStore(backend);
    close = opened.close;
    const { store } = opened;
    let now = T0;
    const clock = { now: () => now };
    const { privateKey } = generateKeyPairSync('ed25519');
    const mutations = new Mutations(store, clock.now);
    const audit = new AuditService({
      store,
      clock,
      tokens: new PageTokenCodec('secret'),
      signer: signerOf(privateKey),
      mutations,
      checkpointIntervalMs: 0,
      batchSize: 4, // several batches even for a short chain
    });
    await audit.init();
    mutations.observe(audit);
    for (let i = 0; i < n; i++) {
      await audit.record(entry(i));
      now += MINUTE;
    }
    const rows = async () =>
      (await audit.list(ctx, { action: 'CreateVersion', page_size: 1000 })).items.concat(
        (await audit.list(ctx, { action: 'TransitionVersion', page_size: 1000 })).items,
      );
    return { store, audit, rows, db: opened.db, setNow: (t: number) => (now = t) };
  }

  it('appends events numbered 1, 2, 3… each chained to the one before', async () => {
    const { audit } = await seeded(5);
    const { items } = await audit.list(ctx, { page_size: 5 });
    expect(items.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(items[0]!.prev_hash).toBe('0'.repeat(64));
    for (let i = 1; i < items.length; i++) expect(items[i]!.prev_hash).toBe(items[i - 1]!.hash);
    expect(items[0]).toMatchObject({
      principal: 'alice',
      action: 'CreateVersion',
      resource: 'namespaces/fraud/models/m0',
      outcome: 'success',
      permission: null,
      request_id: 'req-0',
      trace_id: null,
      client_address: null,
      change_digest: 'digest-0',
      details: { i: 0, nested: { a: [1, 'x'], b: 2 } },
      time: new Date(T0).toISOString(),
    });
    // The listing above was recorded too (ReadAudit).
    expect(await audit.verify(ctx)).toMatchObject({ valid: true, events_checked: 6 });
  });

  it('filters by principal, action, outcome, exact or prefix resource and time range', async () => {
    const { audit } = await seeded(12);
    const seqs = async (q: Parameters<AuditService['list']>[1]) =>
      (await audit.list(ctx, { page_size: 100, ...q })).items.map((e) => e.seq);
    expect(await seqs({ principal: 'bob' })).toEqual([2, 5, 8, 11]);
    expect(await seqs({ action: 'TransitionVersion', principal: 'alice' })).toEqual([4, 10]);
    expect(await seqs({ outcome: 'denied' })).toEqual([5, 10]);
    expect(await seqs({ resource: 'namespaces/fraud/models/m4' })).toEqual([5]);
    expect(await seqs({ resource: 'namespaces/vision/*' })).toEqual([2, 4, 6, 8, 10, 12]);
    expect(await seqs({ resource: 'namespaces/fraud/models/m1*' })).toEqual([11]);
    const at = (i: number) => new Date(T0 + i * MINUTE).toISOString();
    expect(await seqs({ since: at(3), until: at(6) })).toEqual([4, 5, 6]);
    expect(await seqs({ since: at(10), until: at(12), order_by: 'seq desc' })).toEqual([12, 11]);
  });

  it('pages with keyset tokens in both directions, bound to their filter', async () => {
    const { audit } = await seeded(9);
    for (const order_by of ['seq', 'seq desc']) {
      const seen: number[] = [];
      let page_token: string | undefined;
      do {
        const page = await audit.list(ctx, { principal: 'alice', page_size: 2, order_by, page_token });
        seen.push(...page.items.map((e) => e.seq));
        page_token = page.next_page_token || undefined;
      } while (page_token);
      expect(seen).toEqual(order_by === 'seq' ? [1, 4, 7] : [7, 4, 1]);
    }
    const first = await audit.list(ctx, { principal: 'alice', page_size: 1 });
    await expectQuiverError(
      audit.list(ctx, { principal: 'bob', page_token: first.next_page_token }),
      'INVALID_PAGE_TOKEN',
    );
    await expectQuiverError(audit.list(ctx, { since: 'yesterday' }), 'INVALID_ARGUMENT');
    await expectQuiverError(audit.list(ctx, { order_by: 'principal' }), 'INVALID_ORDER_BY');
  });

  it('refuses UPDATE and DELETE of events and checkpoints through triggers', async () => {
    const { store, audit } = await seeded(2);
    await audit.checkpoint(ctx);
    for (const attempt of [
      sql`update audit_events set principal = 'mallory' where seq = 1`,
      sql`delete from audit_events where seq = 1`,
      sql`update audit_checkpoints set signature = 'forged'`,
      sql`delete from audit_checkpoints`,
      sql`update audit_keys set public_key = 'forged'`,
      ...(backend === 'postgres' ? [sql`truncate audit_events`] : []),
    ]) {
      await expect(attempt.execute(store.db)).rejects.toThrow(/append-only/);
    }
    expect((await audit.list(ctx, {})).items[0]!.principal).toBe('alice');
    expect(await audit.verify(ctx)).toMatchObject({ valid: true, checkpoints_checked: 1 });
  });

  it('seals the appends of two instances on one database into one chain, in commit order', async () => {
    const { store, audit, db } = await seeded(1);
    const other = await SqlStore.open(
      backend === 'sqlite'
        ? sqliteDialect(join(db.config.dataDir, 'quiver.db'))
        : postgresDialect({ url: POSTGRES_URL, schema: db.schema!, poolSize: 10 }),
    );
    try {
      const second = new AuditService({
        store: other,
        clock: { now: () => T0 },
        tokens: new PageTokenCodec('secret'),
        signer: signerOf(generateKeyPairSync('ed25519').privateKey),
        mutations: new Mutations(other, () => T0),
        checkpointIntervalMs: 0,
      });
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? audit : second).record(entry(i + 1))),
      );
      const { items } = await audit.list(ctx, { page_size: 100 });
      expect(items.map((e) => e.seq)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
      expect(new Set(items.map((e) => e.request_id)).size).toBe(41);
      expect(await audit.verify(ctx)).toMatchObject({ valid: true, events_checked: 42 });
      if (backend === 'postgres') {
        const pending = await sql<{ n: number }>`select count(*)::int as n from audit_pending`.execute(
          store.db,
        );
        expect(pending.rows[0]!.n).toBe(0);
      }
    } finally {
      await other.close();
    }
  });

  it('writes no event for a transaction that rolls back, and seals several of one transaction in order', async () => {
    const { store, audit } = await seeded(1);
    const body = (i: number) => ({
      time: new Date(T0 + i).toISOString(),
      principal: 'p',
      action: `A${i}`,
      resource: 'r',
      outcome: 'success',
      permission: null,
      request_id: `tx-${i}`,
      trace_id: null,
      client_address: null,
      change_digest: null,
      details: { i, text: '"prev_hash":"ü' },
    });
    await expect(
      store.write(async (repos) => {
        await repos.audit.append(body(1));
        throw new Error('the change fails');
      }),
    ).rejects.toThrow('the change fails');
    await store.write(async (repos) => {
      await repos.audit.append(body(2));
      await repos.audit.append(body(3));
    });
    const { items } = await audit.list(ctx, { page_size: 10 });
    expect(items.map((e) => [e.seq, e.request_id])).toEqual([
      [1, 'req-0'],
      [2, 'tx-2'],
      [3, 'tx-3'],
    ]);
    expect(await audit.verify(ctx)).toMatchObject({ valid: true });
  });

  // PostgreSQL only (no skipped twin on SQLite).
  if (backend === 'postgres')
    it('keeps the pending table of sealing at commit empty and small (housekeeping vacuums it)', async () => {
      const { store, audit } = await seeded(1);
      await Promise.all(Array.from({ length: 300 }, (_, i) => audit.record(entry(i + 1))));
      const size = async () =>
        (
          await sql<{ n: number; bytes: number }>`select (select count(*) from audit_pending)::int as n,
            pg_relation_size('audit_pending')::int as bytes`.execute(store.db)
        ).rows[0]!;
      // 300 rows inserted and deleted: none left, but their dead versions fill pages.
      expect(await size()).toMatchObject({ n: 0 });
      expect((await size()).bytes).toBeGreaterThan(0);
      await store.housekeep();
      expect(await size()).toEqual({ n: 0, bytes: 0 });
      expect(await audit.verify(ctx)).toMatchObject({ valid: true, events_checked: 301 });
    });

  describe('names the first invalid event after tampering in the database', () => {
    it('an event modified in place', async () => {
      const { store, audit } = await seeded(6);
      await dropTriggers(store, backend, 'audit_events');
      await sql`update audit_events set principal = 'mallory' where seq = 3`.execute(store.db);
      expect(await audit.verify(ctx)).toMatchObject({
        valid: false,
        events_checked: 2,
        first_invalid: { seq: 3, reason: 'modified' },
      });
    });

    it('an event deleted', async () => {
      const { store, audit } = await seeded(6);
      await dropTriggers(store, backend, 'audit_events');
      await sql`delete from audit_events where seq = 3`.execute(store.db);
      expect(await audit.verify(ctx)).toMatchObject({
        valid: false,
        first_invalid: { seq: 3, reason: 'deleted' },
      });
    });

    it('an event inserted, with valid hashes and the later events renumbered', async () => {
      const { store, audit } = await seeded(6);
      await dropTriggers(store, backend, 'audit_events');
      const third = (await audit.list(ctx, { page_size: 3 })).items[2]!;
      const forged: AuditEvent = seal(third, { ...third, principal: 'mallory', action: 'ApproveVersion' });
      // Two steps through negative numbers, since seq is unique after every row on both databases.
      await sql`update audit_events set seq = -(seq + 1) where seq > 3`.execute(store.db);
      await sql`update audit_events set seq = -seq where seq < 0`.execute(store.db);
      await store.write((repos) => repos.audit.insert(forged));
      await moveHeadToLast(store);
      expect(await audit.verify(ctx)).toMatchObject({
        valid: false,
        first_invalid: { seq: 4, reason: 'inserted' },
      });
    });

    it('two events reordered', async () => {
      const { store, audit } = await seeded(6);
      await dropTriggers(store, backend, 'audit_events');
      await sql`update audit_events set seq = -1 where seq = 4`.execute(store.db);
      await sql`update audit_events set seq = 4 where seq = 5`.execute(store.db);
      await sql`update audit_events set seq = 5 where seq = -1`.execute(store.db);
      expect(await audit.verify(ctx)).toMatchObject({
        valid: false,
        first_invalid: { seq: 4, reason: 'reordered' },
      });
    });

    it('a checkpoint signature', async () => {
      const { store, audit } = await seeded(3);
      const { checkpoint } = await audit.checkpoint(ctx);
      await dropTriggers(store, backend, 'audit_checkpoints');
      const forged = `${checkpoint.signature[0] === 'A' ? 'B' : 'A'}${checkpoint.signature.slice(1)}`;
      await sql`update audit_checkpoints set signature = ${forged}`.execute(store.db);
      expect(await audit.verify(ctx)).toMatchObject({
        valid: false,
        first_invalid: { seq: checkpoint.seq, reason: 'checkpoint_signature' },
      });
    });

    it('the tail deleted behind the last checkpoint', async () => {
      const { store, audit } = await seeded(4);
      const { checkpoint } = await audit.checkpoint(ctx);
      await dropTriggers(store, backend, 'audit_events');
      await sql`delete from audit_events where seq > 2`.execute(store.db);
      await moveHeadToLast(store);
      expect(await audit.verify(ctx)).toMatchObject({
        valid: false,
        first_invalid: { seq: 3, reason: 'deleted' },
      });
      expect(checkpoint.seq).toBeGreaterThan(2);
    });
  });

  it('signs the head only when it moved, each checkpoint verifiable by its key', async () => {
    const { store, audit } = await seeded(2);
    await expect(audit.checkpoints(ctx, {})).resolves.toEqual({ items: [], next_page_token: '' });
    const first = await audit.checkpoint(ctx); // signs seq 2; the request's own event becomes seq 3
    expect(first).toMatchObject({ created: true, checkpoint: { seq: 2 } });
    const second = await audit.checkpoint(ctx);
    expect(second).toMatchObject({ created: true, checkpoint: { seq: 3 } });
    const head = await store.read((r) => r.audit.head());
    expect(head.seq).toBe(4);
    const cps = await audit.checkpoints(ctx, { page_size: 1 });
    expect(cps.items.map((c) => c.seq)).toEqual([2]);
    expect(
      (await audit.checkpoints(ctx, { page_token: cps.next_page_token })).items.map((c) => c.seq),
    ).toEqual([3]);
    expect(await audit.verify(ctx)).toMatchObject({
      valid: true,
      checkpoints_checked: 2,
      key_ids: [audit.publicKey().key_id],
    });
  });
});
