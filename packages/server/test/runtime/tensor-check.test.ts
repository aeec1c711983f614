import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Reason } from '../../src/domain/errors.js';
import { QuiverError } from '../../src/domain/errors.js';
import {
  checkInputs,
  checkRequestedOutputs,
  MAX_TENSOR_ELEMENTS,
  MAX_TENSOR_RANK,
} from '../../src/domain/tensor-check.js';
import type { Signature, Tensor } from '../../src/domain/tensors.js';

const signature: Signature = {
  format: 'onnx',
  inputs: [
    { name: 'input', datatype: 'FP32', shape: [-1, 4] },
    { name: 'mask', datatype: 'BOOL', shape: [-1] },
  ],
  outputs: [
    { name: 'scores', datatype: 'FP32', shape: [-1, 3] },
    { name: 'label', datatype: 'INT64', shape: [-1] },
  ],
  opset: 13,
  ir_version: 7,
  producer: 'test',
};

const input = (rows = 2, overrides: Partial<Tensor> = {}): Tensor => ({
  name: 'input',
  datatype: 'FP32',
  shape: [rows, 4],
  data: new Float32Array(rows * 4),
  ...overrides,
});
const mask = (rows = 2): Tensor => ({
  name: 'mask',
  datatype: 'BOOL',
  shape: [rows],
  data: Array(rows).fill(true),
});

/** Runs `fn`, expecting a QuiverError with this reason that names `tensor`; returns it. */
function rejects(fn: () => unknown, tensor: string, reason: Reason = 'INVALID_TENSOR'): QuiverError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(QuiverError);
    const e = err as QuiverError;
    expect(e.reason).toBe(reason);
    expect(e.message).toContain(`'${tensor}'`);
    expect(e.details).toMatchObject({ tensor });
    expect(e.details).toHaveProperty('expected');
    expect(e.details).toHaveProperty('got');
    return e;
  }
  throw new Error(`expected ${reason} for ${tensor}`);
}

describe('checkInputs', () => {
  it('accepts every declared input once, in any order, with any positive batch size', () => {
    checkInputs(signature, [input(2), mask(2)]);
    checkInputs(signature, [mask(7), input(7)]);
  });

  it('rejects an unknown input, listing the declared ones', () => {
    const e = rejects(() => checkInputs(signature, [input(), mask(), { ...mask(), name: 'extra' }]), 'extra');
    expect(e.message).toBe("Unknown input 'extra'; the model takes input, mask.");
  });

  it('rejects a missing input', () => {
    rejects(() => checkInputs(signature, [input()]), 'mask');
  });

  it('rejects an input given twice', () => {
    rejects(() => checkInputs(signature, [input(), input(), mask()]), 'input');
  });

  it('rejects a wrong datatype', () => {
    const e = rejects(
      () => checkInputs(signature, [input(2, { datatype: 'FP64', data: new Float64Array(8) }), mask()]),
      'input',
    );
    expect(e.message).toBe("Input 'input' must be FP32, got FP64.");
    expect(e.details).toMatchObject({ expected: 'FP32', got: 'FP64' });
  });

  it('rejects a wrong rank', () => {
    const e = rejects(() => checkInputs(signature, [input(2, { shape: [8] }), mask()]), 'input');
    expect(e.message).toMatch(/must have rank 2 \(shape \[-1, 4\]\), got rank 1 \(shape \[8\]\)/);
  });

  it('rejects a wrong fixed dimension', () => {
    const e = rejects(() => checkInputs(signature, [input(2, { shape: [1, 8] }), mask()]), 'input');
    expect(e.message).toMatch(/must have 4 at dimension 1/);
    expect(e.details).toMatchObject({ expected: [-1, 4], got: [1, 8] });
  });

  it('rejects an empty variable dimension', () => {
    rejects(() => checkInputs(signature, [input(0), mask(2)]), 'input');
  });

  it('rejects data whose length does not fill the shape', () => {
    const e = rejects(
      () => checkInputs(signature, [input(2, { data: new Float32Array(7) }), mask()]),
      'input',
    );
    expect(e.details).toMatchObject({ expected: 8, got: 7 });
  });

  it('rejects data carried in the wrong container', () => {
    rejects(() => checkInputs(signature, [input(2, { data: new Float64Array(8) }), mask()]), 'input');
    rejects(() => checkInputs(signature, [input(), { ...mask(), data: Uint8Array.of(1, 0) }]), 'mask');
  });

  it('rejects a rank above the limit and invalid sizes', () => {
    const deep = input(1, { shape: Array(MAX_TENSOR_RANK + 1).fill(1) });
    expect(rejects(() => checkInputs(signature, [deep, mask()]), 'input').message).toMatch(/at most 8/);
    rejects(() => checkInputs(signature, [input(2, { shape: [2, -4] }), mask()]), 'input');
    rejects(() => checkInputs(signature, [input(2, { shape: [2.5, 4] }), mask()]), 'input');
  });

  it('rejects more elements than the limit before looking at the data', () => {
    const huge = input(1, { shape: [MAX_TENSOR_ELEMENTS / 4 + 1, 4], data: new Float32Array(0) });
    const e = rejects(() => checkInputs(signature, [huge, mask()]), 'input', 'TOO_MANY_ITEMS');
    expect(e.code).toBe('RESOURCE_EXHAUSTED');
  });

  it('throws only QuiverErrors on arbitrary shapes and names', () => {
    const tensor = fc.record({
      name: fc.constantFrom('input', 'mask', 'other'),
      shape: fc.array(fc.integer({ min: -2, max: 6 }), { maxLength: 10 }),
    });
    fc.assert(
      fc.property(fc.array(tensor, { maxLength: 3 }), (specs) => {
        const tensors = specs.map((s): Tensor => {
          const n = Math.max(
            0,
            s.shape.reduce((a, b) => a * b, 1),
          );
          return s.name === 'mask'
            ? { name: s.name, datatype: 'BOOL', shape: s.shape, data: Array(n).fill(false) }
            : { name: s.name, datatype: 'FP32', shape: s.shape, data: new Float32Array(n) };
        });
        try {
          checkInputs(signature, tensors);
        } catch (err) {
          expect(err).toBeInstanceOf(QuiverError);
        }
      }),
    );
  });
});

describe('checkRequestedOutputs', () => {
  it('accepts declared outputs, in any order', () => {
    checkRequestedOutputs(signature, []);
    checkRequestedOutputs(signature, ['label', 'scores']);
  });

  it('rejects an unknown output, listing the declared ones', () => {
    const e = rejects(() => checkRequestedOutputs(signature, ['scores', 'logits']), 'logits');
    expect(e.message).toBe("Unknown output 'logits'; the model returns scores, label.");
  });

  it('rejects an output asked for twice', () => {
    rejects(() => checkRequestedOutputs(signature, ['label', 'label']), 'label');
  });
});
