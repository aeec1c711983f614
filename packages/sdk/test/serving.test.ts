import { createHash } from 'node:crypto';
import {
  collect,
  createClient,
  type Deployment,
  type FetchLike,
  type Operation,
  type QuiverClient,
} from '@quiver/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addModel, notAModel, referenceMlp, tinyMlp } from '../../server/test/support/onnx-models.js';
import { failure, startServer, TEST_TOKEN } from './server.js';

let server: Awaited<ReturnType<typeof startServer>>;
let client: QuiverClient;
const mlp = tinyMlp({ seed: 11 });
const MODEL = 'namespaces/serve/models/mlp';

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-5) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThan(tolerance);
}

/** Progress calls as [bytes, total] pairs. */
function recorder() {
  const calls: [number, number | undefined][] = [];
  return { calls, onProgress: (bytes: number, total: number | undefined) => calls.push([bytes, total]) };
}

function expectRising(calls: [number, number | undefined][], size: number) {
  expect(calls[0]).toEqual([0, size]);
  expect(calls.at(-1)).toEqual([size, size]);
  for (let i = 1; i < calls.length; i++) expect(calls[i]![0]).toBeGreaterThan(calls[i - 1]![0]);
}

async function* chunksOf(bytes: Uint8Array, size: number) {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

beforeAll(async () => {
  server = await startServer({ pollMs: 50 });
  client = createClient({ baseUrl: server.url, token: TEST_TOKEN });
  await client.namespaces.create({ namespace_id: 'serve' });
  await client.models.create('serve', { model_id: 'mlp' });
});
afterAll(() => server?.close());

describe('artifacts', () => {
  it('uploads bytes with progress and returns their digest; the same bytes again give the same digest', async () => {
    const bytes = notAModel(300_000, 1);
    const progress = recorder();
    const stored = await client.artifacts.upload(bytes, { onProgress: progress.onProgress });
    expect(stored).toEqual({
      digest: sha256(bytes),
      size_bytes: bytes.length,
      media_type: 'application/octet-stream',
    });
    expectRising(progress.calls, bytes.length);
    expect(progress.calls.length).toBeGreaterThan(3); // chunk by chunk, not all at once

    const again = await client.artifacts.upload(new Blob([bytes]), { mediaType: 'application/x-test' });
    expect(again.digest).toBe(stored.digest);
  });

  it('streams an async iterable or a ReadableStream, verified against the announced digest', async () => {
    const bytes = notAModel(200_000, 2);
    const progress = recorder();
    const stored = await client.artifacts.upload(chunksOf(bytes, 16_384), {
      size: bytes.length,
      digest: sha256(bytes),
      mediaType: 'application/x-test',
      onProgress: progress.onProgress,
    });
    expect(stored).toEqual({
      digest: sha256(bytes),
      size_bytes: bytes.length,
      media_type: 'application/x-test',
    });
    expectRising(progress.calls, bytes.length);

    const stream = new Blob([bytes.slice(0, 1000)]).stream();
    expect((await client.artifacts.upload(stream)).digest).toBe(sha256(bytes.slice(0, 1000)));
  });

  it('sends a stream as a stream, never kept whole in memory', async () => {
    const sent: Parameters<FetchLike>[1][] = [];
    const spy: FetchLike = (url, init) => {
      sent.push(init);
      return fetch(url, init as RequestInit);
    };
    const bytes = notAModel(100_000, 7);
    await createClient({ baseUrl: server.url, token: TEST_TOKEN, fetch: spy }).artifacts.upload(
      chunksOf(bytes, 10_000),
      {
        size: bytes.length,
      },
    );
    expect(sent[0]!.body).toBeInstanceOf(ReadableStream);
    // duplex: fetch sends a stream only with it; redirect: 'error' stops Node's fetch from keeping
    // a copy of every chunk (to replay the body on a redirect), which held whole uploads in memory.
    expect(sent[0]).toMatchObject({ duplex: 'half', redirect: 'error' });
    expect(sent[0]!.headers['content-length']).toBe(String(bytes.length));
  });

  it('refuses bytes that do not match the announced digest, and stores nothing', async () => {
    const bytes = notAModel(50_000, 3);
    const wrong = sha256(new Uint8Array([1, 2, 3]));
    const err = await failure(client.artifacts.upload(chunksOf(bytes, 8192), { digest: wrong }));
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'DIGEST_MISMATCH', httpStatus: 400 });
    const missing = await failure(client.artifacts.get(sha256(bytes)));
    expect(missing).toMatchObject({ code: 'NOT_FOUND', reason: 'ARTIFACT_NOT_FOUND' });
  });

  it('fails an upload whose body does not match its size or cannot be read, as INVALID_ARGUMENT', async () => {
    const bytes = notAModel(40_000, 6);
    const more = await failure(client.artifacts.upload(chunksOf(bytes, 8192), { size: 1000 }));
    expect(more).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'size' });
    const fewer = await failure(client.artifacts.upload(chunksOf(bytes, 8192), { size: 50_000 }));
    expect(fewer.message).toContain('40000 bytes, not size (50000)');
    async function* broken() {
      yield bytes.slice(0, 100);
      throw new Error('disk on fire');
    }
    for (const streamingUploads of [true, false]) {
      const c = createClient({ baseUrl: server.url, token: TEST_TOKEN, streamingUploads });
      const err = await failure(c.artifacts.upload(broken()));
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'body' });
      expect(err.message).toContain('disk on fire');
    }
  });

  it('reads an artifact without its bytes, downloads it whole or a range, with progress', async () => {
    const bytes = notAModel(100_000, 4);
    const { digest } = await client.artifacts.upload(bytes, { mediaType: 'application/x-test' });
    expect(await client.artifacts.get(digest)).toEqual({
      digest,
      size_bytes: bytes.length,
      media_type: 'application/x-test',
    });

    const progress = recorder();
    const whole = await client.artifacts.download(digest, { onProgress: progress.onProgress });
    expect(whole).toMatchObject({
      digest,
      size_bytes: bytes.length,
      start: 0,
      end: bytes.length - 1,
      partial: false,
    });
    expect(new Uint8Array(await new Response(whole.body).arrayBuffer())).toEqual(bytes);
    expectRising(progress.calls, bytes.length);

    const part = await client.artifacts.download(digest, { range: { start: 10, end: 19 } });
    expect(part).toMatchObject({ size_bytes: bytes.length, start: 10, end: 19, partial: true });
    expect(new Uint8Array(await new Response(part.body).arrayBuffer())).toEqual(bytes.slice(10, 20));

    const unknown = await failure(client.artifacts.download(`sha256:${'1'.repeat(64)}`));
    expect(unknown).toMatchObject({ code: 'NOT_FOUND', reason: 'ARTIFACT_NOT_FOUND', httpStatus: 404 });
    const bad = await failure(client.artifacts.get('md5:abc'));
    expect(bad.code).toBe('INVALID_ARGUMENT');
  });

  it('buffers a stream into a Blob where the runtime cannot send streams', async () => {
    const bytes = notAModel(70_000, 5);
    const sent: unknown[] = [];
    const spy: FetchLike = (url, init) => {
      sent.push(init.body);
      return fetch(url, init as RequestInit);
    };
    const legacy = createClient({
      baseUrl: server.url,
      token: TEST_TOKEN,
      fetch: spy,
      streamingUploads: false,
    });
    const progress = recorder();
    const stored = await legacy.artifacts.upload(chunksOf(bytes, 10_000), {
      size: bytes.length,
      onProgress: progress.onProgress,
    });
    expect(stored.digest).toBe(sha256(bytes));
    expect(sent[0]).toBeInstanceOf(Blob);
    expectRising(progress.calls, bytes.length);
  });
});

describe('deployments, operations and inference', () => {
  let version: number;

  beforeAll(async () => {
    const { digest } = await client.artifacts.upload(mlp.bytes);
    version = (await client.versions.create('serve', 'mlp', { artifact: { digest } })).version;
    await client.aliases.set('serve', 'mlp', 'champion', version);
  });

  it('deploys, reports progress while waiting, and serves inference equal to the reference MLP', async () => {
    const op = await client.deployments.create({
      deployment_id: 'mlp-prod',
      model: MODEL,
      version: '@champion',
    });
    expect(op.name).toMatch(/^operations\/[0-9a-f-]{36}$/);
    expect(op.operation.metadata).toMatchObject({ kind: 'deploy', target: 'deployments/mlp-prod' });
    expect(JSON.parse(JSON.stringify(op))).toEqual(op.operation);

    const seen: Operation[] = [];
    const done = await op.wait({ onProgress: (o) => seen.push(o) });
    expect(done.done).toBe(true);
    expect(done.result).toMatchObject({ status: 'ready', serving: [{ version, percent: 100 }] });
    expect(seen.at(-1)).toEqual(done);
    const percents = seen.map((o) => o.metadata.progress);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(op.done).toBe(true);

    const x = [0.5, -1, 2, 3, 1, 1, 1, 1];
    const answer = await client.inference.infer({
      deployment: 'mlp-prod',
      id: 'req-1',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: new Float32Array(x) }],
    });
    expect(answer).toMatchObject({ model_name: 'mlp-prod', model_version: String(version), id: 'req-1' });
    const [out] = answer.outputs;
    expect(out).toMatchObject({ name: 'output', datatype: 'FP32', shape: [2, 3] });
    expect(out!.data).toBeInstanceOf(Float32Array);
    expectClose(out!.data as Float32Array, referenceMlp(mlp.weights, x));

    const pinned = await client.inference.infer({
      deployment: 'deployments/mlp-prod',
      version: '@champion',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }],
      outputs: ['output'],
    });
    expectClose(pinned.outputs[0]!.data as Float32Array, referenceMlp(mlp.weights, [1, 2, 3, 4]));
  });

  it('watches an operation as a stream of changes that ends when it is done', async () => {
    const handle = await client.deployments.create({ deployment_id: 'mlp-watch', model: MODEL, version });
    const ops = await collect(client.operations.watch<Deployment>(handle.name));
    expect(ops.length).toBeGreaterThan(1);
    expect(ops.slice(0, -1).every((o) => !o.done)).toBe(true);
    const last = ops.at(-1)!;
    expect(last).toMatchObject({ done: true, metadata: { progress: 100 } });
    expect(last.result?.status).toBe('ready');
    expect(new Set(ops.map((o) => JSON.stringify(o))).size).toBe(ops.length); // changes only

    // A done operation: one event, then the stream ends.
    expect(await collect(client.operations.watch(handle.name))).toEqual([last]);
    expect(await client.operations.get(handle.name.replace('operations/', ''))).toEqual(last);
  });

  it('stops a watch when its signal aborts, with CANCELLED', async () => {
    const handle = await client.deployments.update('mlp-watch', { replicas: 2 });
    const controller = new AbortController();
    const err = await failure(
      (async () => {
        for await (const _ of client.operations.watch(handle.name, { signal: controller.signal }))
          controller.abort();
      })(),
    );
    expect(err.code).toBe('CANCELLED');
    await handle.wait();
  });

  it('lists, reads in batches, updates and deletes deployments through operations', async () => {
    const d = await client.deployments.get('mlp-watch');
    expect(d).toMatchObject({ deployment_id: 'mlp-watch', model: MODEL, replicas: 2, status: 'ready' });

    const all = await collect(client.deployments.iterate({ page_size: 1 }));
    expect(all.map((x) => x.deployment_id)).toEqual(expect.arrayContaining(['mlp-prod', 'mlp-watch']));
    const page = await client.deployments.list({ page_size: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.next_page_token).not.toBe('');

    const batch = await client.deployments.batchGet(['mlp-prod', 'deployments/mlp-watch', 'absent']);
    expect(batch.deployments.map((x) => x.deployment_id)).toEqual(['mlp-prod', 'mlp-watch']);
    expect(batch.missing).toEqual(['absent']);

    const updated = await (
      await client.deployments.update('mlp-watch', {
        batching: { max_batch_size: 8, max_queue_delay_us: 500 },
      })
    ).wait();
    expect(updated.result).toMatchObject({ batching: { max_batch_size: 8, max_queue_delay_us: 500 } });

    const stale = await failure(client.deployments.update('mlp-watch', { replicas: 3 }, { ifMatch: d.etag }));
    expect(stale).toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'ETAG_MISMATCH' });

    const removed = await (await client.deployments.delete('mlp-watch')).wait();
    expect(removed.result).toEqual({ name: 'deployments/mlp-watch', deleted: true });
    expect((await failure(client.deployments.get('mlp-watch'))).reason).toBe('DEPLOYMENT_NOT_FOUND');
  });

  it('carries 64-bit integers without loss, as BigInt64Array', async () => {
    await client.models.create('serve', { model_id: 'adder' });
    const { digest } = await client.artifacts.upload(addModel('INT64'));
    await client.versions.create('serve', 'adder', { artifact: { digest } });
    await (
      await client.deployments.create({
        deployment_id: 'adder',
        model: 'namespaces/serve/models/adder',
        version: 1,
      })
    ).wait();
    const big = 2n ** 60n;
    const answer = await client.inference.infer({
      deployment: 'adder',
      inputs: [
        { name: 'x', datatype: 'INT64', shape: [1, 2], data: new BigInt64Array([big, -5n]) },
        { name: 'y', datatype: 'INT64', shape: [1, 2], data: [1, 2] },
      ],
    });
    const [z] = answer.outputs;
    expect(z?.datatype).toBe('INT64');
    expect(z!.data).toEqual(new BigInt64Array([big + 1n, -3n]));
  });

  it('throws the error of a failed deploy as a QuiverError naming the operation', async () => {
    const plain = await client.versions.create('serve', 'mlp', { description: 'metadata only' });
    const op = await client.deployments.create({
      deployment_id: 'nothing',
      model: MODEL,
      version: plain.version,
    });
    const err = await failure(op.wait());
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain('no ONNX artifact');
    expect(err.details.operation).toBe(op.name);
    expect(op.operation.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await client.deployments.get('nothing')).status).toBe('failed');
    // Waiting again on a handle that is done answers without a request.
    expect((await failure(op.wait())).code).toBe('INVALID_ARGUMENT');
    expect((await failure(client.operations.wait(op.name))).message).toContain('no ONNX artifact');
  });

  it('maps serving errors to QuiverErrors', async () => {
    const tensor = await failure(
      client.inference.infer({
        deployment: 'mlp-prod',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 5], data: [1, 2, 3, 4, 5] }],
      }),
    );
    expect(tensor).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'INVALID_TENSOR', httpStatus: 400 });
    const unknown = await failure(client.inference.infer({ deployment: 'nope', inputs: [] }, { retries: 0 }));
    expect(unknown.code).toBe('NOT_FOUND');

    const dup = await failure(
      client.deployments.create({ deployment_id: 'mlp-prod', model: MODEL, version: 1 }),
    );
    expect(dup.code).toBe('ALREADY_EXISTS');
    const noOp = await failure(
      client.operations.get(`operations/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`),
    );
    expect(noOp).toMatchObject({ code: 'NOT_FOUND', reason: 'OPERATION_NOT_FOUND' });
    const noWatch = await failure(collect(client.operations.watch('operations/not-a-uuid')));
    expect(noWatch.code).toBe('INVALID_ARGUMENT');

    const slow = await client.deployments.update('mlp-prod', { replicas: 2 });
    const timeout = await failure(slow.wait({ timeoutMs: 1 }));
    expect(timeout).toMatchObject({ code: 'UNAVAILABLE', reason: 'DEADLINE_EXCEEDED' });
    await slow.wait();
  });
});
