import type { Readable } from 'node:stream';
import { QuiverError } from '../domain/errors.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { Clock } from '../ports/clock.js';
import type { ArtifactRecord } from '../ports/serving.repositories.js';
import type { UnitOfWork } from '../ports/unit-of-work.js';
import type { CallContext } from './context.js';
import type { Mutations } from './mutations.js';

export const DIGEST_PATTERN = '^sha256:[0-9a-f]{64}$';
const DIGEST_RE = new RegExp(DIGEST_PATTERN);
const DEFAULT_MEDIA_TYPE = 'application/octet-stream';
/** type/subtype with optional parameters (RFC 9110 §8.3.1), kept as sent. */
const MEDIA_TYPE_RE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;.*)?$/;

export interface ArtifactServiceDeps {
  store: UnitOfWork;
  /** Every change goes through here: idempotency, the audit log, cache invalidation. */
  mutations: Mutations;
  artifacts: ArtifactStore;
  clock: Clock;
  /** Largest artifact accepted, in bytes. */
  maxBytes: number;
  /** Downloads are sensitive reads: each is recorded in the audit log. */
  audit?: { recordRead(ctx: CallContext, action: string, resource: string): Promise<void> } | undefined;
}

/** An artifact as the API shows it. */
export interface Artifact {
  digest: string;
  size_bytes: number;
  media_type: string;
}

export interface UploadInput {
  /** Content-Length of the request, when known (not for chunked uploads). */
  contentLength?: number | undefined;
  /** Integrity announced by the client; the bytes must match or nothing is stored. */
  digestHeaders?: {
    /** RFC 9530 `Content-Digest`, e.g. `sha-256=:<base64>:`. */
    contentDigest?: string | undefined;
    /** `X-Quiver-Digest: sha256:<hex>`. */
    quiverDigest?: string | undefined;
  };
  /** Content-Type of the upload; `application/octet-stream` when missing. */
  mediaType?: string | undefined;
}

/** The bytes `start..end` (inclusive) of an artifact of `total` bytes; `partial` when a Range was honoured. */
export interface ArtifactSlice {
  record: ArtifactRecord;
  start: number;
  end: number;
  total: number;
  partial: boolean;
}

export interface OpenedArtifact extends ArtifactSlice {
  stream: Readable;
}

export class ArtifactService {
  constructor(private readonly deps: ArtifactServiceDeps) {}

  get maxBytes(): number {
    return this.deps.maxBytes;
  }

  /**
   * Stores the bytes of `body` under their SHA-256 digest and records them. Uploading the same
   * bytes again stores nothing new and returns the first record (`created: false`).
   */
  async upload(
    ctx: CallContext,
    body: Readable,
    input: UploadInput,
  ): Promise<{ artifact: Artifact; created: boolean }> {
    const expectedDigest = announcedDigest(input.digestHeaders);
    const media_type = checkMediaType(input.mediaType);
    const { mutations, artifacts, clock, maxBytes } = this.deps;
    const stored = await artifacts.put(body, {
      expectedDigest,
      expectedSize: input.contentLength,
      maxBytes,
    });
    const mutation = {
      action: 'UploadArtifact',
      resource: `artifacts/${stored.digest}`,
      request: { digest: stored.digest, size_bytes: stored.size_bytes, media_type },
    };
    const { record, created } = await mutations.run(ctx, mutation, async (repos) => {
      const existing = await repos.artifacts.get(stored.digest);
      if (existing) return { record: existing, created: false };
      const record = await repos.artifacts.upsert({
        digest: stored.digest,
        size_bytes: stored.size_bytes,
        media_type,
        format: null,
        signature: null,
        create_time: clock.now(),
      });
      return { record, created: true };
    });
    return { artifact: view(record), created };
  }

  async get(_ctx: CallContext, digest: string): Promise<ArtifactRecord> {
    checkDigest(digest);
    const record = await this.deps.store.read((repos) => repos.artifacts.get(digest));
    if (!record) {
      throw new QuiverError('ARTIFACT_NOT_FOUND', `No artifact is stored under ${digest}.`, {
        details: { resource: `artifacts/${digest}` },
      });
    }
    return record;
  }

  /** What `open` would send (for HEAD), without opening the bytes. */
  async head(ctx: CallContext, digest: string, rangeHeader?: string): Promise<ArtifactSlice> {
    const record = await this.get(ctx, digest);
    const total = record.size_bytes;
    const range = parseRange(rangeHeader, total);
    return range === undefined
      ? { record, start: 0, end: total - 1, total, partial: false }
      : { record, ...range, total, partial: true };
  }

  /** Streams an artifact, or the single byte range of a `Range: bytes=…` header. */
  async open(ctx: CallContext, digest: string, rangeHeader?: string): Promise<OpenedArtifact> {
    const slice = await this.head(ctx, digest, rangeHeader);
    const stream = await this.deps.artifacts.open(
      digest,
      slice.partial ? { start: slice.start, end: slice.end } : undefined,
    );
    try {
      await this.deps.audit?.recordRead(ctx, 'DownloadArtifact', `artifacts/${digest}`);
    } catch (err) {
      // No bytes leave without their audit event.
      stream.destroy();
      throw err;
    }
    return { ...slice, stream };
  }
}

function view(record: ArtifactRecord): Artifact {
  return { digest: record.digest, size_bytes: record.size_bytes, media_type: record.media_type };
}

function checkDigest(digest: string): void {
  if (!DIGEST_RE.test(digest)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      'An artifact digest must look like sha256:<64 lowercase hex digits>.',
      {
        details: { field: 'digest' },
      },
    );
  }
}

function checkMediaType(mediaType: string | undefined): string {
  const value = mediaType?.trim() || DEFAULT_MEDIA_TYPE;
  if (value.length > 255 || !MEDIA_TYPE_RE.test(value)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      'Content-Type must be a media type such as application/octet-stream.',
      {
        details: { field: 'Content-Type' },
      },
    );
  }
  return value;
}

/** The one sha256 digest the client announced, or undefined; conflicting or malformed headers are rejected. */
export function announcedDigest(headers: UploadInput['digestHeaders']): string | undefined {
  const fromContent = headers?.contentDigest ? parseContentDigest(headers.contentDigest) : undefined;
  const fromQuiver = headers?.quiverDigest ? parseQuiverDigest(headers.quiverDigest) : undefined;
  if (fromContent !== undefined && fromQuiver !== undefined && fromContent !== fromQuiver) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `Content-Digest announces ${fromContent} but X-Quiver-Digest announces ${fromQuiver}.`,
      { details: { field: 'X-Quiver-Digest' } },
    );
  }
  return fromContent ?? fromQuiver;
}

/** `X-Quiver-Digest: sha256:<64 hex>` (hex in either case). */
function parseQuiverDigest(value: string): string {
  const digest = value.trim().toLowerCase();
  if (!DIGEST_RE.test(digest)) {
    throw new QuiverError('INVALID_ARGUMENT', 'X-Quiver-Digest must look like sha256:<64 hex digits>.', {
      details: { field: 'X-Quiver-Digest' },
    });
  }
  return digest;
}

const DICT_MEMBER = /^([a-z*][a-z0-9_.*-]*)(?:=(.*))?$/;
const BYTE_SEQUENCE = /^:([A-Za-z0-9+/]*={0,2}):(?:;.*)?$/;

/**
 * RFC 9530 `Content-Digest`: a structured-field dictionary of algorithm → `:base64:`. Only
 * sha-256 is checked; other algorithms are ignored, and a header naming only those is ignored.
 */
function parseContentDigest(value: string): string | undefined {
  const malformed = () =>
    new QuiverError('INVALID_ARGUMENT', 'Content-Digest must look like sha-256=:<base64 of 32 bytes>:.', {
      details: { field: 'Content-Digest' },
    });
  const found = new Set<string>();
  for (const raw of value.split(',')) {
    const member = raw.trim();
    if (member === '') continue;
    const match = DICT_MEMBER.exec(lowerKey(member));
    if (!match) throw malformed();
    if (match[1] !== 'sha-256') continue;
    const base64 = BYTE_SEQUENCE.exec(match[2] ?? '')?.[1];
    if (base64 === undefined) throw malformed();
    const decoded = Buffer.from(base64, 'base64');
    if (decoded.length !== 32) throw malformed();
    found.add(`sha256:${decoded.toString('hex')}`);
  }
  if (found.size > 1) {
    throw new QuiverError('INVALID_ARGUMENT', 'Content-Digest announces more than one sha-256 digest.', {
      details: { field: 'Content-Digest' },
    });
  }
  return found.values().next().value;
}

/** Keys are lowercase in structured fields; accept `SHA-256=` from lax clients without touching the value. */
function lowerKey(member: string): string {
  const eq = member.indexOf('=');
  return eq < 0 ? member.toLowerCase() : member.slice(0, eq).toLowerCase() + member.slice(eq);
}

const RANGE_RE = /^bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i;

/**
 * A single byte range (RFC 9110 §14.1.2) resolved against `total` bytes, or undefined to send
 * everything: no header, another unit, several ranges or a syntax error are ignored, as the RFC
 * allows. A well-formed range that selects no byte is an error.
 */
export function parseRange(
  header: string | undefined,
  total: number,
): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const match = RANGE_RE.exec(header.trim());
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  let start: number;
  let end: number;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || total === 0) throw unsatisfiable(header, total);
    start = Math.max(0, total - suffix);
    end = total - 1;
  } else {
    start = Number(first);
    // last < first is not a range at all (ignored); first beyond the end is one that selects nothing.
    if (last !== '' && Number(last) < start) return undefined;
    if (start >= total) throw unsatisfiable(header, total);
    end = last === '' ? total - 1 : Math.min(Number(last), total - 1);
  }
  return { start, end };
}

/**
 * A Range that selects no byte of the artifact. Until a dedicated reason exists this is
 * RANGE_NOT_SATISFIABLE with `field: 'Range'`; REST answers it with 416 and
 * `Content-Range: bytes *\/{size_bytes}`.
 */
function unsatisfiable(header: string, total: number): QuiverError {
  return new QuiverError(
    'RANGE_NOT_SATISFIABLE',
    `Range ${JSON.stringify(header.slice(0, 100))} selects no byte of this artifact of ${total} bytes.`,
    { details: { field: 'Range', size_bytes: total } },
  );
}
