import { createHash, randomUUID } from 'node:crypto';
import {
  type FileHandle,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { QuiverError } from '../../domain/errors.js';
import type { ArtifactStore, PutOptions, StoredArtifact } from '../../ports/artifact-store.js';
import { type Clock, systemClock } from '../../ports/clock.js';

/** The only digests that ever become paths: nothing else reaches the file system. */
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
const HOUR = 3_600_000;
const UPLOAD_PREFIX = 'upload-';

export interface FsArtifactStoreOptions {
  /** Temp files untouched for this long belong to dead uploads and are removed. */
  staleTempMs?: number;
  /** How often stale temp files are looked for (first time: on construction). */
  sweepEveryMs?: number;
  clock?: Clock;
}

/**
 * Artifacts as files under `{root}/sha256/ab/cd/<hex>`. An upload streams into `{root}/tmp`
 * while it is hashed and counted, is checked, fsynced, and only then given its name, with a
 * hard link: atomic and never overwriting, so the object under a digest is always complete
 * and exactly one of several concurrent uploads of the same bytes reports `created`.
 */
export class FsArtifactStore implements ArtifactStore {
  readonly root: string;
  readonly #tmp: string;
  readonly #staleTempMs: number;
  readonly #clock: Clock;
  readonly #timer: NodeJS.Timeout;

  constructor(root: string, options: FsArtifactStoreOptions = {}) {
    this.root = root;
    this.#tmp = join(root, 'tmp');
    this.#staleTempMs = options.staleTempMs ?? HOUR;
    this.#clock = options.clock ?? systemClock;
    this.#timer = setInterval(() => void this.sweep(), options.sweepEveryMs ?? HOUR).unref();
    void this.sweep();
  }

  /** Stops the periodic sweep. */
  close(): void {
    clearInterval(this.#timer);
  }

  async put(body: Readable, options: PutOptions): Promise<StoredArtifact> {
    const expectedDigest =
      options.expectedDigest === undefined
        ? undefined
        : checkDigest(options.expectedDigest, 'expectedDigest');
    const { expectedSize, maxBytes } = options;
    if (expectedSize !== undefined && expectedSize > maxBytes) throw tooLarge(maxBytes);

    await mkdir(this.#tmp, { recursive: true });
    const tmpPath = join(this.#tmp, `${UPLOAD_PREFIX}${randomUUID()}`);
    const file = await open(tmpPath, 'wx');
    let closed = false;
    try {
      const { hex, size } = await copyHashing(body, file, maxBytes, expectedSize);
      const digest = `sha256:${hex}`;
      if (expectedDigest !== undefined && expectedDigest !== digest) {
        throw new QuiverError(
          'DIGEST_MISMATCH',
          `The uploaded bytes have digest ${digest} but ${expectedDigest} was announced; nothing was stored.`,
          { details: { expected: expectedDigest, actual: digest } },
        );
      }
      await file.sync();
      await file.close();
      closed = true;
      const created = await this.#place(tmpPath, hex);
      return { digest, size_bytes: size, created };
    } finally {
      if (!closed) await file.close().catch(() => {});
      await rm(tmpPath, { force: true }).catch(() => {});
    }
  }

  async stat(digest: string): Promise<{ size_bytes: number } | undefined> {
    try {
      const s = await stat(this.#path(digest));
      return { size_bytes: s.size };
    } catch (err) {
      if (isCode(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  async open(digest: string, range?: { start: number; end: number }): Promise<Readable> {
    if (range !== undefined) checkRange(range);
    const path = this.#path(digest);
    let file: FileHandle;
    try {
      file = await open(path, 'r');
    } catch (err) {
      throw isCode(err, 'ENOENT') ? notFound(digest) : err;
    }
    // The stream owns the handle from here (autoClose): it closes at the end or on destroy.
    return file.createReadStream(range === undefined ? {} : { start: range.start, end: range.end });
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.#path(digest));
    } catch (err) {
      throw isCode(err, 'ENOENT') ? notFound(digest) : err;
    }
  }

  async ping(): Promise<void> {
    await mkdir(this.#tmp, { recursive: true });
    const probe = join(this.#tmp, `probe-${randomUUID()}`);
    try {
      await writeFile(probe, 'ok', { flag: 'wx' });
    } finally {
      await rm(probe, { force: true });
    }
  }

  /** Removes temp files of uploads that died (crash, lost client) more than `staleTempMs` ago. */
  async sweep(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.#tmp);
    } catch {
      return 0;
    }
    const before = this.#clock.now() - this.#staleTempMs;
    let removed = 0;
    for (const name of names) {
      const path = join(this.#tmp, name);
      try {
        if ((await stat(path)).mtimeMs < before) {
          await rm(path, { force: true });
          removed++;
        }
      } catch {
        // Gone meanwhile (finished or swept by another process): nothing to do.
      }
    }
    return removed;
  }

  #path(digest: string): string {
    const hex = checkDigest(digest, 'digest').slice('sha256:'.length);
    return objectPath(this.root, hex);
  }

  /** Names the verified temp file; false when the object existed already. */
  async #place(tmpPath: string, hex: string): Promise<boolean> {
    const target = objectPath(this.root, hex);
    const dir = dirname(target);
    const firstCreated = await mkdir(dir, { recursive: true });
    let created: boolean;
    try {
      await link(tmpPath, target);
      created = true;
    } catch (err) {
      if (isCode(err, 'EEXIST')) created = false;
      else if (isCode(err, 'EPERM') || isCode(err, 'ENOTSUP') || isCode(err, 'EOPNOTSUPP')) {
        // File systems without hard links: rename is atomic too, but may replace identical bytes.
        created = !(await exists(target));
        if (created) await rename(tmpPath, target);
      } else throw err;
    }
    if (created) {
      // The new name, and any directory made for it, must survive a crash once put() returns.
      const stop = firstCreated === undefined ? dir : dirname(firstCreated);
      for (let d = dir; ; d = dirname(d)) {
        await fsyncDir(d);
        if (d === stop || d === dirname(d)) break;
      }
    }
    return created;
  }
}

function objectPath(root: string, hex: string): string {
  return join(root, 'sha256', hex.slice(0, 2), hex.slice(2, 4), hex);
}

/**
 * Copies the body into `file`, hashing and counting as it goes; never holds more than a chunk.
 * Stops reading as soon as the body is too large or longer than announced. The body is not
 * destroyed on failure: its owner decides (an HTTP server answers and drains or closes).
 */
async function copyHashing(
  body: Readable,
  file: FileHandle,
  maxBytes: number,
  expectedSize: number | undefined,
): Promise<{ hex: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const chunks = body.iterator({ destroyOnReturn: false });
  try {
    for (;;) {
      let step: IteratorResult<unknown>;
      try {
        step = await chunks.next();
      } catch (err) {
        throw new QuiverError(
          'INCOMPLETE_UPLOAD',
          `The upload broke off after ${size} bytes${expectedSize === undefined ? '' : ` of ${expectedSize}`}; nothing was stored.`,
          { details: { received_bytes: size, ...sizeDetail(expectedSize) }, cause: err },
        );
      }
      if (step.done) break;
      const chunk = toBuffer(step.value);
      size += chunk.length;
      if (size > maxBytes) throw tooLarge(maxBytes);
      if (expectedSize !== undefined && size > expectedSize) {
        throw new QuiverError(
          'INCOMPLETE_UPLOAD',
          `The upload carried more than the announced ${expectedSize} bytes; nothing was stored.`,
          { details: { received_bytes: size, expected_bytes: expectedSize } },
        );
      }
      hash.update(chunk);
      await file.write(chunk);
    }
  } finally {
    await chunks.return?.();
  }
  if (expectedSize !== undefined && size !== expectedSize) {
    throw new QuiverError(
      'INCOMPLETE_UPLOAD',
      `The upload ended after ${size} of the announced ${expectedSize} bytes; nothing was stored.`,
      { details: { received_bytes: size, expected_bytes: expectedSize } },
    );
  }
  return { hex: hash.digest('hex'), size };
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new QuiverError('INVALID_ARGUMENT', 'An artifact body must be a stream of bytes.');
}

function sizeDetail(expectedSize: number | undefined): Record<string, number> {
  return expectedSize === undefined ? {} : { expected_bytes: expectedSize };
}

function checkDigest(digest: string, field: string): string {
  if (typeof digest !== 'string' || !DIGEST_RE.test(digest)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `${field} must look like sha256:<64 lowercase hex digits>; got ${JSON.stringify(String(digest).slice(0, 80))}.`,
      { details: { field } },
    );
  }
  return digest;
}

function checkRange(range: { start: number; end: number }): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new QuiverError('INVALID_ARGUMENT', `Invalid byte range ${start}-${end}.`, {
      details: { field: 'range' },
    });
  }
}

function tooLarge(maxBytes: number): QuiverError {
  return new QuiverError(
    'BODY_TOO_LARGE',
    `Artifacts may be at most ${maxBytes} bytes; nothing was stored.`,
    {
      details: { limit_bytes: maxBytes },
    },
  );
}

function notFound(digest: string): QuiverError {
  return new QuiverError('ARTIFACT_NOT_FOUND', `No artifact is stored under ${digest}.`, {
    details: { resource: `artifacts/${digest}` },
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isCode(err, 'ENOENT')) return false;
    throw err;
  }
}

async function fsyncDir(path: string): Promise<void> {
  let dir: FileHandle | undefined;
  try {
    dir = await open(path, 'r');
    await dir.sync();
  } catch (err) {
    // Some platforms (Windows) and file systems cannot fsync a directory; the rename is still atomic.
    if (!isCode(err, 'EISDIR') && !isCode(err, 'EPERM') && !isCode(err, 'EINVAL')) throw err;
  } finally {
    await dir?.close();
  }
}

function isCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
