import type { Readable } from 'node:stream';

export interface StoredArtifact {
  /** `sha256:<64 hex>` */
  digest: string;
  size_bytes: number;
  /** False when identical bytes were already stored (content addressing). */
  created: boolean;
}

export interface PutOptions {
  /** When given, the computed digest must equal it or nothing is stored. */
  expectedDigest?: string | undefined;
  /** When given (Content-Length), a shorter or longer body stores nothing. */
  expectedSize?: number | undefined;
  /** Upper bound; a larger body stores nothing. */
  maxBytes: number;
}

/**
 * Content-addressed bytes. Shaped so that an S3-compatible adapter fits: put streams once
 * and names the object by its digest only after the digest is known; reads may take a range.
 */
export interface ArtifactStore {
  /** Streams `body` to storage computing SHA-256; atomic: either the whole verified object exists afterwards or nothing new does. */
  put(body: Readable, options: PutOptions): Promise<StoredArtifact>;
  /** Size of a stored object, or undefined. */
  stat(digest: string): Promise<{ size_bytes: number } | undefined>;
  /** Streams the object, or bytes `start..end` inclusive of it. */
  open(digest: string, range?: { start: number; end: number }): Promise<Readable>;
  /** The whole object in memory (model loading). */
  read(digest: string): Promise<Buffer>;
  /** Readiness: the store can be written. */
  ping(): Promise<void>;
}
