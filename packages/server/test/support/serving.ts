import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { expect } from 'vitest';
import { LOADER_OPTIONS, OIP_PROTO_PATH } from '../../src/transports/grpc/server.js';
import { AUTH, TEST_TOKEN } from './databases.js';
import { buildModel, floatInitializer, node, valueInfo } from './onnx-models.js';

/** A standard OIP gRPC client, generated from the same proto any KServe/Triton client uses. */
export function oipClient(port: number) {
  const def = grpc.loadPackageDefinition(protoLoader.loadSync(OIP_PROTO_PATH, LOADER_OPTIONS)) as any;
  const client = new def.inference.GRPCInferenceService(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  );
  /** Authenticates as the test admin unless given other metadata. */
  const call = (method: string, request: unknown, metadata = adminMetadata()): Promise<any> =>
    new Promise((resolve, reject) =>
      client[method](request, metadata, (err: unknown, res: unknown) => (err ? reject(err) : resolve(res))),
    );
  return { client, call, close: () => client.close() };
}

/** gRPC metadata carrying a bearer token (the test admin's by default). */
export function adminMetadata(token: string = TEST_TOKEN): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

/** Waits for a condition with a deadline, polling (no fixed sleeps). */
export async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(value).slice(0, 500)}`,
      );
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A model with a large weight matrix (about `megabytes` MB) so that loading it takes long
 * enough to interrupt: y = x · W, x FP32 [-1, rows], W [rows, 1024].
 */
export function heavyModel(megabytes: number): Uint8Array {
  const cols = 1024;
  const rows = Math.max(1, Math.round((megabytes * 1024 * 1024) / 4 / cols));
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < w.length; i += 97) w[i] = (i % 13) / 13;
  return buildModel({
    nodes: [node('MatMul', ['x', 'W'], ['y'])],
    inputs: [valueInfo('x', 'FP32', ['batch', rows])],
    outputs: [valueInfo('y', 'FP32', ['batch', cols])],
    initializers: [floatInitializer('W', [rows, cols], w, 'raw')],
  });
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-4) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    expect(Math.abs(Number(actual[i]) - Number(expected[i]))).toBeLessThan(tolerance);
}

/**
 * A fetch client for a listening Quiver: JSON bodies as JSON, byte bodies as octet-stream, and
 * JSON answers parsed, as the test admin. `base()` is read on every call, so it may be set after the client is made.
 */
export function httpApi(base: () => string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const binary = body instanceof Uint8Array;
    const contentType = binary ? 'application/octet-stream' : 'application/json';
    const res = await fetch(base() + path, {
      method,
      headers: { ...AUTH, ...(body !== undefined ? { 'content-type': contentType } : {}), ...headers },
      ...(body !== undefined ? { body: binary ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const json = text && res.headers.get('content-type')?.includes('json');
    return { status: res.status, headers: res.headers, body: json ? JSON.parse(text) : (text as any) };
  };
}

type Api = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: Record<string, unknown> }>;

/**
 * Through the REST API: namespace `ns`, model `model`, the ONNX `bytes` uploaded and registered as
 * version 1, deployed as `deployment` with `batching`, and waited for until ready.
 */
export async function deployVersion(
  api: Api,
  o: { ns: string; model: string; deployment: string; bytes: Uint8Array; batching: object },
): Promise<void> {
  await api('POST', '/v1/namespaces', { namespace_id: o.ns });
  await api('POST', `/v1/namespaces/${o.ns}/models`, { model_id: o.model });
  const up = await api('POST', '/v1/artifacts', o.bytes);
  const v = await api('POST', `/v1/namespaces/${o.ns}/models/${o.model}/versions`, {
    artifact: { digest: up.body.digest },
  });
  expect(v.status).toBe(201);
  const deploy = await api('POST', '/v1/deployments', {
    deployment_id: o.deployment,
    model: `namespaces/${o.ns}/models/${o.model}`,
    version: 1,
    batching: o.batching,
  });
  expect(deploy.status).toBe(202);
  const ready = await waitFor(
    () => api('GET', `/v1/deployments/${o.deployment}`).then((r) => r.body),
    (d) => d.status === 'ready' || d.status === 'failed',
    20_000,
    `${o.deployment} to settle`,
  );
  expect(ready.status).toBe('ready');
}
