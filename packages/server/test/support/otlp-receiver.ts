// A small OTLP receiver for tests: OTLP/HTTP protobuf (node:http) and OTLP/gRPC (grpc-js), both
// decoding the standard ExportTraceServiceRequest with protobufjs from the subset of the
// opentelemetry-proto messages below (field numbers as in opentelemetry/proto/trace/v1).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

const PROTO = `
syntax = "proto3";
package otlp;
message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; int32 kind = 6;
  fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9;
}
message ScopeSpans { repeated Span spans = 2; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message NumberDataPoint { repeated KeyValue attributes = 7; double as_double = 4; sfixed64 as_int = 6; }
message HistogramDataPoint {
  repeated KeyValue attributes = 9; fixed64 count = 4; double sum = 5;
  repeated fixed64 bucket_counts = 6; repeated double explicit_bounds = 7;
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message Metric { string name = 1; string description = 2; Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; }
message ScopeMetrics { repeated Metric metrics = 2; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
`;
const root = protobuf.parse(PROTO, { keepCase: true }).root;
const ExportRequest = root.lookupType('otlp.ExportTraceServiceRequest');
const ExportMetrics = root.lookupType('otlp.ExportMetricsServiceRequest');

/** One exported metric of one export request, decoded as protobufjs gives it (snake_case fields). */
export interface ReceivedMetric {
  name: string;
  description: string;
  gauge?: { data_points: Record<string, unknown>[] };
  sum?: { data_points: Record<string, unknown>[]; aggregation_temporality: number; is_monotonic: boolean };
  histogram?: { data_points: Record<string, unknown>[]; aggregation_temporality: number };
}

/** The metrics of one encoded ExportMetricsServiceRequest, with attributes flattened on each point. */
export function decodeMetrics(bytes: Uint8Array): ReceivedMetric[] {
  const message = ExportMetrics.toObject(ExportMetrics.decode(bytes), { longs: Number, arrays: true }) as {
    resource_metrics: { scope_metrics: { metrics: ReceivedMetric[] }[] }[];
  };
  const metrics = message.resource_metrics.flatMap((rm) => rm.scope_metrics.flatMap((sm) => sm.metrics));
  for (const m of metrics) {
    for (const data of [m.gauge, m.sum, m.histogram]) {
      for (const p of data?.data_points ?? []) p.attributes = attributes(p.attributes as KeyValue[]);
    }
  }
  return metrics;
}

/** One exported span, as a test reads it. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  /** The attributes of the resource that sent it (service.name, quiver.role, …). */
  resource: Record<string, unknown>;
}

export interface OtlpReceiver {
  readonly spans: ReceivedSpan[];
  /** Metrics of every export request, in arrival order (OTLP/HTTP only). */
  readonly metrics: ReceivedMetric[];
  /** Requests received (each is one export call). */
  readonly requests: number;
  /** `http://127.0.0.1:<port>` (HTTP) or `http://127.0.0.1:<port>` for gRPC. */
  readonly endpoint: string;
  /** The headers of the last export request (HTTP header names lower-case; gRPC metadata). */
  readonly lastHeaders: Record<string, string>;
  close(): Promise<void>;
}

interface Decoded {
  resource_spans?: {
    resource?: { attributes?: KeyValue[] };
    scope_spans?: {
      spans?: {
        trace_id: Uint8Array;
        span_id: Uint8Array;
        parent_span_id: Uint8Array;
        name: string;
        kind: number;
        attributes?: KeyValue[];
      }[];
    }[];
  }[];
}
interface KeyValue {
  key: string;
  value?: Record<string, unknown>;
}

const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');

function attributes(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    const key = Object.keys(v).find((k) => k.endsWith('_value'));
    const raw = key ? v[key] : undefined;
    out[kv.key] = key === 'int_value' ? Number(raw) : raw;
  }
  return out;
}

/** The spans of one encoded ExportTraceServiceRequest. */
export function decodeSpans(bytes: Uint8Array): ReceivedSpan[] {
  const message = ExportRequest.toObject(ExportRequest.decode(bytes), {
    longs: String,
    oneofs: false,
  }) as Decoded;
  const out: ReceivedSpan[] = [];
  for (const rs of message.resource_spans ?? []) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of rs.scope_spans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: hex(s.trace_id),
          spanId: hex(s.span_id),
          parentSpanId: hex(s.parent_span_id),
          name: s.name,
          kind: s.kind ?? 0,
          attributes: attributes(s.attributes),
          resource,
        });
      }
    }
  }
  return out;
}

/** An OTLP/HTTP receiver (POST /v1/traces, application/x-protobuf) on 127.0.0.1. */
export async function otlpHttpReceiver(): Promise<OtlpReceiver> {
  const state = {
    spans: [] as ReceivedSpan[],
    metrics: [] as ReceivedMetric[],
    requests: 0,
    lastHeaders: {} as Record<string, string>,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/metrics') {
        state.metrics.push(...decodeMetrics(Buffer.concat(chunks)));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      state.requests++;
      state.lastHeaders = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)]),
      );
      state.spans.push(...decodeSpans(Buffer.concat(chunks)));
      // An empty ExportTraceServiceResponse: everything accepted.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    get spans() {
      return state.spans;
    },
    get metrics() {
      return state.metrics;
    },
    get requests() {
      return state.requests;
    },
    get lastHeaders() {
      return state.lastHeaders;
    },
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An OTLP/gRPC receiver (opentelemetry.proto.collector.trace.v1.TraceService/Export) on 127.0.0.1. */
export async function otlpGrpcReceiver(): Promise<OtlpReceiver> {
  const state = { spans: [] as ReceivedSpan[], requests: 0, lastHeaders: {} as Record<string, string> };
  const server = new grpc.Server();
  server.addService(
    {
      Export: {
        path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        requestStream: false,
        responseStream: false,
        requestSerialize: (v: Buffer) => v,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: () => Buffer.alloc(0),
        responseDeserialize: (b: Buffer) => b,
      },
    },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        state.requests++;
        state.lastHeaders = Object.fromEntries(
          Object.entries(call.metadata.getMap()).map(([k, v]) => [k, String(v)]),
        );
        state.spans.push(...decodeSpans(call.request));
        callback(null, {});
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    get spans() {
      return state.spans;
    },
    metrics: [],
    get requests() {
      return state.requests;
    },
    get lastHeaders() {
      return state.lastHeaders;
    },
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
