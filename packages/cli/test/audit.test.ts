import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSince, verdictText } from '../src/commands/audit.js';
import { ok, quiver, startServer } from './support.js';

let server: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  server = await startServer();
  await ok(server.url, ['namespaces', 'create', 'fraud']);
  await ok(server.url, ['models', 'create', 'fraud/scorer']);
  await ok(server.url, ['versions', 'create', 'fraud/scorer']);
});
afterAll(() => server?.close());

describe('quiver audit', () => {
  it('lists events with filters, and streams them as JSON Lines', async () => {
    const table = await ok(server.url, [
      'audit',
      'events',
      '--resource',
      'namespaces/fraud/*',
      '--since',
      '1h',
    ]);
    expect(table).toMatch(/^SEQ\s+TIME\s+PRINCIPAL\s+ACTION\s+OUTCOME\s+RESOURCE/);
    expect(table).toMatch(
      /\n\d+\s+\S+ \S+\s+\S+\s+CreateModel\s+success\s+namespaces\/fraud\/models\/scorer\n/,
    );
    expect(table).toContain('namespaces/fraud/models/scorer/versions/1');

    const lines = (await ok(server.url, ['audit', 'events', '--action', 'CreateVersion', '--jsonl']))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      action: 'CreateVersion',
      resource: 'namespaces/fraud/models/scorer/versions/1',
    });
    expect(lines[0].hash).toMatch(/^[0-9a-f]{64}$/);

    const newest = await ok(server.url, [
      'audit',
      'events',
      '--newest-first',
      '--page-size',
      '1',
      '-o',
      'json',
    ]);
    expect(JSON.parse(newest).items[0].seq).toBeGreaterThan(lines[0].seq);
  });

  it('rejects a --since that is neither a time nor a duration', async () => {
    const bad = await quiver(server.url, ['audit', 'events', '--since', 'yesterday']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('RFC 3339');
    expect(parseSince('2h', () => Date.UTC(2026, 0, 1, 12))).toBe('2026-01-01T10:00:00.000Z');
  });

  it('signs a checkpoint and prints the public key', async () => {
    expect(await ok(server.url, ['audit', 'checkpoint'])).toMatch(/seq\s+\d+\nhash\s+[0-9a-f]{64}/);
    expect(await ok(server.url, ['audit', 'public-key'])).toMatch(
      /# key_id [0-9a-f]{16} \(Ed25519\)\n-----BEGIN PUBLIC KEY-----/,
    );
  });

  it('proves the log intact, then names the tampered event with exit status 1', async () => {
    const intact = await quiver(server.url, ['audit', 'verify']);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(
      /^OK: the audit log is intact: \d+ events and 1 signed checkpoints verified/,
    );
    expect(intact.stderr).toMatch(/events/); // progress, on stderr

    const db = server.quiver.store.db;
    await sql`drop trigger audit_events_no_update`.execute(db);
    await sql`update audit_events set principal = 'mallory' where seq = 2`.execute(db);
    const tampered = await quiver(server.url, ['audit', 'verify']);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('TAMPERED: the audit log is not intact at seq 2 (modified)');
    const json = await quiver(server.url, ['audit', 'verify', '-o', 'json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      valid: false,
      first_invalid: { seq: 2, reason: 'modified' },
    });
  });

  it('words a verdict for people', () => {
    const text = verdictText({
      valid: false,
      events_checked: 4,
      checkpoints_checked: 0,
      head_seq: 9,
      key_ids: [],
      first_invalid: { seq: 5, reason: 'deleted', message: 'event 5 is missing from the sequence' },
    });
    expect(text).toBe(
      'TAMPERED: the audit log is not intact at seq 5 (deleted): event 5 is missing from the sequence. 4 events before it verified.',
    );
  });
});
