import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsArtifactStore } from '../../src/adapters/fs/fs-artifact-store.js';
import { QuiverError } from '../../src/domain/errors.js';
import { ANONYMOUS } from '../../src/domain/resources.js';
import type { ArtifactStore, PutOptions } from '../../src/ports/artifact-store.js';
import { systemClock } from '../../src/ports/clock.js';
import { ArtifactService, parseRange } from '../../src/services/artifact.service.js';
import type { CallContext } from '../../src/services/context.js';
import { Mutations } from '../../src/services/mutations.js';
import { envelope, fromFastify, statusOf } from '../../src/transports/rest/errors.js';
import { artifactRoutes } from '../../src/transports/rest/routes/artifacts.routes.js';
import { SHARED_SCHEMAS } from '../../src/transports/rest/schemas.js';
import { expectError } from '../support/api.js';
import { expectQuiverError } from '../support/builders.js';
import { backends, testStore } from '../support/databases.js';

const BACKENDS = await backends();
const MB = 1024 * 1024;
const MAX_BYTES = 4 * MB;
const ctx: CallContext = { actor: ANONYMOUS, requestId: 'test' };
const hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const sha256 = (bytes: Buffer) => `sha256:${hex(bytes)}`;
const contentDigest = (bytes: Buffer) => `sha-256=:${createHash('sha256').update(bytes).digest('base64')}:`;

function chunked(bytes: Buffer, chunkSize = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
    })(),
  );
}

/** The real file store, with a tap on put() so a test can wait for an upload the server is handling. */
class TappedStore implements ArtifactStore {
  readonly settled: Promise<unknown>[] = [];
  #waiters: (() => void)[] = [];
  constructor(private readonly inner: ArtifactStore) {}

  /** Resolves when the server has started the next put. */
  nextPut(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  put(body: Readable, options: PutOptions) {
    const result = this.inner.put(body, options);
    this.settled.push(
      result.then(
        (v) => v,
        (e: unknown) => e,
      ),
    );
    for (const wake of this.#waiters.splice(0)) wake();
    return result;
  }
  stat(digest: string) {
    return this.inner.stat(digest);
  }
  open(digest: string, range?: { start: number; end: number }) {
    return this.inner.open(digest, range);
  }
  read(digest: string) {
    return this.inner.read(digest);
  }
  ping() {
    return this.inner.ping();
  }
}

/** A bare Fastify app with the REST app's validators, shared schemas and error envelope, and only the artifact routes. */
async function restApp(service: ArtifactService): Promise<FastifyInstance> {
  const app = Fastify({ routerOptions: { maxParamLength: 300 } });
  const ajvOptions = { removeAdditional: false, useDefaults: true, strict: false } as const;
  const strict = addFormats.default(new Ajv.default({ ...ajvOptions, coerceTypes: false }));
  const lenient = addFormats.default(new Ajv.default({ ...ajvOptions, coerceTypes: 'array' }));
  for (const schema of SHARED_SCHEMAS) {
    strict.addSchema(schema);
    lenient.addSchema(schema);
    app.addSchema(schema);
  }
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : lenient).compile(schema),
  );
  app.setErrorHandler((err: FastifyError | QuiverError, req, reply) => {
    const error = err instanceof QuiverError ? err : fromFastify(err);
    return reply.status(statusOf(error)).send(envelope(error, req.id));
  });
  await app.register(artifactRoutes(service), { prefix: '/v1' });
  await app.ready();
  return app;
}

describe.each(BACKENDS)('artifacts (%s)', (backend) => {
  let db: Awaited<ReturnType<typeof testStore>>;
  let files: TappedStore;
  let service: ArtifactService;
  let app: FastifyInstance;
  let root: string;
  let fsStore: FsArtifactStore;

  beforeAll(async () => {
    db = await testStore(backend);
    root = join(db.db.config.dataDir, 'artifacts');
    fsStore = new FsArtifactStore(root);
    files = new TappedStore(fsStore);
    service = new ArtifactService({
      store: db.store,
      mutations: new Mutations(db.store, systemClock.now),
      artifacts: files,
      clock: systemClock,
      maxBytes: MAX_BYTES,
    });
    app = await restApp(service);
  });
  afterAll(async () => {
    await app?.close();
    fsStore?.close();
    await db?.close();
  });

  const upload = (payload: Buffer | Readable, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/v1/artifacts',
      headers: { 'content-type': 'application/octet-stream', ...headers },
      payload,
    });
  const json = (res: { body: string; statusCode: number; headers: Record<string, unknown> }) => ({
    status: res.statusCode,
    body: JSON.parse(res.body),
    headers: res.headers,
  });
  const tempFiles = () => readdir(join(root, 'tmp')).catch(() => [] as string[]);

  async function expectNotStored(bytes: Buffer) {
    await expectQuiverError(service.get(ctx, sha256(bytes)), 'ARTIFACT_NOT_FOUND');
    expect(await files.stat(sha256(bytes))).toBeUndefined();
    expect(await tempFiles()).toEqual([]);
  }

  describe('service', () => {
    it('uploads a stream and records it; a repeat upload returns the first record', async () => {
      const bytes = randomBytes(300 * 1024);
      const first = await service.upload(ctx, chunked(bytes), {
        contentLength: bytes.length,
        mediaType: 'application/x-onnx',
      });
      expect(first).toEqual({
        artifact: { digest: sha256(bytes), size_bytes: bytes.length, media_type: 'application/x-onnx' },
        created: true,
      });
      const again = await service.upload(ctx, chunked(bytes, 1000), { mediaType: 'text/plain' });
      expect(again).toEqual({ artifact: first.artifact, created: false });
      const record = await service.get(ctx, sha256(bytes));
      expect(record).toMatchObject({ ...first.artifact, format: null, signature: null });
    });

    it('defaults the media type to application/octet-stream', async () => {
      const bytes = randomBytes(10);
      const { artifact } = await service.upload(ctx, chunked(bytes), {});
      expect(artifact.media_type).toBe('application/octet-stream');
    });

    it('opens the whole artifact or one range of it', async () => {
      const bytes = Buffer.from('the quick brown fox');
      await service.upload(ctx, chunked(bytes), {});
      const whole = await service.open(ctx, sha256(bytes));
      expect(whole).toMatchObject({ start: 0, end: bytes.length - 1, total: bytes.length, partial: false });
      expect(Buffer.concat(await whole.stream.toArray()).equals(bytes)).toBe(true);
      const part = await service.open(ctx, sha256(bytes), 'bytes=4-8');
      expect(part).toMatchObject({ start: 4, end: 8, total: bytes.length, partial: true });
      expect(Buffer.concat(await part.stream.toArray()).toString()).toBe('quick');
    });

    it('rejects bad digests and reports unknown ones', async () => {
      await expectQuiverError(service.get(ctx, 'sha256:nope'), 'INVALID_ARGUMENT');
      await expectQuiverError(service.get(ctx, sha256(randomBytes(4))), 'ARTIFACT_NOT_FOUND');
      await expectQuiverError(service.open(ctx, sha256(randomBytes(4))), 'ARTIFACT_NOT_FOUND');
    });

    it('rejects an announced size above the limit before reading', async () => {
      const body = chunked(randomBytes(10));
      await expectQuiverError(service.upload(ctx, body, { contentLength: MAX_BYTES + 1 }), 'BODY_TOO_LARGE');
      expect(body.readableDidRead).toBe(false);
    });
  });

  describe('POST /v1/artifacts', () => {
    it('stores 1 MB streamed in chunks and answers 201 with digest, size and media type', async () => {
      const bytes = randomBytes(MB);
      const res = json(await upload(chunked(bytes), { 'content-type': 'application/x-onnx' }));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toEqual({ digest: sha256(bytes), size_bytes: MB, media_type: 'application/x-onnx' });
      expect(res.headers.location).toBe(`/v1/artifacts/${sha256(bytes)}`);
      expect((await files.read(sha256(bytes))).equals(bytes)).toBe(true);
      expect(await tempFiles()).toEqual([]);
    });

    it('stores the same bytes once: 201, then 200 with the first record', async () => {
      const bytes = randomBytes(50_000);
      const first = json(await upload(bytes, { 'content-type': 'application/x-first' }));
      const second = json(await upload(bytes, { 'content-type': 'application/x-second' }));
      expect(first.status).toBe(201);
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      expect(second.body.media_type).toBe('application/x-first');
      const h = hex(bytes);
      expect(await readdir(join(root, 'sha256', h.slice(0, 2), h.slice(2, 4)))).toEqual([h]);
    });

    it('takes a JSON body as raw bytes, not as JSON', async () => {
      const bytes = Buffer.from('{"not": "parsed" }');
      const res = json(await upload(bytes, { 'content-type': 'application/json' }));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toEqual({
        digest: sha256(bytes),
        size_bytes: bytes.length,
        media_type: 'application/json',
      });
    });

    it('stores an empty body without a Content-Type as an empty octet stream', async () => {
      const res = json(await app.inject({ method: 'POST', url: '/v1/artifacts' }));
      expect([200, 201]).toContain(res.status);
      expect(res.body).toEqual({
        digest: sha256(Buffer.alloc(0)),
        size_bytes: 0,
        media_type: 'application/octet-stream',
      });
    });

    it('verifies Content-Digest (sha-256) and X-Quiver-Digest when they match', async () => {
      const a = randomBytes(1000);
      expect((await upload(a, { 'content-digest': contentDigest(a) })).statusCode).toBe(201);
      const b = randomBytes(1000);
      expect((await upload(b, { 'x-quiver-digest': sha256(b) })).statusCode).toBe(201);
      const c = randomBytes(1000);
      const both = {
        'content-digest': `sha-512=:${'A'.repeat(86)}==:, ${contentDigest(c)}`,
        'x-quiver-digest': sha256(c),
      };
      expect((await upload(c, both)).statusCode).toBe(201);
    });

    it('ignores a Content-Digest naming only algorithms it does not support', async () => {
      const bytes = randomBytes(1000);
      const res = await upload(bytes, { 'content-digest': 'sha-512=:AAAA:, unixsum=:AAAA:' });
      expect(res.statusCode, res.body).toBe(201);
    });

    it.each([
      ['content-digest', (other: Buffer) => contentDigest(other)],
      ['x-quiver-digest', (other: Buffer) => sha256(other)],
    ])(
      'rejects bytes that do not match %s with 400 DIGEST_MISMATCH and stores nothing',
      async (name, announce) => {
        const bytes = randomBytes(2000);
        const res = json(await upload(bytes, { [name]: announce(Buffer.from('other bytes')) }));
        expectError(res, 400, 'INVALID_ARGUMENT', 'DIGEST_MISMATCH');
        expect(res.body.error.message).toContain(sha256(bytes));
        expect(res.body.error.message).toContain(sha256(Buffer.from('other bytes')));
        await expectNotStored(bytes);
      },
    );

    it.each([
      ['content-digest', 'sha-256=abc', 'Content-Digest'],
      ['content-digest', 'sha-256=:AAAA:', 'Content-Digest'],
      ['content-digest', '???', 'Content-Digest'],
      ['x-quiver-digest', 'sha256:xyz', 'X-Quiver-Digest'],
      ['x-quiver-digest', 'md5:0123', 'X-Quiver-Digest'],
    ])('rejects a malformed %s (%s) with 400 naming the header', async (name, value, field) => {
      const bytes = randomBytes(100);
      const res = json(await upload(bytes, { [name]: value }));
      expectError(res, 400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT');
      expect(res.body.error.details.field).toBe(field);
      expect(res.body.error.message).toContain(field);
      await expectNotStored(bytes);
    });

    it('rejects Content-Digest and X-Quiver-Digest that disagree', async () => {
      const bytes = randomBytes(100);
      const res = json(
        await upload(bytes, {
          'content-digest': contentDigest(bytes),
          'x-quiver-digest': sha256(randomBytes(3)),
        }),
      );
      expectError(res, 400, 'INVALID_ARGUMENT');
      await expectNotStored(bytes);
    });

    it('rejects a body over the limit with 413 BODY_TOO_LARGE and stores nothing', async () => {
      const bytes = randomBytes(MAX_BYTES + 1);
      expectError(json(await upload(bytes)), 413, 'RESOURCE_EXHAUSTED', 'BODY_TOO_LARGE');
      const streamed = json(await upload(chunked(bytes)));
      expectError(streamed, 413, 'RESOURCE_EXHAUSTED', 'BODY_TOO_LARGE');
      await expectNotStored(bytes);
    });
  });

  describe('over a real socket', () => {
    let port: number;
    beforeAll(async () => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      port = (app.server.address() as AddressInfo).port;
    });

    it('stores a chunked upload without Content-Length', async () => {
      const bytes = randomBytes(700_000);
      const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/v1/artifacts' });
      req.setHeader('content-type', 'application/octet-stream');
      for (let i = 0; i < bytes.length; i += 100_000) req.write(bytes.subarray(i, i + 100_000));
      req.end();
      const [res] = (await once(req, 'response')) as [http.IncomingMessage];
      const body = JSON.parse(Buffer.concat(await res.toArray()).toString());
      expect(res.statusCode, JSON.stringify(body)).toBe(201);
      expect(body.digest).toBe(sha256(bytes));
    });

    it('stores nothing when the client disconnects before Content-Length bytes arrived', async () => {
      const part = randomBytes(1000);
      const started = files.nextPut();
      const socket = net.connect(port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(
        'POST /v1/artifacts HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n',
      );
      socket.write(part);
      await started;
      socket.destroy();
      const outcome = await files.settled.at(-1);
      expect(outcome).toBeInstanceOf(QuiverError);
      expect((outcome as QuiverError).reason).toBe('INCOMPLETE_UPLOAD');
      await expectNotStored(part);
    });
  });

  describe('GET and HEAD /v1/artifacts/:digest', () => {
    const bytes = randomBytes(10_000);
    const url = `/v1/artifacts/${sha256(bytes)}`;
    beforeAll(async () => {
      await service.upload(ctx, chunked(bytes), { mediaType: 'application/x-onnx' });
    });

    it('streams the whole artifact with its media type, length, ETag and Accept-Ranges', async () => {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload.equals(bytes)).toBe(true);
      expect(res.headers).toMatchObject({
        'content-type': 'application/x-onnx',
        'content-length': String(bytes.length),
        etag: `"${sha256(bytes)}"`,
        'accept-ranges': 'bytes',
      });
      expect(res.headers['content-range']).toBeUndefined();
    });

    it.each([
      ['bytes=100-199', 100, 199],
      ['bytes=9990-', 9990, 9999],
      ['bytes=-10', 9990, 9999],
      ['bytes=0-0', 0, 0],
      ['bytes=9000-999999', 9000, 9999],
      ['bytes=-999999', 0, 9999],
    ])('answers Range %s with 206 and the bytes %i-%i', async (range, start, end) => {
      const res = await app.inject({ method: 'GET', url, headers: { range } });
      expect(res.statusCode).toBe(206);
      expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${bytes.length}`);
      expect(res.headers['content-length']).toBe(String(end - start + 1));
      expect(res.rawPayload.equals(bytes.subarray(start, end + 1))).toBe(true);
    });

    it.each(['bytes=0-1,5-6', 'items=0-5', 'bytes=5-1', 'bytes=x-'])(
      'ignores a Range it does not serve (%s) and sends everything',
      async (range) => {
        const res = await app.inject({ method: 'GET', url, headers: { range } });
        expect(res.statusCode).toBe(200);
        expect(res.rawPayload.equals(bytes)).toBe(true);
      },
    );

    it.each(['bytes=10000-', 'bytes=20000-20010', 'bytes=-0'])(
      'rejects an unsatisfiable Range (%s), telling the size',
      async (range) => {
        const res = json(await app.inject({ method: 'GET', url, headers: { range } }));
        expectError(res, 416, 'INVALID_ARGUMENT', 'RANGE_NOT_SATISFIABLE');
        expect(res.body.error.details).toMatchObject({ field: 'Range', size_bytes: bytes.length });
        expect(res.headers['content-range']).toBe(`bytes */${bytes.length}`);
      },
    );

    it('answers HEAD with the headers of GET and no body', async () => {
      const res = await app.inject({ method: 'HEAD', url });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('');
      expect(res.headers).toMatchObject({
        'content-type': 'application/x-onnx',
        'content-length': String(bytes.length),
        etag: `"${sha256(bytes)}"`,
        'accept-ranges': 'bytes',
      });
      const ranged = await app.inject({ method: 'HEAD', url, headers: { range: 'bytes=0-99' } });
      expect(ranged.statusCode).toBe(206);
      expect(ranged.headers['content-range']).toBe(`bytes 0-99/${bytes.length}`);
    });

    it('answers an unknown digest with 404 ARTIFACT_NOT_FOUND', async () => {
      const unknown = `/v1/artifacts/${sha256(randomBytes(5))}`;
      expectError(
        json(await app.inject({ method: 'GET', url: unknown })),
        404,
        'NOT_FOUND',
        'ARTIFACT_NOT_FOUND',
      );
      expect((await app.inject({ method: 'HEAD', url: unknown })).statusCode).toBe(404);
    });

    it.each(['sha256:abc', `sha256:${'A'.repeat(64)}`, '..%2F..%2Fetc%2Fpasswd', `md5:${'a'.repeat(64)}`])(
      'answers a malformed digest (%s) with 400',
      async (digest) => {
        expectError(
          json(await app.inject({ method: 'GET', url: `/v1/artifacts/${digest}` })),
          400,
          'INVALID_ARGUMENT',
        );
      },
    );
  });
});

describe('parseRange', () => {
  it.each([
    [undefined, 10, undefined],
    ['bytes=0-4', 10, { start: 0, end: 4 }],
    ['bytes=3-', 10, { start: 3, end: 9 }],
    ['bytes=-3', 10, { start: 7, end: 9 }],
    ['bytes=-30', 10, { start: 0, end: 9 }],
    ['bytes=8-100', 10, { start: 8, end: 9 }],
    ['BYTES = 1 - 2', 10, { start: 1, end: 2 }],
    ['bytes=-', 10, undefined],
    ['bytes=4-2', 10, undefined],
    ['bytes=0-1, 3-4', 10, undefined],
    ['pages=1-2', 10, undefined],
  ])('reads %j of %i bytes as %j', (header, total, expected) => {
    expect(parseRange(header, total)).toEqual(expected);
  });

  it.each([
    ['bytes=10-', 10],
    ['bytes=10-20', 10],
    ['bytes=-0', 10],
    ['bytes=-5', 0],
    ['bytes=0-', 0],
  ])('rejects %j of %i bytes as unsatisfiable', (header, total) => {
    let caught: unknown;
    try {
      parseRange(header, total);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(QuiverError);
    expect((caught as QuiverError).details).toMatchObject({
      reason: 'RANGE_NOT_SATISFIABLE',
      field: 'Range',
      size_bytes: total,
    });
  });
});
