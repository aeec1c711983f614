import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { CLIENT_REASONS, type Code, QuiverError } from '../errors.js';
import { grpcTarget } from '../grpc-url.js';
import type { TokenSource } from '../rest.js';
import { outputFromRaw, rawInput } from '../tensor-raw.js';
import type { AttemptOptions, MethodInput, MethodName, MethodOutput, Transport } from '../transport.js';
import type { InferParameters, InferRequest, InferResponse } from '../types.js';

/**
 * The gRPC transport of the Open Inference Protocol (`inference.GRPCInferenceService`), for
 * Node.js. It carries `ModelInfer` only; everything else goes over REST (management is
 * REST-only, docs/api.md). Tensors travel as `raw_input_contents` (the bytes of the typed
 * arrays, no per-element encoding) and come back as `raw_output_contents`, decoded into the
 * same arrays the REST binding gives, so switching transports changes no caller code.
 */

// The package ships the proto (packages/sdk/proto), and src/node and dist/node sit at the same
// depth below it, so this resolves from the sources and from the built package alike.
export const OIP_PROTO = fileURLToPath(
  new URL('../../proto/inference/open_inference.proto', import.meta.url),
);
/** As the server loads it: 64-bit integers as decimal strings, every field present. */
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};
/** The server's limit on an inference message; grpc-js would otherwise refuse answers over 4 MiB. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export interface GrpcTransportOptions {
  /** `host:port`, `grpc://host:port` (plaintext) or `grpcs://host:port` (TLS). */
  grpcUrl: string;
  token?: TokenSource | undefined;
  userAgent?: string | undefined;
  /** Sent as metadata with every call. */
  headers?: Record<string, string> | undefined;
}

interface OutputMsg {
  name: string;
  datatype: string;
  shape: string[];
}
interface ModelInferResponseMsg {
  model_name: string;
  model_version: string;
  id: string;
  outputs: OutputMsg[];
  raw_output_contents: Uint8Array[];
}
type Unary = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: ModelInferResponseMsg) => void,
) => grpc.ClientUnaryCall;

/**
 * Creates the gRPC inference transport. The channel is opened on the first call and kept
 * until `close()`. `createClient` (Node entry) builds it when given a `grpcUrl`.
 *
 * @example
 * ```ts
 * import { createClient } from '@quiver/sdk'; // in Node.js, grpcUrl switches inference to gRPC
 * const client = createClient({ baseUrl: 'http://127.0.0.1:8080', grpcUrl: '127.0.0.1:9090', token });
 * ```
 */
export function grpcTransport(options: GrpcTransportOptions): Transport & { close(): void } {
  const { target, tls } = grpcTarget(options.grpcUrl);
  let client: grpc.Client | undefined;
  const open = (): grpc.Client => {
    if (client) return client;
    const definition = protoLoader.loadSync(OIP_PROTO, LOADER_OPTIONS);
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
    };
    client = new loaded.inference.GRPCInferenceService(
      target,
      tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(),
      {
        'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
        'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
        ...(options.userAgent ? { 'grpc.primary_user_agent': options.userAgent } : {}),
      },
    );
    return client;
  };

  const infer = async (input: InferRequest, attempt: AttemptOptions): Promise<InferResponse> => {
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(options.headers ?? {})) metadata.set(key.toLowerCase(), value);
    const token = typeof options.token === 'function' ? await options.token() : options.token;
    if (token) metadata.set('authorization', `Bearer ${token}`);
    attempt.signal.throwIfAborted(); // aborted while the token was read: send nothing
    // Encoded right before sending: typed arrays are sent from the caller's buffer, without a copy.
    const request = inferRequestMessage(input);
    const channel = open();
    const modelInfer = (channel as unknown as { ModelInfer: Unary }).ModelInfer.bind(channel);
    const response = await new Promise<ModelInferResponseMsg>((resolve, reject) => {
      const cancel = () => call.cancel();
      const call = modelInfer(request, metadata, {}, (err, res) => {
        attempt.signal.removeEventListener('abort', cancel);
        if (err) reject(attempt.signal.aborted ? attempt.signal.reason : errorFromGrpc(err, target));
        else resolve(res!);
      });
      attempt.signal.addEventListener('abort', cancel, { once: true });
    });
    return inferResponse(response);
  };

  return {
    call<M extends MethodName>(
      method: M,
      input: MethodInput<M>,
      attempt: AttemptOptions,
    ): Promise<MethodOutput<M>> {
      if (method !== 'ModelInfer') {
        return Promise.reject(
          new QuiverError('INTERNAL', `${method} is not served over gRPC; management calls go over REST.`),
        );
      }
      return infer(input as InferRequest, attempt) as Promise<MethodOutput<M>>;
    },
    close() {
      client?.close();
      client = undefined;
    },
  };
}

function parameters(p: InferParameters | undefined): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [key, value] of Object.entries(p ?? {})) {
    out[key] =
      typeof value === 'boolean'
        ? { bool_param: value }
        : typeof value === 'string'
          ? { string_param: value }
          : Number.isInteger(value)
            ? { int64_param: String(value) }
            : { double_param: value };
  }
  return out;
}

/** The ModelInferRequest message: every input as raw little-endian bytes, in input order. */
export function inferRequestMessage(input: InferRequest): Record<string, unknown> {
  return {
    model_name: input.deployment.replace(/^deployments\//, ''),
    model_version: input.version === undefined ? '' : String(input.version),
    id: input.id ?? '',
    parameters: parameters(input.parameters),
    inputs: input.inputs.map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape.map(String),
      parameters: parameters(t.parameters),
    })),
    outputs: (input.outputs ?? []).map((name) => ({ name })),
    raw_input_contents: input.inputs.map((t) => rawInput(t.name, t.datatype, t.data)),
  };
}

/** A ModelInferResponse as the SDK's InferResponse (the server answers raw requests raw). */
function inferResponse(msg: ModelInferResponseMsg): InferResponse {
  const raws = msg.raw_output_contents ?? [];
  return {
    model_name: msg.model_name,
    model_version: msg.model_version,
    id: msg.id,
    outputs: msg.outputs.map((o, i) => {
      const raw = raws[i];
      if (!raw) {
        throw new QuiverError('INTERNAL', `ModelInfer: output '${o.name}' came without raw contents.`, {
          details: { reason: CLIENT_REASONS.MALFORMED_RESPONSE },
        });
      }
      return outputFromRaw(o.name, o.datatype, o.shape.map(Number), raw);
    }),
  };
}

/**
 * gRPC status → Quiver code, the inverse of the server's table (transports/grpc/status.ts).
 * The server also sends the exact code, reason and request id as trailing metadata, which win.
 */
export function codeForGrpcStatus(code: grpc.status): Code {
  switch (code) {
    case grpc.status.INVALID_ARGUMENT:
    case grpc.status.OUT_OF_RANGE:
      return 'INVALID_ARGUMENT';
    case grpc.status.NOT_FOUND:
      return 'NOT_FOUND';
    case grpc.status.ALREADY_EXISTS:
      return 'ALREADY_EXISTS';
    case grpc.status.FAILED_PRECONDITION:
      return 'FAILED_PRECONDITION';
    case grpc.status.ABORTED:
      return 'ABORTED';
    case grpc.status.PERMISSION_DENIED:
      return 'PERMISSION_DENIED';
    case grpc.status.UNAUTHENTICATED:
      return 'UNAUTHENTICATED';
    case grpc.status.RESOURCE_EXHAUSTED:
      return 'RESOURCE_EXHAUSTED';
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
      return 'UNAVAILABLE';
    case grpc.status.CANCELLED:
      return 'CANCELLED';
    default:
      return 'INTERNAL';
  }
}

/** A gRPC failure as the one QuiverError, with the same code, reason and request id as over REST. */
export function errorFromGrpc(err: grpc.ServiceError, target: string): QuiverError {
  const meta = (key: string) => {
    const value = err.metadata?.get(key)[0];
    return typeof value === 'string' ? value : undefined;
  };
  const quiverCode = meta('quiver-code');
  const reason = meta('quiver-reason');
  const requestId = meta('quiver-request-id');
  const details = detailsOf(err.metadata?.get('quiver-details-bin')[0]);
  if (!quiverCode && err.code === grpc.status.UNAVAILABLE) {
    // No Quiver server answered: the connection failed, as a refused fetch does over REST.
    return new QuiverError('UNAVAILABLE', `Cannot reach ${target}: ${err.details}.`, {
      details: { reason: CLIENT_REASONS.NETWORK_ERROR, url: target, cause: err.details },
      cause: err,
    });
  }
  return new QuiverError(quiverCode ?? codeForGrpcStatus(err.code), err.details || err.message, {
    details: { ...details, ...(reason ? { reason } : {}) },
    requestId,
    cause: err,
  });
}

/** The server's `quiver-details-bin` metadata: the error's details as JSON, as REST sends them. */
function detailsOf(value: unknown): Record<string, unknown> {
  if (!(value instanceof Uint8Array)) return {};
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(value));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {}; // details are a courtesy: a garbled header must not hide the error itself
  }
}
