import { endianness } from 'node:os';
import { QuiverError } from '../../domain/errors.js';
import { checkLimits, MAX_TENSOR_RANK } from '../../domain/tensor-check.js';
import {
  DATATYPES,
  type Datatype,
  ELEMENT_BYTES,
  type Tensor,
  type TensorData,
} from '../../domain/tensors.js';
import type { InferRequest, InferResult } from '../../services/inference/types.js';

/**
 * Tensors between the wire and the domain, for both bindings of the Open Inference Protocol:
 * gRPC messages as @grpc/proto-loader gives them (keepCase, `longs: String`, defaults), and
 * the JSON of the `/v2` REST routes. 64-bit integers never pass through a JS number: they
 * arrive as decimal strings and become BigInt64Array / BigUint64Array elements.
 */

type Param = string | number | boolean;

/** InferParameter as loaded with `oneofs: true` and `longs: String`. */
export interface InferParameterMsg {
  bool_param?: boolean;
  int64_param?: string | number;
  string_param?: string;
  double_param?: number;
  uint64_param?: string | number;
  parameter_choice?: string;
}

export const CONTENT_FIELDS = [
  'bool_contents',
  'int_contents',
  'int64_contents',
  'uint_contents',
  'uint64_contents',
  'fp32_contents',
  'fp64_contents',
  'bytes_contents',
] as const;
type ContentField = (typeof CONTENT_FIELDS)[number];
export type TensorContentsMsg = Partial<Record<ContentField, readonly unknown[]>>;

export interface InferInputTensorMsg {
  name?: string;
  datatype?: string;
  shape?: readonly (string | number)[];
  parameters?: Record<string, InferParameterMsg>;
  contents?: TensorContentsMsg | null;
}

export interface ModelInferRequestMsg {
  model_name?: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, InferParameterMsg>;
  inputs?: readonly InferInputTensorMsg[];
  outputs?: readonly { name?: string }[];
  raw_input_contents?: readonly Uint8Array[];
}

export interface InferOutputTensorMsg {
  name: string;
  datatype: string;
  shape: number[];
  parameters: Record<string, InferParameterMsg>;
  contents?: TensorContentsMsg;
}

export interface ModelInferResponseMsg {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameterMsg>;
  outputs: InferOutputTensorMsg[];
  raw_output_contents: Uint8Array[];
}

/** The typed-contents field that carries each datatype (FP16 has none: raw only). */
const FIELD: Record<Exclude<Datatype, 'FP16'>, ContentField> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

const INT_RANGE = {
  INT8: [-128, 127],
  INT16: [-32_768, 32_767],
  INT32: [-2_147_483_648, 2_147_483_647],
  UINT8: [0, 255],
  UINT16: [0, 65_535],
  UINT32: [0, 4_294_967_295],
} as const;
const BIG_RANGE = { INT64: [-(2n ** 63n), 2n ** 63n - 1n], UINT64: [0n, 2n ** 64n - 1n] } as const;
const LITTLE_ENDIAN = endianness() === 'LE';
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export function invalidTensor(tensor: string, message: string, expected: unknown, got: unknown): QuiverError {
  return new QuiverError('INVALID_TENSOR', message, { details: { tensor, expected, got } });
}

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function parseDatatype(name: string, datatype: string): Datatype {
  if ((DATATYPES as readonly string[]).includes(datatype)) return datatype as Datatype;
  const shown = datatype.length > 32 ? `${datatype.slice(0, 32)}…` : datatype;
  throw invalidTensor(name, `Input '${name}' has unknown datatype '${shown}'.`, DATATYPES, shown);
}

/** Validates name, datatype and shape; returns the element count the data must have. */
function header(name: string, datatype: string, rawShape: readonly (string | number)[]) {
  const type = parseDatatype(name, datatype);
  // int64 dimensions arrive as strings; beyond 2^53 they are not safe integers and checkLimits refuses them.
  const shape = rawShape.map((d) => Number(d));
  const count = checkLimits({ name, shape });
  return { type, shape, count };
}

/** JS values (typed contents or JSON data) into the container the datatype is carried in. */
export function fromValues(name: string, type: Datatype, values: readonly unknown[]): TensorData {
  const wrong = (i: number, want: string): QuiverError =>
    invalidTensor(
      name,
      `Input '${name}' element ${i} is ${JSON.stringify(values[i])?.slice(0, 40) ?? typeof values[i]}; ${type} takes ${want}.`,
      want,
      values[i] === null ? null : typeof values[i],
    );
  switch (type) {
    case 'BOOL':
      return values.map((v, i) => {
        if (typeof v !== 'boolean') throw wrong(i, 'true or false');
        return v;
      });
    case 'BYTES':
      return values.map((v, i) => {
        if (typeof v === 'string') return utf8.encode(v);
        if (v instanceof Uint8Array) return v;
        throw wrong(i, 'strings');
      });
    case 'FP16':
    case 'FP32':
    case 'FP64': {
      const out =
        type === 'FP64'
          ? new Float64Array(values.length)
          : type === 'FP32'
            ? new Float32Array(values.length)
            : new Uint16Array(values.length);
      const convert = type === 'FP16' ? toHalf : (v: number) => v;
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (typeof v !== 'number') throw wrong(i, 'numbers');
        out[i] = convert(v);
      }
      return out;
    }
    case 'INT64':
    case 'UINT64': {
      const [min, max] = BIG_RANGE[type];
      const out = type === 'INT64' ? new BigInt64Array(values.length) : new BigUint64Array(values.length);
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        let big: bigint | undefined;
        if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) big = BigInt(v);
        else if (typeof v === 'number' && Number.isSafeInteger(v)) big = BigInt(v);
        if (big === undefined || big < min || big > max) {
          throw wrong(i, `integers from ${min} to ${max} (decimal strings beyond 2^53)`);
        }
        out[i] = big;
      }
      return out;
    }
    default: {
      const [min, max] = INT_RANGE[type];
      const out = new INT_ARRAY[type](values.length);
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
          throw wrong(i, `integers from ${min} to ${max}`);
        }
        out[i] = v;
      }
      return out;
    }
  }
}

const INT_ARRAY = {
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
} as const;

/** Decodes one raw entry: little-endian row-major elements; BYTES as (uint32 LE length, bytes) pairs. */
export function fromRaw(
  name: string,
  type: Datatype,
  shape: number[],
  count: number,
  buf: Uint8Array,
): TensorData {
  if (type === 'BYTES') return bytesFromRaw(name, shape, count, buf);
  const size = ELEMENT_BYTES[type];
  if (buf.byteLength !== count * size) {
    throw invalidTensor(
      name,
      `Input '${name}' has ${buf.byteLength} raw bytes; shape ${fmt(shape)} of ${type} needs ${count * size}.`,
      count * size,
      buf.byteLength,
    );
  }
  const copy = new Uint8Array(buf); // aligned, and owned: the wire buffer is shared
  if (!LITTLE_ENDIAN) swapBytes(copy, size);
  const ab = copy.buffer;
  switch (type) {
    case 'BOOL':
      return Array.from(copy, (b) => b !== 0);
    case 'FP16':
    case 'UINT16':
      return new Uint16Array(ab);
    case 'FP32':
      return new Float32Array(ab);
    case 'FP64':
      return new Float64Array(ab);
    case 'INT64':
      return new BigInt64Array(ab);
    case 'UINT64':
      return new BigUint64Array(ab);
    default:
      return new INT_ARRAY[type](ab);
  }
}

function bytesFromRaw(name: string, shape: number[], count: number, buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  while (at < buf.byteLength && out.length < count) {
    if (at + 4 > buf.byteLength) break;
    const len = view.getUint32(at, true);
    if (at + 4 + len > buf.byteLength) break;
    out.push(buf.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  if (out.length !== count || at !== buf.byteLength) {
    throw invalidTensor(
      name,
      `Input '${name}' raw BYTES must hold exactly ${count} elements for shape ${fmt(shape)}, each a 4-byte little-endian length and its bytes; got ${out.length} element(s) and ${buf.byteLength - at} byte(s) left over.`,
      count,
      out.length,
    );
  }
  return out;
}

/** The gRPC request as the domain InferRequest; `raw` tells which encoding the answer should use. */
export function decodeInferRequest(msg: ModelInferRequestMsg): { request: InferRequest; raw: boolean } {
  const inputs = msg.inputs ?? [];
  const raws = msg.raw_input_contents ?? [];
  const raw = raws.length > 0;
  if (raw && raws.length !== inputs.length) {
    const missing = inputs[raws.length]?.name;
    const counts = `raw_input_contents has ${raws.length} entries for ${inputs.length} inputs`;
    throw invalidTensor(
      missing ?? '',
      missing === undefined
        ? `${counts}: send one per input, in order.`
        : `Input '${missing}' has no entry in raw_input_contents (${counts}): send one per input, in order, or typed contents for all.`,
      inputs.length,
      raws.length,
    );
  }
  const tensors = inputs.map((t, i): Tensor => {
    const name = t.name ?? '';
    const { type, shape, count } = header(name, t.datatype ?? '', t.shape ?? []);
    const used = CONTENT_FIELDS.filter((f) => (t.contents?.[f]?.length ?? 0) > 0);
    const entry = raws[i];
    if (entry !== undefined) {
      if (used.length > 0) {
        throw invalidTensor(
          name,
          `Input '${name}' has typed contents (${used.join(', ')}) while the request uses raw_input_contents: use one way for all inputs.`,
          'raw_input_contents only',
          used,
        );
      }
      return { name, datatype: type, shape, data: fromRaw(name, type, shape, count, entry) };
    }
    if (type === 'FP16') {
      throw invalidTensor(
        name,
        `Input '${name}' is FP16, which travels only in raw_input_contents.`,
        'raw',
        used,
      );
    }
    const field = FIELD[type];
    const others = used.filter((f) => f !== field);
    if (others.length > 0) {
      throw invalidTensor(
        name,
        `Input '${name}' is ${type}, carried in contents.${field}; got ${others.join(', ')}.`,
        field,
        others,
      );
    }
    const values = t.contents?.[field] ?? [];
    if (values.length !== count) {
      throw invalidTensor(
        name,
        `Input '${name}' has ${values.length} elements in contents.${field}; shape ${fmt(shape)} holds ${count}.`,
        count,
        values.length,
      );
    }
    return { name, datatype: type, shape, data: fromValues(name, type, values) };
  });
  return {
    raw,
    request: {
      model_name: msg.model_name ?? '',
      model_version: msg.model_version ?? '',
      id: msg.id ?? '',
      inputs: tensors,
      outputs: (msg.outputs ?? []).map((o) => o.name ?? ''),
      parameters: decodeParameters(msg.parameters ?? {}),
    },
  };
}

/** int64/uint64 parameters become numbers when exact, decimal strings otherwise. */
function decodeParameters(params: Record<string, InferParameterMsg>): Record<string, Param> {
  const out: Record<string, Param> = {};
  for (const [key, p] of Object.entries(params)) {
    const choice = (p.parameter_choice ?? '') as keyof InferParameterMsg;
    const value = p[choice];
    if (value === undefined) continue;
    if (choice === 'int64_param' || choice === 'uint64_param') {
      const n = Number(value);
      out[key] = Number.isSafeInteger(n) ? n : String(value);
    } else out[key] = value;
  }
  return out;
}

/**
 * The result as a ModelInferResponse: raw_output_contents when the request came raw (as Triton
 * answers raw clients), typed contents otherwise. FP16 has no typed field, so a result with an
 * FP16 output is sent raw whole (the protocol does not allow mixing).
 */
export function encodeInferResponse(result: InferResult, raw: boolean): ModelInferResponseMsg {
  const asRaw = raw || result.outputs.some((o) => o.datatype === 'FP16');
  return {
    model_name: result.model_name,
    model_version: result.model_version,
    id: result.id,
    parameters: {},
    outputs: result.outputs.map((o) => ({
      name: o.name,
      datatype: o.datatype,
      shape: o.shape,
      parameters: {},
      ...(asRaw ? {} : { contents: typedContents(o) }),
    })),
    raw_output_contents: asRaw ? result.outputs.map(toRaw) : [],
  };
}

function typedContents(t: Tensor): TensorContentsMsg {
  if (t.datatype === 'FP16') throw new Error('FP16 is sent raw');
  const field = FIELD[t.datatype];
  return { [field]: toValues(t, 'grpc') };
}

/**
 * Tensor data as JS values. 64-bit integers: always decimal strings for gRPC (proto-loader
 * serialises them exactly); for JSON, numbers when every element of the tensor is a safe integer,
 * otherwise every element as a decimal string (one type per tensor, never mixed).
 */
export function toValues(t: Tensor, target: 'grpc' | 'json'): unknown[] {
  const data = t.data;
  if (Array.isArray(data)) {
    if (t.datatype !== 'BYTES' || target === 'grpc') return data;
    return (data as Uint8Array[]).map((b) => fromUtf8.decode(b));
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    const safe =
      target === 'json' &&
      data.every((v) => v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER));
    return Array.from(data, (v): number | string => (safe ? Number(v) : String(v)));
  }
  if (t.datatype === 'FP16') return Array.from(data, fromHalf);
  return Array.from(data);
}

/** One output as raw bytes (little-endian; BYTES length-prefixed). */
export function toRaw(t: Tensor): Uint8Array {
  const data = t.data;
  if (Array.isArray(data)) {
    if (t.datatype === 'BOOL') return Uint8Array.from(data as boolean[], (b) => (b ? 1 : 0));
    const items = data as Uint8Array[];
    const out = Buffer.allocUnsafe(items.reduce((n, b) => n + 4 + b.byteLength, 0));
    let at = 0;
    for (const b of items) {
      out.writeUInt32LE(b.byteLength, at);
      out.set(b, at + 4);
      at += 4 + b.byteLength;
    }
    return out;
  }
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const copy = new Uint8Array(bytes);
  swapBytes(copy, data.BYTES_PER_ELEMENT);
  return copy;
}

function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

// FP16 is carried as its bit pattern (Uint16Array). Rounding through float32 is exact for half:
// float32 has more than 2 × 11 + 2 significand bits, so the double rounding never differs.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant === 0 ? 0 : 0x200);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00;
  const full = e > 0 ? mant : mant | 0x800000;
  const shift = e > 0 ? 13 : 14 - e;
  if (shift > 24) return sign;
  let half = (e > 0 ? e << 10 : 0) | (full >>> shift);
  const rest = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++; // may carry into the exponent: correct
  return sign | half;
}

export function fromHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

// ---- The JSON binding of the `/v2` REST routes ----

export interface JsonInferInput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: Record<string, Param> | undefined;
}

export interface JsonInferRequest {
  id?: string | undefined;
  parameters?: Record<string, Param> | undefined;
  inputs: JsonInferInput[];
  outputs?: { name: string; parameters?: Record<string, Param> | undefined }[] | undefined;
}

export interface JsonInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; shape: number[]; datatype: Datatype; data: unknown[] }[];
}

/** The JSON body as the domain InferRequest. `data` may be flat or nested row-major; BYTES as UTF-8 strings. */
export function decodeJsonInferRequest(model: string, version: string, body: JsonInferRequest): InferRequest {
  const inputs = body.inputs.map((t): Tensor => {
    const { type, shape, count } = header(t.name, t.datatype, t.shape);
    const values = flatten(t.name, t.data);
    if (values.length !== count) {
      throw invalidTensor(
        t.name,
        `Input '${t.name}' has ${values.length} elements in data; shape ${fmt(shape)} holds ${count}.`,
        count,
        values.length,
      );
    }
    return { name: t.name, datatype: type, shape, data: fromValues(t.name, type, values) };
  });
  return {
    model_name: model,
    model_version: version,
    id: body.id ?? '',
    inputs,
    outputs: (body.outputs ?? []).map((o) => o.name),
    parameters: body.parameters ?? {},
  };
}

function flatten(name: string, data: unknown[]): unknown[] {
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (items: unknown[], depth: number): void => {
    if (depth > MAX_TENSOR_RANK) {
      throw invalidTensor(
        name,
        `Input '${name}' data is nested deeper than rank ${MAX_TENSOR_RANK}.`,
        MAX_TENSOR_RANK,
        depth,
      );
    }
    for (const v of items) {
      if (Array.isArray(v)) walk(v, depth + 1);
      else out.push(v);
    }
  };
  walk(data, 1);
  return out;
}

export function encodeJsonInferResponse(result: InferResult): JsonInferResponse {
  return {
    model_name: result.model_name,
    model_version: result.model_version,
    id: result.id,
    outputs: result.outputs.map((o) => ({
      name: o.name,
      datatype: o.datatype,
      shape: o.shape,
      data: toValues(o, 'json'),
    })),
  };
}
