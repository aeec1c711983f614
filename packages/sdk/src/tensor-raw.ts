import { CLIENT_REASONS, QuiverError } from './errors.js';
import type { Datatype, InferOutput, TensorDataTypes, TensorInputData } from './types.js';

/**
 * Tensors as the binary bindings of the Open Inference Protocol carry them (gRPC
 * `raw_input_contents` / `raw_output_contents`): little-endian, row-major elements; BOOL one
 * byte each; BYTES as (uint32 LE length, bytes) pairs. Pure (no Node built-ins), so a gRPC-Web
 * transport can use it as well.
 *
 * Inputs are checked here the way the server checks JSON data, so that a bad element fails
 * with the same `INVALID_ARGUMENT` / `INVALID_TENSOR` on every transport instead of being
 * silently wrapped by a typed array (300 into UINT8).
 */

const ARRAYS = {
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  INT64: BigInt64Array,
  UINT64: BigUint64Array,
  FP32: Float32Array,
  FP64: Float64Array,
} as const;
type Numeric = keyof typeof ARRAYS;

const INT_RANGE: Record<string, readonly [number, number]> = {
  INT8: [-128, 127],
  INT16: [-32_768, 32_767],
  INT32: [-2_147_483_648, 2_147_483_647],
  UINT8: [0, 255],
  UINT16: [0, 65_535],
  UINT32: [0, 4_294_967_295],
};
const BIG_RANGE: Record<string, readonly [bigint, bigint]> = {
  INT64: [-(2n ** 63n), 2n ** 63n - 1n],
  UINT64: [0n, 2n ** 64n - 1n],
};
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** The raw bytes of one input tensor, after checking every element against its datatype. */
export function rawInput(name: string, datatype: Datatype, data: TensorInputData): Uint8Array {
  if (datatype === 'BYTES') return bytesRaw(name, data);
  if (datatype === 'BOOL') {
    return Uint8Array.from(values(data), (v, i) => {
      if (typeof v !== 'boolean') throw wrong(name, datatype, i, v, 'true or false');
      return v ? 1 : 0;
    });
  }
  if (datatype === 'FP16') {
    return littleEndian(
      Uint16Array.from(values(data), (v, i) => toHalf(number(name, datatype, i, v))),
      2,
    );
  }
  const Array_ = ARRAYS[datatype];
  // A typed array of exactly the datatype's kind needs no check: every element fits.
  if (data instanceof Array_) return littleEndian(data, Array_.BYTES_PER_ELEMENT);
  const out = new Array_(data.length);
  const items = values(data);
  for (let i = 0; i < items.length; i++)
    (out as { [i: number]: unknown })[i] = element(name, datatype, i, items[i]);
  return littleEndian(out, Array_.BYTES_PER_ELEMENT);
}

function element(name: string, type: Numeric, i: number, v: unknown): number | bigint {
  if (type === 'FP32' || type === 'FP64') return number(name, type, i, v);
  const big = BIG_RANGE[type];
  if (big) {
    let b: bigint | undefined;
    if (typeof v === 'bigint') b = v;
    else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
    else if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) b = BigInt(v);
    if (b === undefined || b < big[0] || b > big[1]) {
      throw wrong(name, type, i, v, `integers from ${big[0]} to ${big[1]}`);
    }
    return b;
  }
  const [min, max] = INT_RANGE[type]!;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw wrong(name, type, i, v, `integers from ${min} to ${max}`);
  }
  return v;
}

function number(name: string, type: Datatype, i: number, v: unknown): number {
  if (typeof v !== 'number') throw wrong(name, type, i, v, 'numbers');
  return v;
}

function values(data: TensorInputData): readonly unknown[] {
  return Array.isArray(data) ? data : Array.from(data as ArrayLike<unknown>);
}

function bytesRaw(name: string, data: TensorInputData): Uint8Array {
  const parts = values(data).map((v, i) => {
    if (typeof v === 'string') return utf8.encode(v);
    if (v instanceof Uint8Array) return v;
    throw wrong(name, 'BYTES', i, v, 'strings');
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.byteLength, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    view.setUint32(at, p.byteLength, true);
    out.set(p, at + 4);
    at += 4 + p.byteLength;
  }
  return out;
}

/** One output tensor from its raw bytes, as the same arrays the REST binding gives. */
export function outputFromRaw(name: string, datatype: string, shape: number[], raw: Uint8Array): InferOutput {
  const own = new Uint8Array(raw); // aligned and owned: the wire buffer is shared and may be offset
  let data: TensorDataTypes[Datatype];
  switch (datatype) {
    case 'BOOL':
      data = Array.from(own, (b) => b !== 0);
      break;
    case 'BYTES':
      data = bytesFromRaw(name, own);
      break;
    case 'FP16':
      data = Float32Array.from(new Uint16Array(swapped(own, 2).buffer), fromHalf);
      break;
    default: {
      const Array_ = ARRAYS[datatype as Numeric];
      if (!Array_ || own.byteLength % Array_.BYTES_PER_ELEMENT !== 0) {
        throw malformed(`output '${name}' has ${own.byteLength} raw bytes of datatype ${datatype}`);
      }
      data = new Array_(swapped(own, Array_.BYTES_PER_ELEMENT).buffer as ArrayBuffer);
    }
  }
  return { name, datatype, shape, data } as InferOutput;
}

function bytesFromRaw(name: string, buf: Uint8Array): string[] {
  const out: string[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let at = 0; at < buf.byteLength; ) {
    const len = at + 4 <= buf.byteLength ? view.getUint32(at, true) : -1;
    if (len < 0 || at + 4 + len > buf.byteLength) throw malformed(`output '${name}' has truncated BYTES`);
    out.push(fromUtf8.decode(buf.subarray(at + 4, at + 4 + len)));
    at += 4 + len;
  }
  return out;
}

/** The bytes of a typed array in little-endian order (a copy on big-endian hosts only). */
function littleEndian(array: ArrayBufferView, size: number): Uint8Array {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  return LITTLE_ENDIAN || size === 1 ? bytes : swapped(new Uint8Array(bytes), size);
}

/** Reverses the bytes of each element in place on big-endian hosts (wire order is little-endian). */
function swapped(bytes: Uint8Array, size: number): Uint8Array {
  if (LITTLE_ENDIAN || size === 1) return bytes;
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
  return bytes;
}

/** IEEE 754 half precision from a number (round to nearest even, like Float16Array). */
export function toHalf(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  const rest = mant & 0x1fff;
  let half = sign | (e << 10) | (mant >> 13);
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return half;
}

/** A number from IEEE 754 half-precision bits. */
export function fromHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (mant / 1024);
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + mant / 1024);
}

function wrong(name: string, type: Datatype, i: number, v: unknown, want: string): QuiverError {
  const shown = typeof v === 'bigint' ? `${v}n` : (JSON.stringify(v)?.slice(0, 40) ?? typeof v);
  return new QuiverError(
    'INVALID_ARGUMENT',
    `Input '${name}' element ${i} is ${shown}; ${type} takes ${want}.`,
    {
      details: { reason: 'INVALID_TENSOR', tensor: name, expected: want, got: v === null ? null : typeof v },
    },
  );
}

function malformed(what: string): QuiverError {
  return new QuiverError('INTERNAL', `ModelInfer: ${what}.`, {
    details: { reason: CLIENT_REASONS.MALFORMED_RESPONSE },
  });
}
