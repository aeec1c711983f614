import { QuiverError } from './errors.js';
import type { Datatype, Signature, Tensor, TensorData, TensorSpec } from './tensors.js';

/** Largest rank accepted for an inference tensor. */
export const MAX_TENSOR_RANK = 8;
/** Largest element count accepted for one inference tensor (64 Mi elements). */
export const MAX_TENSOR_ELEMENTS = 64 * 1024 * 1024;

const formatShape = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function bad(tensor: string, message: string, expected: unknown, got: unknown): QuiverError {
  return new QuiverError('INVALID_TENSOR', message, { details: { tensor, expected, got } });
}

/**
 * Checks inference inputs against a model's signature before they reach the runtime: every
 * declared input given exactly once and nothing else, the declared datatype, the declared rank,
 * every fixed dimension (a declared -1 accepts any positive size), and as many elements as the
 * shape holds. Throws QuiverError INVALID_TENSOR naming the tensor (TOO_MANY_ITEMS past the size limit).
 */
export function checkInputs(signature: Signature, tensors: readonly Tensor[]): void {
  const declared = new Map(signature.inputs.map((s) => [s.name, s]));
  const expectedNames = signature.inputs.map((s) => s.name);
  const given = new Set<string>();
  for (const t of tensors) {
    if (given.has(t.name)) {
      throw bad(t.name, `Input '${t.name}' is given more than once.`, 'one tensor per input', 'duplicate');
    }
    given.add(t.name);
    const spec = declared.get(t.name);
    if (spec === undefined) {
      throw bad(
        t.name,
        `Unknown input '${t.name}'; the model takes ${expectedNames.join(', ')}.`,
        expectedNames,
        t.name,
      );
    }
    checkTensor(spec, t);
  }
  for (const name of expectedNames) {
    if (!given.has(name)) {
      throw bad(name, `Input '${name}' is missing; the model takes ${expectedNames.join(', ')}.`, name, null);
    }
  }
}

/** Checks the names of the outputs a request asks for: each one declared, none twice. */
export function checkRequestedOutputs(signature: Signature, names: readonly string[]): void {
  const declared = signature.outputs.map((s) => s.name);
  const seen = new Set<string>();
  for (const name of names) {
    if (!declared.includes(name)) {
      throw bad(name, `Unknown output '${name}'; the model returns ${declared.join(', ')}.`, declared, name);
    }
    if (seen.has(name)) {
      throw bad(name, `Output '${name}' is requested more than once.`, 'each output once', 'duplicate');
    }
    seen.add(name);
  }
}

/** Checks one tensor's own shape against the limits: integral, non-negative, rank and size bounded. */
export function checkLimits(t: Pick<Tensor, 'name' | 'shape'>): number {
  const { name, shape } = t;
  if (shape.length > MAX_TENSOR_RANK) {
    throw bad(
      name,
      `Input '${name}' has rank ${shape.length}; at most ${MAX_TENSOR_RANK} is accepted.`,
      `rank <= ${MAX_TENSOR_RANK}`,
      shape.length,
    );
  }
  let count = 1;
  for (const [i, d] of shape.entries()) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw bad(
        name,
        `Input '${name}' has an invalid size ${d} at dimension ${i} of shape ${formatShape(shape)}.`,
        'non-negative integers',
        shape,
      );
    }
    count *= d;
  }
  if (count > MAX_TENSOR_ELEMENTS) {
    throw new QuiverError(
      'TOO_MANY_ITEMS',
      `Input '${name}' has ${count} elements; at most ${MAX_TENSOR_ELEMENTS} are accepted per tensor.`,
      { details: { tensor: name, expected: `<= ${MAX_TENSOR_ELEMENTS} elements`, got: count } },
    );
  }
  return count;
}

function checkTensor(spec: TensorSpec, t: Tensor): void {
  const count = checkLimits(t);
  if (t.datatype !== spec.datatype) {
    throw bad(
      t.name,
      `Input '${t.name}' must be ${spec.datatype}, got ${t.datatype}.`,
      spec.datatype,
      t.datatype,
    );
  }
  if (t.shape.length !== spec.shape.length) {
    throw bad(
      t.name,
      `Input '${t.name}' must have rank ${spec.shape.length} (shape ${formatShape(spec.shape)}), got rank ${t.shape.length} (shape ${formatShape(t.shape)}).`,
      spec.shape,
      t.shape,
    );
  }
  for (const [i, want] of spec.shape.entries()) {
    const got = t.shape[i] ?? 0;
    const fits = want < 0 ? got > 0 : got === want;
    if (!fits) {
      const what = want < 0 ? 'a positive size' : String(want);
      throw bad(
        t.name,
        `Input '${t.name}' must have ${what} at dimension ${i} (shape ${formatShape(spec.shape)}), got shape ${formatShape(t.shape)}.`,
        spec.shape,
        t.shape,
      );
    }
  }
  if (!dataMatches(t.datatype, t.data)) {
    throw bad(
      t.name,
      `Input '${t.name}' carries data that is not ${t.datatype}.`,
      t.datatype,
      describeData(t.data),
    );
  }
  if (t.data.length !== count) {
    throw bad(
      t.name,
      `Input '${t.name}' has ${t.data.length} elements; shape ${formatShape(t.shape)} holds ${count}.`,
      count,
      t.data.length,
    );
  }
}

/** Whether the data container is the one the datatype is carried in (see Tensor). */
export function dataMatches(datatype: Datatype, data: TensorData): boolean {
  switch (datatype) {
    case 'BOOL':
      return Array.isArray(data) && data.every((v) => typeof v === 'boolean');
    case 'BYTES':
      return Array.isArray(data) && data.every((v) => v instanceof Uint8Array);
    case 'UINT8':
      return data instanceof Uint8Array;
    case 'UINT16':
    case 'FP16':
      return data instanceof Uint16Array;
    case 'UINT32':
      return data instanceof Uint32Array;
    case 'UINT64':
      return data instanceof BigUint64Array;
    case 'INT8':
      return data instanceof Int8Array;
    case 'INT16':
      return data instanceof Int16Array;
    case 'INT32':
      return data instanceof Int32Array;
    case 'INT64':
      return data instanceof BigInt64Array;
    case 'FP32':
      return data instanceof Float32Array;
    case 'FP64':
      return data instanceof Float64Array;
  }
}

function describeData(data: TensorData): string {
  return Array.isArray(data) ? 'array' : data.constructor.name;
}
