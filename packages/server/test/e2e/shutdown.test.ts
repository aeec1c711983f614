import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { backends, TEST_TOKEN, type TestDatabase, testDatabase } from '../support/databases.js';
import { type OtlpReceiver, otlpHttpReceiver } from '../support/otlp-receiver.js';
import { waitFor } from '../support/serving.js';

const BACKENDS = await backends();
const CHILD = fileURLToPath(new URL('../support/serve-child.ts', import.meta.url));
const CHUNK = Buffer.alloc(1024 * 1024, 7);
const CHUNKS = 8;

/** Starts a Quiver child process; resolves with its REST address once it listens. */
function startChild(env: Record<string, string>): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (line) => resolve({ child, address: JSON.parse(String(line)).ready }));
    child.once('exit', (code) =>
      reject(new Error(`child exited (${code}) before it listened: ${err.slice(-2000)}`)),
    );
  });
}

/**
 * An artifact upload whose headers are sent first (Expect: 100-continue): `accepted` resolves once
 * the server has taken the request in (it answered 100 Continue), and the body is sent only when
 * `send` is called, so the request is in flight for as long as the test wants.
 */
function slowUpload(address: string) {
  const url = new URL('/v1/artifacts', address);
  let accepted!: () => void;
  const acceptedP = new Promise<void>((r) => (accepted = r));
  const req = request(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TEST_TOKEN}`,
      'content-type': 'application/octet-stream',
      'content-length': String(CHUNK.length * CHUNKS),
      expect: '100-continue',
    },
  });
  const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }),
      );
    });
    req.on('error', reject);
  });
  req.on('continue', () => accepted());
  req.flushHeaders();
  return {
    accepted: acceptedP,
    response,
    async send() {
      for (let i = 0; i < CHUNKS; i++) await new Promise<void>((r) => req.write(CHUNK, () => r()));
      req.end();
    },
  };
}

describe.each(BACKENDS)('graceful shutdown on SIGTERM (%s)', (backend) => {
  let db: TestDatabase;
  let receiver: OtlpReceiver;
  let child: ChildProcess | undefined;
  afterAll(async () => {
    child?.kill('SIGKILL');
    await db?.drop();
    await receiver?.close();
  });

  it('stops accepting, finishes the upload in flight, flushes its spans and exits 0', async () => {
    db = await testDatabase(backend);
    receiver = await otlpHttpReceiver();
    const started = await startChild({
      QUIVER_DATA_DIR: db.config.dataDir,
      QUIVER_LOG_LEVEL: 'silent',
      QUIVER_HTTP_PORT: '0',
      QUIVER_GRPC_PORT: '0',
      QUIVER_HTTP_HOST: '127.0.0.1',
      QUIVER_BOOTSTRAP_TOKEN: TEST_TOKEN,
      QUIVER_SHUTDOWN_GRACE_MS: '30000',
      QUIVER_OTEL_EXPORTERS: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      // Spans leave only when the batch is flushed: here, by the shutdown.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      ...(db.config.databaseUrl ? { QUIVER_DATABASE_URL: db.config.databaseUrl } : {}),
      ...(db.schema ? { QUIVER_TEST_PG_SCHEMA: db.schema } : {}),
    });
    child = started.child;
    const exited = new Promise<number | null>((resolve) =>
      started.child.once('exit', (code) => resolve(code)),
    );

    const upload = slowUpload(started.address);
    await upload.accepted;
    started.child.kill('SIGTERM');
    // New connections are refused (or answered 503) while the upload is still in flight.
    await waitFor(
      () =>
        fetch(`${started.address}/livez`).then(
          (r) => r.status,
          () => 'refused',
        ),
      (s) => s === 'refused' || s === 503,
      10_000,
      'the server to stop accepting',
    );
    await upload.send();
    const res = await upload.response;
    expect(res.status).toBe(201);
    const whole = Buffer.concat(Array.from({ length: CHUNKS }, () => CHUNK));
    expect(res.body.digest).toBe(`sha256:${createHash('sha256').update(whole).digest('hex')}`);
    expect(await exited).toBe(0);
    // Telemetry was flushed on the way out: the upload's server span reached the receiver.
    const span = receiver.spans.find((s) => s.name === 'POST /v1/artifacts');
    expect(span?.attributes['http.response.status_code']).toBe(201);
  });
});
