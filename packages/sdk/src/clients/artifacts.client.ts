import { QuiverError } from '../errors.js';
import type { CallOptions, Invoker } from '../invoker.js';
import { isAsyncIterable, iterableStream, relay } from '../streams.js';
import type { Artifact, ArtifactDownload, ByteProgress, ByteRange, UploadBody } from '../types.js';

/** Options of `artifacts.upload`. */
export interface UploadOptions extends Omit<CallOptions, 'ifMatch'> {
  /**
   * Byte count of a stream or iterable body (a Blob or Uint8Array knows its own): the
   * `totalBytes` of progress, and the Content-Length the server checks.
   */
  size?: number | undefined;
  /** `sha256:<hex>` of the bytes: the server stores nothing unless they match (`DIGEST_MISMATCH`). */
  digest?: string | undefined;
  /** Stored as the artifact's media type; default `application/octet-stream`. */
  mediaType?: string | undefined;
  /** Called as bytes go out: at 0, per chunk, and once more when the server has them all. */
  onProgress?: ByteProgress | undefined;
}

/** Options of `artifacts.download`. */
export interface DownloadOptions extends Omit<CallOptions, 'ifMatch' | 'idempotencyKey'> {
  /** Only these bytes (inclusive), e.g. `{ start: 1024 }` to resume after the first KiB. */
  range?: ByteRange | undefined;
  /** Called as bytes are read from `body`. */
  onProgress?: ByteProgress | undefined;
}

/**
 * Artifacts: model bytes, stored once under their SHA-256 digest. Upload them, then register
 * a version with `artifact: { digest }`.
 */
export class ArtifactsClient {
  /** @internal */
  constructor(private readonly invoker: Invoker) {}

  /**
   * Uploads bytes and returns their digest. The body is streamed where the runtime can send
   * a stream (Node, Deno, Chromium over HTTP/2), with `onProgress` as bytes go out; elsewhere a
   * Blob is sent as it is and a stream is read into a Blob first. Uploading bytes that are
   * already stored stores nothing new and returns the same digest. A Blob or Uint8Array is
   * retried like any call; a stream or iterable can be read only once, so it is not.
   *
   * @example
   * ```ts
   * // Browser: a file from an <input type="file">
   * const stored = await client.artifacts.upload(input.files[0], {
   *   onProgress: (sent, total) => console.log(`${sent}/${total}`),
   * });
   * // Node: a file stream, never the whole file in memory
   * import { createReadStream, statSync } from 'node:fs';
   * const { digest } = await client.artifacts.upload(createReadStream('model.onnx'), {
   *   size: statSync('model.onnx').size,
   * });
   * await client.versions.create('fraud', 'scorer', { artifact: { digest } });
   * ```
   */
  async upload(body: UploadBody, options: UploadOptions = {}): Promise<Artifact> {
    const { size, digest, mediaType, onProgress, ...call } = options;
    const replayable = body instanceof Blob || body instanceof Uint8Array;
    if (!replayable && !(body instanceof ReadableStream) && !isAsyncIterable(body)) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        'upload: the body must be a Blob, Uint8Array, ReadableStream or AsyncIterable of Uint8Array.',
        { details: { field: 'body' } },
      );
    }
    const payload = replayable || body instanceof ReadableStream ? body : iterableStream(body);
    return this.invoker.call(
      'UploadArtifact',
      { body: payload, size, digest, media_type: mediaType, onProgress },
      replayable ? call : { ...call, retries: 0 },
    );
  }

  /**
   * Reads what is stored under a digest (size and media type) without the bytes.
   * Fails with `NOT_FOUND` (reason `ARTIFACT_NOT_FOUND`) when nothing is.
   *
   * @example
   * ```ts
   * const { size_bytes, media_type } = await client.artifacts.get('sha256:9f86d0…');
   * ```
   */
  get(digest: string, options?: CallOptions): Promise<Artifact> {
    return this.invoker.call('GetArtifact', { digest }, options);
  }

  /**
   * Downloads the bytes under a digest as a stream (`body`), or one range of them. The call
   * resolves once the answer starts; `signal` also cancels the stream. Failed reads of `body`
   * are QuiverErrors (`UNAVAILABLE` for a lost connection).
   *
   * @example
   * ```ts
   * const download = await client.artifacts.download('sha256:9f86d0…');
   * const bytes = new Uint8Array(await new Response(download.body).arrayBuffer());
   * // Node: straight to a file
   * import { createWriteStream } from 'node:fs';
   * import { Writable } from 'node:stream';
   * await download.body.pipeTo(Writable.toWeb(createWriteStream('model.onnx')));
   * ```
   */
  async download(digest: string, options: DownloadOptions = {}): Promise<ArtifactDownload> {
    const { range, onProgress, ...call } = options;
    const download = await this.invoker.call('DownloadArtifact', { digest, range }, call);
    if (!onProgress) return download;
    const total = download.end - download.start + 1;
    let received = 0;
    onProgress(0, total);
    const body = relay(download.body, {
      onChunk: (chunk) => {
        received += chunk.byteLength;
        onProgress(received, total);
      },
    });
    return { ...download, body };
  }
}
