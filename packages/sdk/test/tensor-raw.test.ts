import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHalf, outputFromRaw, rawInput, toHalf } from '../src/tensor-raw.js';

describe('raw tensors (the gRPC binding)', () => {
  it('converts half floats exactly where half precision can, rounding to nearest even elsewhere', () => {
    expect([1, -2, 0.5, 65504, 2 ** -24].map((v) => fromHalf(toHalf(v)))).toEqual([
      1,
      -2,
      0.5,
      65504,
      2 ** -24,
    ]);
    expect(fromHalf(toHalf(1 + 2 ** -11))).toBe(1); // a tie rounds to the even neighbour
    expect(fromHalf(toHalf(70000))).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(fromHalf(toHalf(Number.NaN)))).toBe(true);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (bits) => {
        const v = fromHalf(bits);
        fc.pre(!Number.isNaN(v));
        expect(toHalf(v)).toBe(bits); // every half (±0 and subnormals included) survives the round trip
      }),
    );
  });

  it('sends a typed array of the datatype as its own bytes, and reads them back as that array', () => {
    const data = new Int32Array([1, -2, 2 ** 31 - 1]);
    const raw = rawInput('x', 'INT32', data);
    expect(raw.byteLength).toBe(12);
    expect(outputFromRaw('x', 'INT32', [3], raw).data).toEqual(data);
  });

  it('frames BYTES elements with a 4-byte little-endian length', () => {
    const raw = rawInput('s', 'BYTES', ['ab', '']);
    expect([...raw]).toEqual([2, 0, 0, 0, 97, 98, 0, 0, 0, 0]);
    expect(outputFromRaw('s', 'BYTES', [2], raw).data).toEqual(['ab', '']);
  });

  it('refuses elements the datatype cannot hold, as the server does for JSON', () => {
    const reasons = (f: () => unknown) => {
      try {
        f();
        return 'accepted';
      } catch (e) {
        const { code, reason } = e as { code: string; reason: string };
        return `${code} ${reason}`;
      }
    };
    expect(reasons(() => rawInput('x', 'UINT8', [1, 256]))).toBe('INVALID_ARGUMENT INVALID_TENSOR');
    expect(reasons(() => rawInput('x', 'INT32', [1.5]))).toBe('INVALID_ARGUMENT INVALID_TENSOR');
    expect(reasons(() => rawInput('x', 'BOOL', [1] as unknown as boolean[]))).toBe(
      'INVALID_ARGUMENT INVALID_TENSOR',
    );
    expect(reasons(() => rawInput('x', 'INT64', ['9223372036854775808']))).toBe(
      'INVALID_ARGUMENT INVALID_TENSOR',
    );
    expect(reasons(() => rawInput('x', 'INT64', ['-9223372036854775808', '7']))).toBe('accepted');
    expect(reasons(() => rawInput('x', 'UINT64', [2n ** 64n - 1n]))).toBe('accepted');
  });
});
