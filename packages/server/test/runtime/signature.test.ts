import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, int64ToNumber } from '../../src/adapters/onnx/onnx-proto.js';
import { readSignature } from '../../src/adapters/onnx/signature.js';
import { QuiverError } from '../../src/domain/errors.js';
import { DATATYPES } from '../../src/domain/tensors.js';
import {
  ADD_DATATYPES,
  addModel,
  brokenGraphModel,
  buildModel,
  identityModel,
  node,
  notAModel,
  tinyMlp,
  valueInfo,
} from '../support/onnx-models.js';

/** Runs `fn`, expecting QuiverError INVALID_MODEL, and returns its message. */
function invalidModel(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(QuiverError);
    expect((err as QuiverError).reason).toBe('INVALID_MODEL');
    expect((err as QuiverError).code).toBe('INVALID_ARGUMENT');
    return (err as QuiverError).message;
  }
  throw new Error('expected an INVALID_MODEL error');
}

const identity = (inputs = [valueInfo('x', 'FP32', [1])], outputs = [valueInfo('y', 'FP32', [1])]) =>
  buildModel({ nodes: [node('Identity', ['x'], ['y'])], inputs, outputs });

describe('onnx-proto', () => {
  it('round-trips a model through encode and decode', () => {
    const bytes = tinyMlp().bytes;
    const model = decodeModel(bytes);
    expect(int64ToNumber(model.ir_version)).toBe(7);
    expect(model.graph?.node?.map((n) => n.op_type)).toEqual(['MatMul', 'Add', 'Relu', 'MatMul', 'Add']);
    expect(model.graph?.initializer?.map((t) => t.name)).toEqual(['W1', 'B1', 'W2', 'B2']);
    expect(encodeModel(model)).toEqual(bytes);
  });

  it('hands back a plain Uint8Array whose slice is a copy', () => {
    const bytes = tinyMlp().bytes;
    const copy = bytes.slice();
    copy[0] = (copy[0] ?? 0) ^ 0xff;
    expect(bytes[0]).not.toBe(copy[0]);
  });
});

describe('readSignature', () => {
  it('reads the tiny MLP: a dynamic batch, fixed features, opset, IR version and producer', () => {
    expect(readSignature(tinyMlp().bytes)).toEqual({
      format: 'onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 3] }],
      opset: 13,
      ir_version: 7,
      producer: 'quiver-tests 1.0',
    });
  });

  it('follows the sizes the MLP was built with', () => {
    const sig = readSignature(tinyMlp({ inputs: 6, hidden: 5, outputs: 2, seed: 9 }).bytes);
    expect(sig.inputs[0]?.shape).toEqual([-1, 6]);
    expect(sig.outputs[0]?.shape).toEqual([-1, 2]);
  });

  it('leaves out graph inputs that are initializers', () => {
    const { bytes } = tinyMlp({ initializersAsInputs: true });
    expect(decodeModel(bytes).graph?.input).toHaveLength(5);
    expect(readSignature(bytes).inputs.map((i) => i.name)).toEqual(['input']);
  });

  it.each(ADD_DATATYPES)('reads the %s add model', (datatype) => {
    const sig = readSignature(addModel(datatype));
    expect(sig.inputs).toEqual([
      { name: 'x', datatype, shape: [-1, 2] },
      { name: 'y', datatype, shape: [-1, 2] },
    ]);
    expect(sig.outputs).toEqual([{ name: 'z', datatype, shape: [-1, 2] }]);
  });

  it.each(DATATYPES)('reads the %s identity model', (datatype) => {
    const sig = readSignature(identityModel(datatype));
    expect(sig.inputs).toEqual([{ name: 'x', datatype, shape: [-1, 2] }]);
    expect(sig.outputs).toEqual([{ name: 'y', datatype, shape: [-1, 2] }]);
  });

  it('reads the broken-graph model, whose defect only ONNX Runtime notices', () => {
    expect(readSignature(brokenGraphModel()).inputs).toEqual([
      { name: 'x', datatype: 'FP32', shape: [-1, 2] },
    ]);
  });

  it('reads a dimension with neither value nor name as variable, and a scalar as rank 0', () => {
    const bytes = identity(
      [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{}, { dim_value: 0 }] } } } }],
      [{ name: 'y', type: { tensor_type: { elem_type: 1, shape: {} } } }],
    );
    const sig = readSignature(bytes);
    expect(sig.inputs[0]?.shape).toEqual([-1, 0]);
    expect(sig.outputs[0]?.shape).toEqual([]);
  });

  it('takes the opset of the default domain, named "" or "ai.onnx", and null without one', () => {
    const graph = decodeModel(identity()).graph ?? {};
    const withOpsets = (opset_import: { domain: string; version: number }[]) =>
      readSignature(encodeModel({ ir_version: 8, opset_import, graph })).opset;
    expect(
      withOpsets([
        { domain: 'com.microsoft', version: 1 },
        { domain: 'ai.onnx', version: 17 },
      ]),
    ).toBe(17);
    expect(withOpsets([{ domain: '', version: 11 }])).toBe(11);
    expect(withOpsets([{ domain: 'ai.onnx.ml', version: 3 }])).toBeNull();
  });

  describe('rejects with INVALID_MODEL', () => {
    it('an empty file', () => {
      expect(invalidModel(() => readSignature(new Uint8Array()))).toMatch(/empty/);
    });

    it('random bytes', () => {
      expect(invalidModel(() => readSignature(notAModel()))).toMatch(
        /^The artifact is not a readable ONNX model: /,
      );
    });

    it('truncated models', () => {
      const bytes = tinyMlp().bytes;
      for (const end of [1, 2, 10, 100, bytes.length >> 1, bytes.length - 1]) {
        invalidModel(() => readSignature(bytes.subarray(0, end)));
      }
    });

    it('a model without a graph or without an IR version', () => {
      expect(invalidModel(() => readSignature(encodeModel({ ir_version: 7 })))).toMatch(/no graph/);
      const graph = decodeModel(identity()).graph ?? {};
      expect(invalidModel(() => readSignature(encodeModel({ graph })))).toMatch(/no ir_version/);
    });

    it('a graph without inputs or without outputs', () => {
      expect(invalidModel(() => readSignature(identity([])))).toMatch(/no inputs/);
      expect(invalidModel(() => readSignature(identity(undefined, [])))).toMatch(/no outputs/);
    });

    it('an element type Quiver does not serve, naming it', () => {
      const bytes = identity([valueInfo('x', 16, [1])]);
      expect(invalidModel(() => readSignature(bytes))).toMatch(/input 'x' has element type 16 \(BFLOAT16\)/);
    });

    it('an input that is not a tensor or has no shape', () => {
      expect(invalidModel(() => readSignature(identity([{ name: 'x', type: {} }])))).toMatch(/not a tensor/);
      const noShape = identity([{ name: 'x', type: { tensor_type: { elem_type: 1 } } }]);
      expect(invalidModel(() => readSignature(noShape))).toMatch(/declares no shape/);
    });

    it('a negative dimension and a name declared twice', () => {
      const negative = identity([valueInfo('x', 'FP32', [-3])]);
      expect(invalidModel(() => readSignature(negative))).toMatch(/invalid size at dimension 0/);
      const twice = identity([valueInfo('x', 'FP32', [1]), valueInfo('x', 'FP32', [1])]);
      expect(invalidModel(() => readSignature(twice))).toMatch(/declared twice/);
    });
  });

  it('throws nothing but INVALID_MODEL on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        invalidModel(() => readSignature(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('either reads or rejects with INVALID_MODEL any corruption of a real model', () => {
    const bytes = tinyMlp().bytes;
    const edit = fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), fc.nat(bytes.length), (edits, end) => {
        const corrupted = bytes.slice(0, Math.max(1, end));
        for (const [i, v] of edits) if (i < corrupted.length) corrupted[i] = v;
        try {
          readSignature(corrupted);
        } catch (err) {
          expect(err).toBeInstanceOf(QuiverError);
          expect((err as QuiverError).reason).toBe('INVALID_MODEL');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
