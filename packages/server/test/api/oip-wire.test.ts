import * as protoLoader from '@grpc/proto-loader';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeModelInferRequest, encodeModelInferResponse } from '../../src/transports/grpc/oip-wire.js';
import { LOADER_OPTIONS, OIP_PROTO_PATH, OIP_SERVICE } from '../../src/transports/grpc/server.js';
import type { ModelInferResponseMsg } from '../../src/transports/grpc/tensor-codec.js';

// The reference: proto-loader's reflection-based codec, loaded as the server loaded it before.
const reference = protoLoader.loadSync(OIP_PROTO_PATH, LOADER_OPTIONS)[
  OIP_SERVICE
] as protoLoader.ServiceDefinition;
const { requestDeserialize, responseSerialize, responseDeserialize } = reference.ModelInfer!;
const root = new protobuf.Root().loadSync(OIP_PROTO_PATH, { keepCase: true });
const RequestType = root.lookupType('inference.ModelInferRequest');
const encodeRequest = (msg: object) => Buffer.from(RequestType.encode(RequestType.fromObject(msg)).finish());

const int64 = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map(String);
const uint64 = fc.bigInt(0n, 2n ** 64n - 1n).map(String);
// proto-loader's plain objects take '__proto__' as the prototype; that key has its own test below.
const key = fc.string({ maxLength: 12 }).filter((k) => k !== '__proto__');
const parameter = fc.oneof(
  fc.record({ bool_param: fc.boolean() }),
  fc.record({ int64_param: int64 }),
  fc.record({ string_param: fc.string() }),
  fc.record({ double_param: fc.double() }),
  fc.record({ uint64_param: uint64 }),
);
const parameters = fc.dictionary(key, parameter, { maxKeys: 3 });
const bytes = fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b));
const contents = fc.record(
  {
    bool_contents: fc.array(fc.boolean(), { maxLength: 6 }),
    int_contents: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 6 }),
    int64_contents: fc.array(int64, { maxLength: 6 }),
    uint_contents: fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { maxLength: 6 }),
    uint64_contents: fc.array(uint64, { maxLength: 6 }),
    fp32_contents: fc.array(fc.float(), { maxLength: 6 }),
    fp64_contents: fc.array(fc.double(), { maxLength: 6 }),
    bytes_contents: fc.array(bytes, { maxLength: 3 }),
  },
  { requiredKeys: [] },
);
const datatype = fc.oneof(
  fc.constantFrom('FP32', 'FP64', 'INT32', 'INT64', 'BOOL', 'BYTES', ''),
  fc.string(),
);
const request = fc.record(
  {
    model_name: fc.string(),
    model_version: fc.string(),
    id: fc.string(),
    parameters,
    inputs: fc.array(
      fc.record(
        {
          name: fc.string(),
          datatype,
          shape: fc.array(int64, { maxLength: 4 }),
          parameters,
          contents,
        },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    ),
    outputs: fc.array(fc.record({ name: fc.string(), parameters }, { requiredKeys: [] }), { maxLength: 3 }),
    raw_input_contents: fc.array(bytes, { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

describe('ModelInfer on the wire', () => {
  it('reads every request exactly as proto-loader does', () => {
    fc.assert(
      fc.property(request, (msg) => {
        const wire = encodeRequest(msg);
        expect(decodeModelInferRequest(wire)).toEqual(requestDeserialize(wire));
      }),
      { numRuns: 400 },
    );
  });

  it('reads repeated numbers sent one per tag (unpacked) as well as packed', () => {
    const values = fc.record({
      fp32: fc.array(fc.float(), { maxLength: 5 }),
      int64: fc.array(int64, { maxLength: 5 }),
      bools: fc.array(fc.boolean(), { maxLength: 5 }),
      shape: fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(values, ({ fp32, int64: longs, bools, shape }) => {
        const w = protobuf.Writer.create();
        w.uint32((5 << 3) | 2).fork(); // inputs
        w.uint32((1 << 3) | 2).string('x');
        for (const d of shape) w.uint32(3 << 3).int64(d);
        w.uint32((5 << 3) | 2).fork(); // contents
        for (const v of fp32) w.uint32((6 << 3) | 5).float(v);
        for (const v of longs) w.uint32(3 << 3).int64(v);
        for (const v of bools) w.uint32(1 << 3).bool(v);
        w.ldelim().ldelim();
        const wire = Buffer.from(w.finish());
        const ours = decodeModelInferRequest(wire);
        expect(ours).toEqual(requestDeserialize(wire));
        expect(ours.inputs?.[0]?.shape).toEqual(shape.map(String));
      }),
      { numRuns: 200 },
    );
  });

  it("keeps a parameter named '__proto__' as an own key, never as the object's prototype", () => {
    const wire = encodeRequest({
      parameters: { ['__proto__']: { string_param: 'x' }, ok: { bool_param: true } },
    });
    const params = decodeModelInferRequest(wire).parameters!;
    expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
    expect(Object.keys(params).sort()).toEqual(['__proto__', 'ok']);
    expect(Object.getOwnPropertyDescriptor(params, '__proto__')?.value).toEqual({
      string_param: 'x',
      parameter_choice: 'string_param',
    });
  });

  it('skips fields it does not know, as proto3 readers must', () => {
    const w = protobuf.Writer.create();
    w.uint32((1 << 3) | 2).string('mlp');
    w.uint32((99 << 3) | 2).string('from a newer client');
    w.uint32(100 << 3).uint64(7);
    w.uint32((101 << 3) | 5).fixed32(1);
    const wire = Buffer.from(w.finish());
    expect(decodeModelInferRequest(wire)).toEqual(requestDeserialize(wire));
    expect(decodeModelInferRequest(wire).model_name).toBe('mlp');
  });

  it('throws on anything cut short, and never loops or answers garbage from arbitrary bytes', () => {
    fc.assert(
      fc.property(request, fc.nat(), (msg, at) => {
        const wire = encodeRequest(msg);
        if (wire.length === 0) return;
        const cut = wire.subarray(0, at % wire.length);
        let ours: unknown;
        try {
          ours = decodeModelInferRequest(cut);
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
          return;
        }
        // A prefix that happens to end on a field boundary is a valid, shorter message.
        expect(ours).toEqual(requestDeserialize(cut));
      }),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (raw) => {
        try {
          decodeModelInferRequest(Buffer.from(raw));
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses field number 0 and a nested message longer than the bytes that hold it', () => {
    expect(() => decodeModelInferRequest(Buffer.from([0x02, 0x00]))).toThrow(/field number 0/);
    // inputs (field 5) claims 10 bytes; 2 follow.
    expect(() => decodeModelInferRequest(Buffer.from([0x2a, 0x0a, 0x0a, 0x00]))).toThrow(/past the end/);
  });

  it('writes answers that proto-loader reads back as it would its own', () => {
    const shape = fc.array(fc.integer({ min: 0, max: 2 ** 31 }), { maxLength: 4 });
    const response = fc.record({
      model_name: fc.string(),
      model_version: fc.string(),
      id: fc.string(),
      parameters,
      outputs: fc.array(
        fc.record(
          { name: fc.string(), datatype, shape, parameters, contents },
          { requiredKeys: ['name', 'datatype', 'shape', 'parameters'] },
        ),
        { maxLength: 3 },
      ),
      raw_output_contents: fc.array(bytes, { maxLength: 3 }),
    });
    fc.assert(
      fc.property(response, (msg) => {
        const answer = msg as ModelInferResponseMsg;
        expect(responseDeserialize(encodeModelInferResponse(answer))).toEqual(
          responseDeserialize(responseSerialize(answer)),
        );
      }),
      { numRuns: 400 },
    );
  });
});
