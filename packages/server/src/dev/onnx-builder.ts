/**
 * Real ONNX models built in code: the example model of the tour (`quiver dev example-model`),
 * benchmarks and tests, with no Python and no downloads. Every model is opset 13, IR version 7,
 * with a dynamic batch dimension named "batch".
 */
import {
  DATATYPE_TO_ONNX,
  encodeModel,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from '../adapters/onnx/onnx-proto.js';
import type { Datatype } from '../domain/tensors.js';

export const OPSET = 13;
export const IR_VERSION = 7;

/** A dimension as ONNX declares it: a fixed size, or a named variable one. */
export type Dim = number | string;

export function valueInfo(name: string, datatype: Datatype | number, shape: readonly Dim[]): ValueInfoProto {
  const elem_type = typeof datatype === 'number' ? datatype : DATATYPE_TO_ONNX[datatype];
  const dim = shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type, shape: { dim } } } };
}

export function node(op_type: string, input: string[], output: string[]): NodeProto {
  return { op_type, input, output, name: `${op_type}_${output.join('_')}` };
}

/** A float32 initializer, as raw little-endian bytes or as float_data (exporters use both). */
export function floatInitializer(
  name: string,
  dims: number[],
  values: Float32Array,
  encoding: 'raw' | 'float_data',
): TensorProto {
  const base = { name, dims, data_type: DATATYPE_TO_ONNX.FP32 };
  if (encoding === 'float_data') return { ...base, float_data: values };
  return { ...base, raw_data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

export function buildModel(graph: {
  nodes: NodeProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  initializers?: TensorProto[];
  opset?: number;
}): Uint8Array {
  return encodeModel({
    ir_version: IR_VERSION,
    producer_name: 'quiver-tests',
    producer_version: '1.0',
    opset_import: [{ domain: '', version: graph.opset ?? OPSET }],
    graph: {
      name: 'test',
      node: graph.nodes,
      input: graph.inputs,
      output: graph.outputs,
      initializer: graph.initializers ?? [],
    },
  });
}

/** mulberry32: a small deterministic PRNG, so every run builds the same weights. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface MlpWeights {
  inputs: number;
  hidden: number;
  outputs: number;
  /** [inputs, hidden], row-major. */
  w1: Float32Array;
  b1: Float32Array;
  /** [hidden, outputs], row-major. */
  w2: Float32Array;
  b2: Float32Array;
}

/**
 * output = (Relu(input · W1 + B1)) · W2 + B2, input FP32 [batch, inputs], output FP32 [batch, outputs].
 * `initializersAsInputs` also lists the weights as graph inputs, as IR < 4 exporters did.
 */
export function tinyMlp(
  options: {
    inputs?: number;
    hidden?: number;
    outputs?: number;
    seed?: number;
    initializersAsInputs?: boolean;
  } = {},
): { bytes: Uint8Array; weights: MlpWeights } {
  const { inputs = 4, hidden = 8, outputs = 3, seed = 1 } = options;
  const next = prng(seed);
  const random = (n: number) => Float32Array.from({ length: n }, () => next() * 2 - 1);
  const weights: MlpWeights = {
    inputs,
    hidden,
    outputs,
    w1: random(inputs * hidden),
    b1: random(hidden),
    w2: random(hidden * outputs),
    b2: random(outputs),
  };
  const initializers = [
    floatInitializer('W1', [inputs, hidden], weights.w1, 'raw'),
    floatInitializer('B1', [hidden], weights.b1, 'float_data'),
    floatInitializer('W2', [hidden, outputs], weights.w2, 'raw'),
    floatInitializer('B2', [outputs], weights.b2, 'float_data'),
  ];
  const weightInputs = options.initializersAsInputs
    ? initializers.map((t) => valueInfo(t.name ?? '', 'FP32', (t.dims ?? []) as number[]))
    : [];
  const bytes = buildModel({
    nodes: [
      node('MatMul', ['input', 'W1'], ['h1']),
      node('Add', ['h1', 'B1'], ['h2']),
      node('Relu', ['h2'], ['h3']),
      node('MatMul', ['h3', 'W2'], ['h4']),
      node('Add', ['h4', 'B2'], ['output']),
    ],
    inputs: [valueInfo('input', 'FP32', ['batch', inputs]), ...weightInputs],
    outputs: [valueInfo('output', 'FP32', ['batch', outputs])],
    initializers,
  });
  return { bytes, weights };
}

/** The MLP in plain JavaScript (float64 arithmetic over the float32 weights): rows of outputs. */
export function referenceMlp(weights: MlpWeights, x: ArrayLike<number>): number[] {
  const { inputs, hidden, outputs, w1, b1, w2, b2 } = weights;
  const batch = x.length / inputs;
  const out: number[] = [];
  for (let r = 0; r < batch; r++) {
    const h = Array.from({ length: hidden }, (_, j) => {
      let s = b1[j]!;
      for (let i = 0; i < inputs; i++) s += x[r * inputs + i]! * w1[i * hidden + j]!;
      return Math.max(0, s);
    });
    for (let k = 0; k < outputs; k++) {
      let s = b2[k]!;
      for (let j = 0; j < hidden; j++) s += h[j]! * w2[j * outputs + k]!;
      out.push(s);
    }
  }
  return out;
}
