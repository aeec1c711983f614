/**
 * `@quiver/sdk` for Node.js (the package's `node` export condition): everything the browser
 * entry has, and a `createClient` that sends `inference.infer()` over gRPC when given a
 * `grpcUrl`. @grpc/grpc-js is loaded on the first inference call only, so a client that never
 * infers (the CLI's management commands) does not pay for it.
 */
import { buildClient, type ClientOptions, type GrpcTransportFactory, type QuiverClient } from './client.js';
import type { GrpcTransportOptions } from './node/grpc.transport.js';
import type { Transport } from './transport.js';

export * from './index.js';
export type { GrpcTransportOptions } from './node/grpc.transport.js';

/**
 * Creates a client (see the browser entry's `createClient`); with `grpcUrl`, inference goes
 * over gRPC and everything else over REST, with the same types and errors.
 *
 * @example
 * ```ts
 * import { createClient } from '@quiver/sdk';
 *
 * const quiver = createClient({
 *   baseUrl: 'http://127.0.0.1:8080',
 *   grpcUrl: '127.0.0.1:9090',
 *   token: process.env.QUIVER_TOKEN,
 * });
 * const { outputs } = await quiver.inference.infer({
 *   deployment: 'fraud-prod',
 *   inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: new Float32Array([0.5, 1, 2, 3]) }],
 * });
 * quiver.close();
 * ```
 */
export function createClient(options: ClientOptions): QuiverClient {
  return buildClient(options, lazyGrpc);
}

/** The gRPC transport, imported when the first call needs it. */
const lazyGrpc: GrpcTransportFactory = (options: GrpcTransportOptions) => {
  const loading = import('./node/grpc.transport.js').then((m) => m.grpcTransport(options));
  let loaded: (Transport & { close(): void }) | undefined;
  // Failures surface at the call that awaits `loading`; this handler only records the transport.
  loading.then(
    (t) => {
      loaded = t;
    },
    () => undefined,
  );
  return {
    async call(method, input, attempt) {
      return (await loading).call(method, input, attempt);
    },
    close() {
      loaded?.close();
    },
  };
};
