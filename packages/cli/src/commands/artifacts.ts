import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { type Artifact, isQuiverError, QuiverError } from '@quiver/sdk';
import type { Command } from 'commander';
import { type Context, OUTPUT_IS_FILE, usage } from '../context.js';
import { type Column, FORMATS } from '../output.js';
import { bytes, TransferProgress } from '../progress.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/i;
const CHUNK = 1024 * 1024;

const DETAIL: Column<Artifact>[] = [
  ['digest', (a) => a.digest],
  ['size_bytes', (a) => `${a.size_bytes} (${bytes(a.size_bytes)})`],
  ['media_type', (a) => a.media_type],
];

/**
 * Uploads a file the way `versions create --artifact <file>` and `artifacts upload` do: reads
 * it once to compute its SHA-256, skips the upload when the server already has those bytes,
 * else streams it with X-Quiver-Digest so the server stores nothing unless the bytes it got
 * match. The file is read in 1 MiB chunks both times, never whole into memory.
 */
export async function uploadFile(
  ctx: Context,
  path: string,
  options: { mediaType?: string | undefined; field?: string } = {},
): Promise<{ artifact: Artifact; uploaded: boolean }> {
  const field = options.field ?? 'file';
  const size = await fileSize(path, field);
  const name = basename(path);

  const hashing = new TransferProgress(ctx.io, { doing: 'Hashing', did: 'Hashed', what: name }, size);
  const hash = createHash('sha256');
  let read = 0;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) {
      hash.update(chunk as Buffer);
      read += (chunk as Buffer).byteLength;
      hashing.update(read);
    }
  } catch (err) {
    hashing.abandon();
    throw usage(field, `${field}: cannot read ${path}: ${(err as Error).message}`);
  }
  hashing.finish(read);
  const digest = `sha256:${hash.digest('hex')}`;

  try {
    const stored = await ctx.client.artifacts.get(digest);
    ctx.printer.note(`Already stored as ${digest}; not uploading it again.`);
    return { artifact: stored, uploaded: false };
  } catch (err) {
    if (!isQuiverError(err, 'NOT_FOUND')) throw err;
  }

  const uploading = new TransferProgress(ctx.io, { doing: 'Uploading', did: 'Uploaded', what: name }, size);
  try {
    const artifact = await ctx.client.artifacts.upload(createReadStream(path, { highWaterMark: CHUNK }), {
      size,
      digest,
      mediaType: options.mediaType,
      onProgress: (sent) => uploading.update(sent),
    });
    uploading.finish(artifact.size_bytes);
    return { artifact, uploaded: true };
  } catch (err) {
    uploading.abandon();
    throw err;
  }
}

/** The size of a regular file, or a usage error naming the option it came from. */
export async function fileSize(path: string, field: string): Promise<number> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw usage(
      field,
      code === 'ENOENT'
        ? `${field}: no such file: ${path}`
        : `${field}: cannot read ${path}: ${(err as Error).message}`,
    );
  }
  if (!info.isFile()) throw usage(field, `${field}: ${path} is not a file.`);
  return info.size;
}

/** Whether an `--artifact` value is a digest rather than a file (`sha256:…`). */
export const isDigest = (value: string) => /^sha256:/i.test(value);

/** `--artifact` takes a digest (`sha256:…`) or a file to upload first; resolves with the digest. */
export async function artifactDigest(ctx: Context, value: string): Promise<string> {
  if (isDigest(value)) {
    if (!DIGEST.test(value)) {
      throw usage('--artifact', `--artifact: a digest is sha256: and 64 hex digits; got '${value}'.`);
    }
    return value.toLowerCase();
  }
  return (await uploadFile(ctx, value, { field: '--artifact' })).artifact.digest;
}

export function artifactsCommand(program: Command, context: (cmd: Command) => Context): void {
  const artifacts = program
    .command('artifacts')
    .description('Artifacts: model files, stored once under their SHA-256 digest')
    .addHelpText(
      'after',
      `
Most of the time you do not need these: \`quiver versions create fraud/scorer --artifact
model.onnx\` uploads the file and registers it in one step.

Examples:
  $ quiver artifacts upload model.onnx
  $ quiver artifacts get sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
  $ quiver artifacts get sha256:9f86d0… -o model.onnx`,
    );

  artifacts
    .command('upload')
    .description('Upload a file; prints its digest (the same bytes are stored once)')
    .argument('<file>', 'the file to upload, e.g. model.onnx')
    .option('--media-type <type>', 'stored as its media type (default application/octet-stream)')
    .addHelpText(
      'after',
      `
The file is hashed locally first (SHA-256), then streamed with a progress bar; the server
refuses bytes that do not match the hash, and bytes it already has are not sent again.

Examples:
  $ quiver artifacts upload model.onnx
  $ quiver versions create fraud/scorer --artifact "$(quiver artifacts upload model.onnx -o json | jq -r .digest)"`,
    )
    .action(async (file: string, opts: { mediaType?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const { artifact } = await uploadFile(ctx, file, { mediaType: opts.mediaType });
      ctx.printer.resource(artifact, DETAIL);
    });

  const get = artifacts
    .command('get')
    .description('Show an artifact (size, media type), or download it with -o <file>')
    .argument('<digest>', 'sha256: and 64 hex digits')
    .addHelpText(
      'after',
      `
Here -o, --output names the file to write (-o json and -o table still pick a format; write
./json for a file of that name). The download is checked against
the digest as it is written; the file only appears once it is complete and correct.

Examples:
  $ quiver artifacts get sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
  $ quiver artifacts get sha256:9f86d0… -o model.onnx`,
    )
    .action(async (digest: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const output = cmd.optsWithGlobals<{ output: string }>().output;
      const file = FORMATS.some((f) => f === output) ? undefined : output;
      if (file === undefined) {
        ctx.printer.resource(await ctx.client.artifacts.get(digest), DETAIL);
        return;
      }
      const written = await download(ctx, digest, file);
      ctx.printer.note(`Wrote ${bytes(written.size_bytes)} to ${file}.`);
    });
  OUTPUT_IS_FILE.add(get);
}

/** Streams an artifact into `file` through a temporary file, checking its SHA-256 on the way. */
async function download(ctx: Context, digest: string, file: string): Promise<Artifact> {
  const answer = await ctx.client.artifacts.download(digest);
  const progress = new TransferProgress(
    ctx.io,
    { doing: 'Downloading', did: 'Downloaded', what: basename(file) },
    answer.size_bytes,
  );
  const hash = createHash('sha256');
  let received = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      received += chunk.byteLength;
      progress.update(received);
      done(null, chunk);
    },
  });
  const partial = `${file}.partial`;
  try {
    await pipeline(
      Readable.fromWeb(answer.body as unknown as WebReadableStream<Uint8Array>),
      tap,
      createWriteStream(partial),
    );
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== answer.digest.toLowerCase()) {
      throw new QuiverError('INTERNAL', `The bytes received hash to ${actual}, not ${answer.digest}.`, {
        details: { reason: 'DIGEST_MISMATCH' },
      });
    }
    await rename(partial, file);
  } catch (err) {
    progress.abandon();
    await rm(partial, { force: true });
    throw err;
  }
  progress.finish(received);
  return { digest: answer.digest, size_bytes: answer.size_bytes, media_type: answer.media_type };
}
