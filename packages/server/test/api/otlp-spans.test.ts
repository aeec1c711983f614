import { type AttributeValue, type Context, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { encodeSpans } from '../../src/telemetry/otlp-spans.js';

// Every field either serializer writes (opentelemetry/proto trace/v1 and common/v1 numbering).
const PROTO = `
syntax = "proto3";
package t;
message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope {
  string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4;
}
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message Status { string message = 2; int32 code = 3; }
message Event {
  fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4;
}
message Link {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4;
  uint32 dropped_attributes_count = 5; fixed32 flags = 6;
}
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; string name = 5;
  int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; uint32 dropped_attributes_count = 10; repeated Event events = 11;
  uint32 dropped_events_count = 12; repeated Link links = 13; uint32 dropped_links_count = 14;
  Status status = 15; fixed32 flags = 16;
}
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`;
const Request = protobuf.parse(PROTO, { keepCase: true }).root.lookupType('t.ExportTraceServiceRequest');

/** The message as a plain object, every default filled in: proto3 cannot tell an absent 0 from a written one. */
function decode(bytes: Uint8Array): unknown {
  return Request.toObject(Request.decode(bytes), {
    longs: String,
    bytes: String,
    defaults: true,
    arrays: true,
  });
}

const hex = (bytes: number) =>
  fc
    .uint8Array({ minLength: bytes, maxLength: bytes })
    .map((b) => Buffer.from(b).toString('hex'))
    .filter((h) => !/^0+$/.test(h));
const text = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 60 }));
const longText = fc.string({ unit: 'grapheme', minLength: 40, maxLength: 400 });
const integer = fc.oneof(
  fc.integer(),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(0, -1, 2 ** 32, -(2 ** 32), 2 ** 31, -(2 ** 31) - 1),
);
const value: fc.Arbitrary<AttributeValue> = fc.oneof(
  text,
  longText,
  fc.boolean(),
  integer,
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.array(text, { maxLength: 4 }),
  fc.array(integer, { maxLength: 4 }),
  fc.array(fc.boolean(), { maxLength: 4 }),
  fc.array(fc.double({ noNaN: true }), { maxLength: 4 }),
);
const attributes = fc.dictionary(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 50 }), value, {
  maxKeys: 6,
  noNullPrototype: true,
});
/** Milliseconds since the epoch, fractions included, up to the year 2100. */
const time = fc.double({ min: 0, max: 4_102_444_800_000, noNaN: true });
const spanSpec = fc.record({
  name: text,
  kind: fc.constantFrom(
    SpanKind.INTERNAL,
    SpanKind.SERVER,
    SpanKind.CLIENT,
    SpanKind.PRODUCER,
    SpanKind.CONSUMER,
  ),
  attributes,
  start: time,
  durationMs: fc.double({ min: 0, max: 1e7, noNaN: true }),
  parent: fc.option(
    fc.record({
      traceId: hex(16),
      spanId: hex(8),
      sampled: fc.boolean(),
      remote: fc.boolean(),
      state: fc.boolean(),
    }),
  ),
  events: fc.array(fc.record({ name: text, attributes: fc.option(attributes), at: time }), { maxLength: 3 }),
  links: fc.array(
    fc.record({ traceId: hex(16), spanId: hex(8), remote: fc.boolean(), state: fc.boolean(), attributes }),
    { maxLength: 2 },
  ),
  status: fc.record({ code: fc.constantFrom(0, 1, 2), message: fc.option(text) }),
});

/** Real SDK spans (two resources, two scopes), made from the specs. */
function makeSpans(
  specs: fc.RecordValue<typeof spanSpec>[],
  resourceAttributes: Record<string, AttributeValue>,
): ReadableSpan[] {
  const finished: ReadableSpan[] = [];
  for (const [i, resource] of [
    resourceFromAttributes(resourceAttributes),
    resourceFromAttributes({}),
  ].entries()) {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource,
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracers = [provider.getTracer('quiver', '1.2.3'), provider.getTracer('other')];
    specs.forEach((spec, j) => {
      if (j % 2 !== i) return;
      let parent: Context = ROOT_CONTEXT;
      if (spec.parent) {
        parent = trace.setSpanContext(ROOT_CONTEXT, {
          traceId: spec.parent.traceId,
          spanId: spec.parent.spanId,
          traceFlags: spec.parent.sampled ? 1 : 0,
          isRemote: spec.parent.remote,
          ...(spec.parent.state ? { traceState: new TraceState('vendor=abc,other=1') } : {}),
        });
      }
      const span = tracers[j % 3 === 0 ? 1 : 0]!.startSpan(
        spec.name,
        {
          kind: spec.kind,
          attributes: spec.attributes,
          startTime: spec.start,
          links: spec.links.map((l) => ({
            context: {
              traceId: l.traceId,
              spanId: l.spanId,
              traceFlags: 1,
              isRemote: l.remote,
              ...(l.state ? { traceState: new TraceState('k=v') } : {}),
            },
            attributes: l.attributes,
          })),
        },
        parent,
      );
      for (const e of spec.events) span.addEvent(e.name, e.attributes ?? undefined, e.at);
      span.setStatus({
        code: spec.status.code,
        ...(spec.status.message ? { message: spec.status.message } : {}),
      });
      span.end(spec.start + spec.durationMs);
    });
    finished.push(...exporter.getFinishedSpans());
  }
  return finished;
}

describe('encodeSpans (OTLP span encoding)', () => {
  it('writes what the OpenTelemetry SDK serializer writes, field for field', () => {
    fc.assert(
      fc.property(fc.array(spanSpec, { minLength: 1, maxLength: 6 }), attributes, (specs, resource) => {
        const spans = makeSpans(specs, resource);
        const ours = decode(encodeSpans(spans));
        const theirs = decode(ProtobufTraceSerializer.serializeRequest(spans)!);
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps nanoseconds exact far past 2^53 and reuses its buffer without leaking one export into the next', () => {
    const [spec] = fc.sample(spanSpec, { numRuns: 1, seed: 7 });
    const big = makeSpans(
      [{ ...spec!, parent: null, name: 'x'.repeat(70_000), attributes: { 'a.b': 'é'.repeat(50_000) } }],
      {},
    );
    const small = makeSpans(
      [{ ...spec!, parent: null, name: 'small', attributes: {}, start: 4_102_444_799_999.999 }],
      {},
    );
    expect([big.length, small.length]).toEqual([1, 1]);
    const first = encodeSpans(big);
    const copy = Uint8Array.from(first);
    const second = encodeSpans(small);
    expect(first).toEqual(copy);
    expect(decode(second)).toEqual(decode(ProtobufTraceSerializer.serializeRequest(small)!));
    expect(decode(first)).toEqual(decode(ProtobufTraceSerializer.serializeRequest(big)!));
    const startNanos = (
      decode(second) as { resource_spans: { scope_spans: { spans: { start_time_unix_nano: string }[] }[] }[] }
    ).resource_spans[0]!.scope_spans[0]!.spans[0]!.start_time_unix_nano;
    const [seconds, nanos] = small[0]!.startTime;
    expect(startNanos).toBe(String(BigInt(seconds) * 1_000_000_000n + BigInt(nanos)));
    expect(startNanos.slice(0, 13)).toBe('4102444799999');
  });
});
