/** Tensors as the Open Inference Protocol names them, independent of transport and runtime. */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;
export type Datatype = (typeof DATATYPES)[number];

/** Bytes per element in the raw (little-endian, row-major) encoding; BYTES elements are length-prefixed. */
export const ELEMENT_BYTES: Readonly<Record<Exclude<Datatype, 'BYTES'>, number>> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
};

export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | boolean[]
  | Uint8Array[];

export interface Tensor {
  name: string;
  datatype: Datatype;
  /** Concrete dimensions (no -1). */
  shape: number[];
  /** Row-major elements: a typed array for numbers, booleans for BOOL, one byte string per element for BYTES. */
  data: TensorData;
}

/** A declared input or output: -1 marks a dimension of variable size. */
export interface TensorSpec {
  name: string;
  datatype: Datatype;
  shape: number[];
}

export interface Signature {
  format: 'onnx';
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Default-domain opset the model was exported with. */
  opset: number | null;
  ir_version: number | null;
  producer: string;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
