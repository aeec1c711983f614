/**
 * Test-only ONNX models (the builder and the example MLP live in src/dev/onnx-builder.ts).
 */
import { buildModel, node, prng, valueInfo } from '../../src/dev/onnx-builder.js';
import type { Datatype } from '../../src/domain/tensors.js';

export {
  buildModel,
  type Dim,
  floatInitializer,
  IR_VERSION,
  type MlpWeights,
  node,
  OPSET,
  prng,
  referenceMlp,
  tinyMlp,
  valueInfo,
} from '../../src/dev/onnx-builder.js';

export const ADD_DATATYPES = ['FP32', 'FP64', 'INT32', 'INT64'] as const;

/** z = x + y, all three [batch, 2]. */
export function addModel(datatype: (typeof ADD_DATATYPES)[number]): Uint8Array {
  return buildModel({
    nodes: [node('Add', ['x', 'y'], ['z'])],
    inputs: [valueInfo('x', datatype, ['batch', 2]), valueInfo('y', datatype, ['batch', 2])],
    outputs: [valueInfo('z', datatype, ['batch', 2])],
  });
}

/** y = x, both [batch, 2], for any datatype (BOOL and BYTES = ONNX STRING among them). */
export function identityModel(datatype: Datatype): Uint8Array {
  return buildModel({
    nodes: [node('Identity', ['x'], ['y'])],
    inputs: [valueInfo('x', datatype, ['batch', 2])],
    outputs: [valueInfo('y', datatype, ['batch', 2])],
  });
}

/** Deterministic bytes that are not a model. */
export function notAModel(length = 512, seed = 7): Uint8Array {
  const next = prng(seed);
  return Uint8Array.from({ length }, () => Math.floor(next() * 256));
}

/** Decodes, and its signature reads, but a node consumes a value nothing produces: ONNX Runtime refuses it. */
export function brokenGraphModel(): Uint8Array {
  return buildModel({
    nodes: [node('Add', ['x', 'missing'], ['z'])],
    inputs: [valueInfo('x', 'FP32', ['batch', 2])],
    outputs: [valueInfo('z', 'FP32', ['batch', 2])],
  });
}
