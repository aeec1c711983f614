import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteCheckpointer } from '../../src/adapters/sql/dialects/sqlite-checkpointer.js';
import { waitFor } from '../support/serving.js';

describe('SQLite WAL checkpointer thread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-ckpt-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A WAL database whose writer never checkpoints itself, and a writer of n rows in one transaction. */
  function walDatabase(name: string) {
    const file = join(dir, name);
    const db = new Sqlite(file);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('create table t (id integer primary key, body text)');
    const insert = db.prepare('insert into t (body) values (?)');
    const write = (n: number) =>
      db.transaction(() => {
        for (let i = 0; i < n; i++) insert.run('x'.repeat(200));
      })();
    return { file, db, write };
  }

  it('copies every committed WAL frame into the database file without the writer checkpointing', async () => {
    const { file, db, write } = walDatabase('db.sqlite');
    write(500);
    const checkpointer = new SqliteCheckpointer(file, 10);
    try {
      await waitFor(
        async () => ({ ...checkpointer.stats }),
        (s) => s.lastLog > 0 && s.lastCheckpointed === s.lastLog,
        10_000,
        'the thread to checkpoint the whole WAL',
      );
      expect(checkpointer.stats.lastError).toBeUndefined();
      // Nothing is left for the writer to copy: the thread did it.
      const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
      expect(row!.checkpointed).toBe(row!.log);
      expect((db.prepare('select count(*) as n from t').get() as { n: number }).n).toBe(500);
    } finally {
      await checkpointer.close();
      db.close();
    }
  });

  it('keeps copying when writes resume after the database rested (its slower idle passes)', async () => {
    const { file, db, write } = walDatabase('resting.sqlite');
    const checkpointer = new SqliteCheckpointer(file, 10);
    // Only the thread checkpoints here (the writer's own auto-checkpoint is off).
    const caughtUp = (after: number, what: string) =>
      waitFor(
        async () => ({ ...checkpointer.stats }),
        (s) => s.runs > after && s.lastLog > 0 && s.lastCheckpointed === s.lastLog,
        10_000,
        what,
      );
    try {
      write(200);
      await caughtUp(0, 'the first writes to be copied');
      // Past a second without writes the thread looks ten times less often; it must still come back.
      await new Promise((r) => setTimeout(r, 1_300));
      const runsBefore = checkpointer.stats.runs;
      write(300);
      await caughtUp(runsBefore, 'the writes after the rest to be copied');
      const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
      expect(row!.checkpointed).toBe(row!.log);
      expect(checkpointer.stats.lastError).toBeUndefined();
    } finally {
      await checkpointer.close();
      db.close();
    }
  });

  it('reports a file it cannot open instead of failing the process', async () => {
    const checkpointer = new SqliteCheckpointer(join(dir, 'missing', 'nope.db'), 10);
    await waitFor(
      async () => checkpointer.stats.lastError,
      (e) => e !== undefined,
      10_000,
      'the open error',
    );
    expect(checkpointer.stats.lastError).toMatch(/directory|open/i);
    await checkpointer.close();
  });
});
