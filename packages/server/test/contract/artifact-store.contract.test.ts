import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsArtifactStore } from '../../src/adapters/fs/fs-artifact-store.js';
import type { ArtifactStore } from '../../src/ports/artifact-store.js';
import { expectQuiverError } from '../support/builders.js';

const MB = 1024 * 1024;
const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A body arriving in small chunks, as a socket delivers it. */
function chunked(bytes: Buffer, chunkSize = 16 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
    })(),
  );
}

/** A body that delivers `before` bytes and then fails, like a client that disconnects. */
function breaking(before: Buffer): Readable {
  return Readable.from(
    (async function* () {
      yield before;
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('socket hang up');
    })(),
  );
}

async function waitFor(condition: () => Promise<boolean>, what: string, deadlineMs = 5_000) {
  const until = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Adapter {
  name: string;
  create(): { store: ArtifactStore; root: string; close(): void };
}

const ADAPTERS: Adapter[] = [
  {
    name: 'fs',
    create() {
      const root = join(mkdtempSync(join(tmpdir(), 'quiver-artifacts-')), 'artifacts');
      const store = new FsArtifactStore(root);
      return {
        store,
        root,
        close: () => {
          store.close();
          rmSync(join(root, '..'), { recursive: true, force: true });
        },
      };
    },
  },
];

describe.each(ADAPTERS)('artifact store ($name)', (adapter) => {
  let store: ArtifactStore;
  let root: string;
  let close: () => void;
  const limit = { maxBytes: 8 * MB };

  beforeAll(() => {
    ({ store, root, close } = adapter.create());
  });
  afterAll(() => close());

  /** Temp files left in the store (there must be none after any put, failed or not). */
  async function tempFiles(): Promise<string[]> {
    return readdir(join(root, 'tmp')).catch(() => []);
  }

  async function expectNothingStored(bytes: Buffer) {
    expect(await store.stat(sha256(bytes))).toBeUndefined();
    expect(await tempFiles()).toEqual([]);
  }

  it('stores bytes under their sha256 digest and reads them back whole', async () => {
    const bytes = randomBytes(MB + 17);
    const stored = await store.put(chunked(bytes), { ...limit, expectedSize: bytes.length });
    expect(stored).toEqual({ digest: sha256(bytes), size_bytes: bytes.length, created: true });
    expect(await store.stat(stored.digest)).toEqual({ size_bytes: bytes.length });
    expect((await store.read(stored.digest)).equals(bytes)).toBe(true);
    const streamed = Buffer.concat(await (await store.open(stored.digest)).toArray());
    expect(streamed.equals(bytes)).toBe(true);
    expect(await tempFiles()).toEqual([]);
  });

  it('lays objects out as sha256/ab/cd/<hex>', async () => {
    const bytes = Buffer.from('layout');
    const { digest } = await store.put(chunked(bytes), limit);
    const hex = digest.slice('sha256:'.length);
    const file = await stat(join(root, 'sha256', hex.slice(0, 2), hex.slice(2, 4), hex));
    expect(file.size).toBe(bytes.length);
  });

  it('streams an inclusive byte range', async () => {
    const bytes = Buffer.from('0123456789abcdef');
    const { digest } = await store.put(chunked(bytes, 3), limit);
    expect(await text(await store.open(digest, { start: 3, end: 6 }))).toBe('3456');
    expect(await text(await store.open(digest, { start: 15, end: 15 }))).toBe('f');
    expect(await text(await store.open(digest, { start: 10, end: 99 }))).toBe('abcdef');
  });

  it('stores an empty artifact', async () => {
    const stored = await store.put(Readable.from([]), { ...limit, expectedSize: 0 });
    expect(stored.size_bytes).toBe(0);
    expect(stored.digest).toBe(sha256(Buffer.alloc(0)));
    expect((await store.read(stored.digest)).length).toBe(0);
  });

  it('stores the same bytes once: the second put reports created false', async () => {
    const bytes = randomBytes(4096);
    const first = await store.put(chunked(bytes), limit);
    const second = await store.put(chunked(bytes, 100), limit);
    expect(first.created).toBe(true);
    expect(second).toEqual({ ...first, created: false });
    expect(await tempFiles()).toEqual([]);
  });

  it('lets exactly one of several concurrent puts of the same bytes create the object', async () => {
    const bytes = randomBytes(256 * 1024);
    const results = await Promise.all(Array.from({ length: 8 }, () => store.put(chunked(bytes), limit)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.digest))).toEqual(new Set([sha256(bytes)]));
    expect((await store.read(sha256(bytes))).equals(bytes)).toBe(true);
    expect(await tempFiles()).toEqual([]);
  });

  it('accepts the body when the announced digest matches', async () => {
    const bytes = randomBytes(1000);
    const stored = await store.put(chunked(bytes), { ...limit, expectedDigest: sha256(bytes) });
    expect(stored.digest).toBe(sha256(bytes));
  });

  it('stores nothing when the digest does not match, naming both digests', async () => {
    const bytes = randomBytes(1000);
    const announced = sha256(Buffer.from('something else'));
    const err = await expectQuiverError(
      store.put(chunked(bytes), { ...limit, expectedDigest: announced }),
      'DIGEST_MISMATCH',
    );
    expect(err.message).toContain(announced);
    expect(err.message).toContain(sha256(bytes));
    expect(err.details).toMatchObject({ expected: announced, actual: sha256(bytes) });
    await expectNothingStored(bytes);
  });

  it('stores nothing when the body is shorter than expectedSize', async () => {
    const bytes = randomBytes(1000);
    const err = await expectQuiverError(
      store.put(chunked(bytes), { ...limit, expectedSize: 1001 }),
      'INCOMPLETE_UPLOAD',
    );
    expect(err.details).toMatchObject({ received_bytes: 1000, expected_bytes: 1001 });
    await expectNothingStored(bytes);
  });

  it('stores nothing when the body is longer than expectedSize', async () => {
    const bytes = randomBytes(1000);
    await expectQuiverError(store.put(chunked(bytes), { ...limit, expectedSize: 999 }), 'INCOMPLETE_UPLOAD');
    await expectNothingStored(bytes);
  });

  it('stores nothing and leaves no temp file when the body errors mid-way', async () => {
    const part = randomBytes(64 * 1024);
    const err = await expectQuiverError(store.put(breaking(part), limit), 'INCOMPLETE_UPLOAD');
    expect(err.details).toMatchObject({ received_bytes: part.length });
    await expectNothingStored(part);
  });

  it('stores nothing when the body is destroyed without an error', async () => {
    const body = new Readable({ read() {} });
    body.push(randomBytes(1000));
    setTimeout(() => body.destroy(), 5);
    await expectQuiverError(store.put(body, limit), 'INCOMPLETE_UPLOAD');
    expect(await tempFiles()).toEqual([]);
  });

  it('stops reading as soon as the body exceeds maxBytes', async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 1024;
        this.push(Buffer.alloc(1024, 1));
      },
    });
    await expectQuiverError(store.put(endless, { maxBytes: 10 * 1024 }), 'BODY_TOO_LARGE');
    expect(produced).toBeLessThan(200 * 1024);
    expect(await tempFiles()).toEqual([]);
    endless.destroy();
  });

  it('refuses an announced size above maxBytes before reading anything', async () => {
    const body = chunked(randomBytes(100));
    await expectQuiverError(store.put(body, { maxBytes: 10, expectedSize: 100 }), 'BODY_TOO_LARGE');
    expect(body.readableDidRead).toBe(false);
  });

  it('accepts a body of exactly maxBytes', async () => {
    const bytes = randomBytes(2048);
    const stored = await store.put(chunked(bytes, 100), { maxBytes: 2048, expectedSize: 2048 });
    expect(stored.size_bytes).toBe(2048);
  });

  it('reports an unknown digest as absent and not found', async () => {
    const unknown = sha256(randomBytes(8));
    expect(await store.stat(unknown)).toBeUndefined();
    await expectQuiverError(store.open(unknown), 'ARTIFACT_NOT_FOUND');
    await expectQuiverError(store.read(unknown), 'ARTIFACT_NOT_FOUND');
  });

  it.each([
    '../../../../etc/passwd',
    'sha256:../../../etc/passwd',
    `sha256:${'A'.repeat(64)}`,
    `sha256:${'a'.repeat(63)}`,
    `sha256:${'a'.repeat(64)}\n`,
    `sha256:${'a'.repeat(64)}/../x`,
    `sha512:${'a'.repeat(64)}`,
    `sha256:${'a'.repeat(62)}..`,
    '',
  ])('rejects the hostile digest %j everywhere', async (digest) => {
    await expectQuiverError(store.stat(digest), 'INVALID_ARGUMENT');
    await expectQuiverError(store.open(digest), 'INVALID_ARGUMENT');
    await expectQuiverError(store.read(digest), 'INVALID_ARGUMENT');
    await expectQuiverError(
      store.put(chunked(Buffer.from('x')), { ...limit, expectedDigest: digest }),
      'INVALID_ARGUMENT',
    );
  });

  it('answers ping by writing to the store', async () => {
    await store.ping();
    expect(await tempFiles()).toEqual([]);
  });
});

describe('fs artifact store housekeeping', () => {
  it('removes stale temp files on construction and keeps fresh ones', async () => {
    const base = mkdtempSync(join(tmpdir(), 'quiver-artifacts-'));
    const root = join(base, 'artifacts');
    await mkdir(join(root, 'tmp'), { recursive: true });
    const stale = join(root, 'tmp', 'upload-stale');
    const fresh = join(root, 'tmp', 'upload-fresh');
    await writeFile(stale, 'dead upload');
    await writeFile(fresh, 'live upload');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(stale, twoHoursAgo, twoHoursAgo);
    const store = new FsArtifactStore(root);
    try {
      await waitFor(async () => !(await readdir(join(root, 'tmp'))).includes('upload-stale'), 'the sweep');
      expect(await readdir(join(root, 'tmp'))).toEqual(['upload-fresh']);
    } finally {
      store.close();
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('reports ping failures when the root cannot be written', async () => {
    const base = mkdtempSync(join(tmpdir(), 'quiver-artifacts-'));
    await writeFile(join(base, 'file'), 'not a directory');
    const store = new FsArtifactStore(join(base, 'file', 'artifacts'));
    try {
      await expect(store.ping()).rejects.toThrow();
    } finally {
      store.close();
      rmSync(base, { recursive: true, force: true });
    }
  });
});
