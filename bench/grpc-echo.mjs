// The gRPC ceiling of this machine: a bare @grpc/grpc-js server answering ModelInfer with a fixed,
// precomputed ModelInferResponse the size of Quiver's (one FP32 output [1,3]). Requests are decoded
// as any server must; the answer's bytes are encoded once, at start. Other methods answer UNIMPLEMENTED.
import { pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import {
  LOADER_OPTIONS,
  OIP_PROTO_PATH,
  OIP_SERVICE,
} from '../packages/server/dist/transports/grpc/server.js';
import { applyV8Flags } from '../packages/server/dist/v8-flags.js';

// The ceiling runs with the V8 flags Quiver runs with (ADR 011), so that neither process can land in
// V8's pretenuring mode and the ratios compare like with like.
applyV8Flags({ v8Pretenuring: process.env.QUIVER_V8_PRETENURING === 'on' ? 'on' : 'off' });

/**
 * What Quiver answers for deployment 'mlp' version 1 with no request id (proto3 leaves the empty id
 * off the wire, as Quiver does); only the float values differ.
 */
export const ECHO_RESPONSE = {
  model_name: 'mlp',
  model_version: '1',
  outputs: [
    { name: 'output', datatype: 'FP32', shape: [1, 3], contents: { fp32_contents: [0.25, -0.5, 0.75] } },
  ],
};

export function encodedEchoResponse() {
  // keepCase: the field names as the proto spells them (protobufjs camel-cases them by default).
  const type = new protobuf.Root()
    .loadSync(OIP_PROTO_PATH, { keepCase: true })
    .lookupType('inference.ModelInferResponse');
  return Buffer.from(type.encode(type.fromObject(ECHO_RESPONSE)).finish());
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const bytes = encodedEchoResponse();
  const definition = protoLoader.loadSync(OIP_PROTO_PATH, LOADER_OPTIONS)[OIP_SERVICE];
  const service = {
    ...definition,
    ModelInfer: { ...definition.ModelInfer, responseSerialize: () => bytes },
  };
  const server = new grpc.Server();
  server.addService(service, {
    ModelInfer: (_call, callback) => callback(null, ECHO_RESPONSE),
  });
  const port = await new Promise((resolve, reject) =>
    server.bindAsync(
      `127.0.0.1:${process.env.PORT ?? 0}`,
      grpc.ServerCredentials.createInsecure(),
      (err, p) => (err ? reject(err) : resolve(p)),
    ),
  );
  process.send?.({ ready: port, responseBytes: bytes.length });
  process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
}
