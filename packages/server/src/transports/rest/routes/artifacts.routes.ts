import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { QuiverError } from '../../../domain/errors.js';
import {
  type ArtifactService,
  type ArtifactSlice,
  DIGEST_PATTERN,
} from '../../../services/artifact.service.js';
import { callContext } from '../app.js';
import { errorResponses } from '../schemas.js';

const tags = ['artifacts'];

const ArtifactBody = Type.Object({
  digest: Type.String({ pattern: DIGEST_PATTERN, examples: [`sha256:${'0'.repeat(64)}`] }),
  size_bytes: Type.Integer({ minimum: 0 }),
  media_type: Type.String({ examples: ['application/octet-stream'] }),
});

const DigestParams = Type.Object({
  digest: Type.String({
    pattern: DIGEST_PATTERN,
    description: 'The SHA-256 digest of the bytes: `sha256:` and 64 lowercase hex digits.',
  }),
});

const UploadHeaders = Type.Object({
  'content-digest': Type.Optional(
    Type.String({
      description: 'RFC 9530, e.g. `sha-256=:<base64>:`; the bytes must match or nothing is stored.',
    }),
  ),
  'x-quiver-digest': Type.Optional(
    Type.String({ description: '`sha256:<hex>`; the bytes must match or nothing is stored.' }),
  ),
});

const DownloadHeaders = Type.Object({
  range: Type.Optional(
    Type.String({ description: 'One byte range: `bytes=a-b`, `bytes=a-` or `bytes=-n`.' }),
  ),
});

const DownloadResponseHeaders = {
  etag: Type.String({ description: 'The quoted digest: the bytes never change under it.' }),
  'accept-ranges': Type.Literal('bytes'),
};

const Bytes = (description: string, headers: Record<string, TSchema> = {}) => ({
  description,
  headers: { ...DownloadResponseHeaders, ...headers },
  content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
});
const ContentRange = {
  'content-range': Type.String({ description: '`bytes a-b/size`', examples: ['bytes 0-99/1000'] }),
};

/**
 * Artifact bytes in and out, streamed both ways: an upload is never buffered (the body
 * parser of this plugin hands the request stream through) and a download is a file stream.
 * The route body limit is the artifact limit, far above the JSON limit of the rest of the API.
 */
export function artifactRoutes(artifacts: ArtifactService): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    // Encapsulated: only this plugin's routes take any content type as raw bytes (JSON included).
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

    app.post(
      '/artifacts',
      {
        bodyLimit: artifacts.maxBytes,
        schema: {
          tags,
          summary: 'Upload artifact bytes (content-addressed; the same bytes are stored once)',
          description:
            'Send the raw bytes as the body (any Content-Type, kept as the media type). 201 when the bytes are new, 200 when they were already stored.',
          consumes: ['application/octet-stream'],
          headers: UploadHeaders,
          // Any value passes (the body is a stream); the schema documents the bytes in OpenAPI.
          body: Type.Unsafe<unknown>({ format: 'binary', description: 'The artifact bytes.' }),
          response: { 200: ArtifactBody, 201: ArtifactBody, ...errorResponses },
        },
      },
      async (req, reply) => {
        const body = req.body instanceof Readable ? req.body : req.raw;
        try {
          const { artifact, created } = await artifacts.upload(callContext(req), body, {
            contentLength: contentLength(req),
            digestHeaders: {
              contentDigest: header(req, 'content-digest'),
              quiverDigest: header(req, 'x-quiver-digest'),
            },
            mediaType: header(req, 'content-type'),
          });
          if (created) reply.header('location', `${req.url.split('?')[0]}/${artifact.digest}`);
          return reply.status(created ? 201 : 200).send(artifact);
        } catch (err) {
          // The rest of an unread body is not worth receiving: answer, then close the connection.
          if (req.raw.complete === false) reply.header('connection', 'close');
          throw err;
        }
      },
    );

    app.get(
      '/artifacts/:digest',
      {
        exposeHeadRoute: false,
        schema: {
          tags,
          summary: 'Download artifact bytes (supports one Range)',
          params: DigestParams,
          headers: DownloadHeaders,
          response: {
            200: Bytes('The whole artifact, with its media type.'),
            206: Bytes('The requested byte range.', ContentRange),
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const opened = await withRangeErrors(reply, () =>
          artifacts.open(callContext(req), req.params.digest, header(req, 'range')),
        );
        return describe(reply, opened).send(opened.stream);
      },
    );

    app.head(
      '/artifacts/:digest',
      {
        config: { swagger: { exposeHeadRoute: true } },
        schema: {
          tags,
          summary: 'Headers of an artifact download (size, media type, ETag) without the bytes',
          params: DigestParams,
          headers: DownloadHeaders,
          response: {
            200: { description: 'The artifact exists.', type: 'null', headers: DownloadResponseHeaders },
            206: {
              description: 'The range can be served.',
              type: 'null',
              headers: { ...DownloadResponseHeaders, ...ContentRange },
            },
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const slice = await withRangeErrors(reply, () =>
          artifacts.head(callContext(req), req.params.digest, header(req, 'range')),
        );
        return describe(reply, slice).send();
      },
    );
  };
}

/** Status and headers of a download; the body (if any) is the caller's. */
function describe(reply: FastifyReply, slice: ArtifactSlice): FastifyReply {
  reply
    .header('content-type', slice.record.media_type)
    .header('content-length', String(slice.partial ? slice.end - slice.start + 1 : slice.total))
    .header('etag', `"${slice.record.digest}"`)
    .header('accept-ranges', 'bytes');
  if (!slice.partial) return reply.status(200);
  return reply.status(206).header('content-range', `bytes ${slice.start}-${slice.end}/${slice.total}`);
}

/** An unsatisfiable Range tells the client the size (RFC 9110 §15.5.17). */
async function withRangeErrors<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (
      err instanceof QuiverError &&
      err.reason === 'RANGE_NOT_SATISFIABLE' &&
      typeof err.details.size_bytes === 'number'
    ) {
      reply.header('content-range', `bytes */${err.details.size_bytes}`);
    }
    throw err;
  }
}

function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? value.join(', ') : undefined;
}

function contentLength(req: FastifyRequest): number | undefined {
  const value = req.headers['content-length'];
  if (value === undefined || req.headers['transfer-encoding'] !== undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new QuiverError('INVALID_ARGUMENT', 'Content-Length must be a whole number of bytes.', {
      details: { field: 'Content-Length' },
    });
  }
  return n;
}
