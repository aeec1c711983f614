import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { type Context, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { QuiverError } from '../../domain/errors.js';
import { type Actor, ANONYMOUS } from '../../domain/resources.js';
import type { CallContext } from '../../services/context.js';
import type { Access } from '../../services/iam/access.js';
import { type Inference, MAX_INFER_BYTES, oipModelMetadata } from '../../services/inference/types.js';
import type { Metrics } from '../../telemetry/metrics.js';
import type { Tracing } from '../../telemetry/tracing.js';
import type { Admission } from '../admission.js';
import { admit, admitKnown } from './admit.js';
import { withModelInferWire } from './oip-wire.js';
import { RPC_ACCESS } from './permissions.js';
import { toGrpcError } from './status.js';
import { decodeInferRequest, encodeInferResponse, type ModelInferRequestMsg } from './tensor-codec.js';

// src/transports/grpc and dist/transports/grpc sit at the same depth below the repository root.
const protoFile = (path: string) => fileURLToPath(new URL(`../../../../../proto/${path}`, import.meta.url));
export const OIP_PROTO_PATH = protoFile('inference/open_inference.proto');
export const HEALTH_PROTO_PATH = protoFile('grpc/health/v1/health.proto');
/** int64 as decimal strings (exact), enums as names, every field present. Clients in tests load the same way. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};
export const OIP_SERVICE = 'inference.GRPCInferenceService';
export const HEALTH_SERVICE = 'grpc.health.v1.Health';

export const SERVER_OPTIONS: grpc.ServerOptions = {
  // Larger messages are refused by grpc-js with RESOURCE_EXHAUSTED before they are buffered.
  'grpc.max_receive_message_length': MAX_INFER_BYTES,
  'grpc.max_send_message_length': MAX_INFER_BYTES,
  // Ping idle connections every minute so that dead peers and silent middleboxes are noticed.
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  // Quiver serves no channelz service; its per-call bookkeeping (counters, timestamps, closures)
  // was ~3% of a ModelInfer call. Metrics and traces cover what it would tell.
  'grpc.enable_channelz': 0,
};

export type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
export interface GrpcHealth {
  /** `''` is the server as a whole; otherwise a fully-qualified service name. */
  status(service: string): ServingStatus | Promise<ServingStatus>;
}

export type GrpcLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface GrpcServerOptions {
  inference: Inference;
  /** Authentication, rate limits and permission checks of every method (see permissions.ts). */
  access: Access;
  /** Load shedding shared with REST: calls past the process's limit get UNAVAILABLE at once. */
  admission?: Admission;
  health: GrpcHealth;
  logger: GrpcLogger;
  version: string;
  /** How often a health Watch re-reads the status. Default 1 s. */
  watchIntervalMs?: number;
  /** When given: per-method call counts (by status code) and durations. */
  metrics?: Pick<Metrics, 'grpcRequest'>;
  /** When enabled: a server span per call, continuing a `traceparent` in the metadata. */
  tracing?: Tracing;
}

export interface GrpcServer {
  server: grpc.Server;
  /** Binds (port 0 picks one) and serves; resolves with the bound port. */
  start(host: string, port: number): Promise<number>;
  /** Ends health watches, lets calls in flight finish for up to graceMs, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

/**
 * Health per service: the OIP service (and `''`, the server as a whole) is SERVING once the
 * deployment table was read; the health service itself serves whenever it can answer.
 */
export function inferenceHealth(inference: Inference): GrpcHealth {
  return {
    async status(service) {
      if (service === HEALTH_SERVICE) return 'SERVING';
      if (service !== '' && service !== OIP_SERVICE) return 'SERVICE_UNKNOWN';
      return (await inference.ready()) ? 'SERVING' : 'NOT_SERVING';
    },
  };
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The caller and call as services see them, once `admit` authenticated the caller. */
export function grpcCallContext(call: { metadata: grpc.Metadata }, actor: Actor = ANONYMOUS): CallContext {
  const given = call.metadata.get('x-request-id')[0];
  return {
    actor,
    requestId: typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID(),
    idempotencyKey: undefined,
  };
}

/** The gRPC server with the OIP and health services. Nothing listens until `start`. */
export function buildGrpcServer(options: GrpcServerOptions): GrpcServer {
  const { logger } = options;
  const server = new grpc.Server(SERVER_OPTIONS);
  const watches = new Set<() => void>();
  addService(
    server,
    OIP_SERVICE,
    withModelInferWire(loadService(OIP_PROTO_PATH, OIP_SERVICE)),
    oipHandlers(options),
    options,
  );
  addService(
    server,
    HEALTH_SERVICE,
    loadService(HEALTH_PROTO_PATH, HEALTH_SERVICE),
    healthHandlers(options, watches),
    options,
  );
  return {
    server,
    start: (host, port) =>
      new Promise((resolve, reject) => {
        const address = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
        server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => {
          if (err) return reject(err);
          logger.info({ address: `${host}:${bound}`, version: options.version }, 'Quiver gRPC listening');
          resolve(bound);
        });
      }),
    async close(graceMs) {
      for (const end of [...watches]) end();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

function loadService(path: string, service: string): grpc.ServiceDefinition {
  const definition = protoLoader.loadSync(path, LOADER_OPTIONS)[service];
  // Messages and enums carry a `format`; a service definition is a map of methods.
  if (definition === undefined || 'format' in definition) {
    throw new Error(`${path} does not define the service ${service}.`);
  }
  return definition as grpc.ServiceDefinition;
}

/** Fails fast when the proto and the implementation disagree on the methods (STYLE pattern 8). */
export function assertImplemented(service: string, definition: object, handlers: object): void {
  const declared = Object.keys(definition);
  const given = Object.keys(handlers);
  const missing = declared.filter((m) => !given.includes(m));
  const unknown = given.filter((m) => !declared.includes(m));
  if (missing.length === 0 && unknown.length === 0) return;
  const parts = [
    missing.length > 0 ? `no implementation for ${missing.join(', ')}` : '',
    unknown.length > 0 ? `implementations for methods the proto does not declare: ${unknown.join(', ')}` : '',
  ];
  throw new Error(`gRPC service ${service}: ${parts.filter(Boolean).join('; ')}.`);
}

const MALFORMED = Symbol('malformed');

function addService(
  server: grpc.Server,
  service: string,
  definition: grpc.ServiceDefinition,
  handlers: grpc.UntypedServiceImplementation,
  observe: Pick<GrpcServerOptions, 'metrics' | 'tracing'>,
): void {
  assertImplemented(service, definition, handlers);
  const unguarded = Object.keys(definition).filter((m) => RPC_ACCESS[`${service}/${m}`] === undefined);
  if (unguarded.length > 0) {
    throw new Error(
      `gRPC ${service}: no entry in transports/grpc/permissions.ts for ${unguarded.join(', ')}: every method must name its permission (or be public).`,
    );
  }
  // grpc-js answers undecodable messages with INTERNAL; they are the caller's fault, so the
  // handler is given a marker instead and answers INVALID_ARGUMENT.
  const tolerant = Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (bytes: Buffer) => {
          try {
            return method.requestDeserialize(bytes);
          } catch {
            return { [MALFORMED]: name };
          }
        },
      },
    ]),
  );
  const tracing = observe.tracing?.enabled ? observe.tracing : undefined;
  server.addService(
    tolerant,
    observe.metrics || tracing ? measured(service, definition, handlers, observe.metrics, tracing) : handlers,
  );
}

const CODE_NAMES = new Map<number, string>(
  Object.entries(grpc.status)
    .filter((e): e is [string, number] => typeof e[1] === 'number')
    .map(([name, code]) => [code, name]),
);
const SERVER_FAULTS = new Set<number>([
  grpc.status.UNKNOWN,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.UNIMPLEMENTED,
  grpc.status.INTERNAL,
  grpc.status.UNAVAILABLE,
  grpc.status.DATA_LOSS,
]);
const codeName = (code: unknown) => (typeof code === 'number' && CODE_NAMES.get(code)) || 'UNKNOWN';

/**
 * Handlers that record each call once it is answered (metrics, and a server span when tracing):
 * unary calls by the status given to the callback; server streams when they finish, are
 * cancelled or end with an error.
 */
function measured(
  service: string,
  definition: grpc.ServiceDefinition,
  handlers: grpc.UntypedServiceImplementation,
  metrics: Pick<Metrics, 'grpcRequest'> | undefined,
  tracing: Tracing | undefined,
): grpc.UntypedServiceImplementation {
  return Object.fromEntries(
    Object.entries(handlers).map(([method, handler]) => {
      /** Starts the call's span (when tracing) and returns what ends it, and the context to run in. */
      const begin = (metadata: grpc.Metadata) => {
        const started = performance.now();
        let span: Span | undefined;
        let ctx: Context | undefined;
        // At 0% sampling only a caller's traceparent can start a recorded trace (see the REST app).
        const given = tracing && !tracing.samplesRoots ? metadata.get('traceparent')[0] : undefined;
        if (tracing && (tracing.samplesRoots || given !== undefined)) {
          const carrier: Record<string, string> = {};
          for (const key of ['traceparent', 'tracestate']) {
            const value = metadata.get(key)[0];
            if (typeof value === 'string') carrier[key] = value;
          }
          const parent = tracing.extract(carrier);
          span = tracing.tracer.startSpan(
            `${service}/${method}`,
            {
              kind: SpanKind.SERVER,
              attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method },
            },
            parent,
          );
          // Only a recording span is made active (see the REST app: unsampled calls enter no context).
          if (span.isRecording()) ctx = trace.setSpan(parent, span);
        }
        let done = false;
        const end = (code: unknown) => {
          if (done) return;
          done = true;
          const name = codeName(code);
          metrics?.grpcRequest(method, name, (performance.now() - started) / 1000);
          if (span) {
            span.setAttribute('rpc.grpc.status_code', typeof code === 'number' ? code : grpc.status.UNKNOWN);
            if (code !== grpc.status.OK) {
              span.setAttribute('error.type', name);
              // Per the semantic conventions, server spans fail only on server-side codes.
              if (SERVER_FAULTS.has(code as number)) span.setStatus({ code: SpanStatusCode.ERROR });
            }
            span.end();
          }
        };
        return { ctx, end };
      };
      if (!definition[method]?.requestStream && !definition[method]?.responseStream) {
        const unaryHandler = handler as grpc.handleUnaryCall<unknown, unknown>;
        const wrapped: grpc.handleUnaryCall<unknown, unknown> = (call, callback) => {
          const { ctx, end } = begin(call.metadata);
          inContext(ctx, () =>
            unaryHandler(call, (err, ...rest) => {
              end(err ? (err as { code?: unknown }).code : grpc.status.OK);
              callback(err, ...rest);
            }),
          );
        };
        return [method, wrapped];
      }
      if (definition[method]?.responseStream && !definition[method]?.requestStream) {
        const streamHandler = handler as grpc.handleServerStreamingCall<unknown, unknown>;
        const wrapped: grpc.handleServerStreamingCall<unknown, unknown> = (call) => {
          const { ctx, end } = begin(call.metadata);
          call.once('finish', () => end(grpc.status.OK));
          call.once('cancelled', () => end(grpc.status.CANCELLED));
          call.once('error', (err: { code?: unknown }) => end(err?.code));
          inContext(ctx, () => streamHandler(call));
        };
        return [method, wrapped];
      }
      return [method, handler];
    }),
  );
}

/** Runs `fn` in `ctx` when there is one (a recording span), else as it is. */
function inContext(ctx: Context | undefined, fn: () => void): void {
  if (ctx) context.with(ctx, fn);
  else fn();
}

function rejectMalformed(request: unknown): void {
  if (typeof request === 'object' && request !== null && MALFORMED in request) {
    throw new QuiverError('INVALID_ARGUMENT', 'The request message is not valid protobuf for this method.');
  }
}

function unary<Req, Res>(
  { logger, access, admission }: Pick<GrpcServerOptions, 'logger' | 'access' | 'admission'>,
  method: string,
  fn: (request: Req, ctx: CallContext) => Res | Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const ctx = grpcCallContext(call);
    const refused = admission?.enter();
    if (refused) {
      callback(toGrpcError(refused, ctx.requestId));
      return;
    }
    void answer(call, callback, ctx);
  };

  // One async function per call (not a chain of promises): the answer, or the error, is sent once.
  async function answer(
    call: grpc.ServerUnaryCall<Req, Res>,
    callback: grpc.sendUnaryData<Res>,
    ctx: CallContext,
  ): Promise<void> {
    let response: Res;
    try {
      ctx.actor = admitKnown(access, method, call) ?? (await admit(access, method, call, ctx.requestId));
      rejectMalformed(call.request);
      response = await fn(call.request, ctx);
    } catch (err) {
      admission?.leave();
      send(() => callback(toGrpcError(err, ctx.requestId, logger)), ctx);
      return;
    }
    admission?.leave();
    send(() => callback(null, response), ctx);
  }

  function send(answer: () => void, ctx: CallContext): void {
    try {
      answer();
    } catch (err) {
      logger.error({ err, request_id: ctx.requestId }, 'gRPC answer failed');
    }
  }
}

interface ModelRef {
  name: string;
  version: string;
}

function oipHandlers(options: GrpcServerOptions): grpc.UntypedServiceImplementation {
  const { inference } = options;
  const rpc = (m: string) => `${OIP_SERVICE}/${m}`;
  return {
    ServerLive: unary(options, rpc('ServerLive'), () => ({ live: inference.live() })),
    ServerReady: unary(options, rpc('ServerReady'), async () => ({ ready: await inference.ready() })),
    ModelReady: unary(options, rpc('ModelReady'), async (req: ModelRef, ctx) => ({
      ready: await inference.modelReady(ctx, req.name, req.version),
    })),
    ServerMetadata: unary(options, rpc('ServerMetadata'), () => inference.serverMetadata()),
    ModelMetadata: unary(options, rpc('ModelMetadata'), async (req: ModelRef, ctx) => {
      const m = await inference.modelMetadata(ctx, req.name, req.version);
      return oipModelMetadata(m);
    }),
    ModelInfer: unary(options, rpc('ModelInfer'), async (req: ModelInferRequestMsg, ctx) => {
      const { request, raw } = decodeInferRequest(req);
      return encodeInferResponse(await inference.infer(ctx, request), raw);
    }),
  };
}

interface HealthRequest {
  service: string;
}
interface HealthResponse {
  status: ServingStatus | 'UNKNOWN';
}

function healthHandlers(
  { health, logger, watchIntervalMs = 1_000 }: GrpcServerOptions,
  watches: Set<() => void>,
): grpc.UntypedServiceImplementation {
  const statusOf = async (service: string): Promise<ServingStatus> => {
    try {
      return await health.status(service);
    } catch (err) {
      logger.warn({ err, service }, 'health status failed');
      return 'NOT_SERVING';
    }
  };
  const Check: grpc.handleUnaryCall<HealthRequest, HealthResponse> = (call, callback) => {
    if (MALFORMED in call.request)
      return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'Malformed request.' });
    void statusOf(call.request.service).then((status) =>
      status === 'SERVICE_UNKNOWN'
        ? callback({
            code: grpc.status.NOT_FOUND,
            details: `Unknown service '${call.request.service.slice(0, 200)}'.`,
          })
        : callback(null, { status }),
    );
  };
  // Sends the status now and on every change (polled), until the client cancels or the server closes.
  const Watch: grpc.handleServerStreamingCall<HealthRequest, HealthResponse> = (call) => {
    if (MALFORMED in call.request) {
      call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'Malformed request.' });
      return;
    }
    let last: HealthResponse['status'] | undefined;
    let polling = false;
    let stopped = false;
    const poll = async () => {
      if (polling || stopped) return;
      polling = true;
      const status = await statusOf(call.request.service);
      polling = false;
      if (stopped || status === last) return;
      last = status;
      call.write({ status });
    };
    const timer = setInterval(() => void poll(), watchIntervalMs);
    const stop = () => {
      stopped = true;
      clearInterval(timer);
      watches.delete(end);
    };
    const end = () => {
      if (stopped) return;
      stop();
      if (last !== 'NOT_SERVING') call.write({ status: 'NOT_SERVING' });
      call.end();
    };
    watches.add(end);
    call.on('cancelled', stop);
    call.on('close', stop);
    void poll();
  };
  return { Check, Watch };
}
