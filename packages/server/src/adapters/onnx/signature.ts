import { QuiverError } from '../../domain/errors.js';
import type { Signature, TensorSpec } from '../../domain/tensors.js';
import {
  decodeModel,
  int64ToNumber,
  type ModelProto,
  ONNX_ELEM_TYPE_NAMES,
  ONNX_TO_DATATYPE,
  type ValueInfoProto,
} from './onnx-proto.js';

/** Domains that name the default ONNX operator set. */
const DEFAULT_DOMAINS = new Set(['', 'ai.onnx']);

function invalid(why: string, cause?: unknown): QuiverError {
  return new QuiverError('INVALID_MODEL', `The artifact is not a readable ONNX model: ${why}.`, {
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Reads the input/output signature of an ONNX model from its bytes, without running it.
 * Graph inputs that are also initializers (weights listed as inputs, as IR < 4 exporters do)
 * are not inputs a caller must feed, so they are left out. Variable dimensions read as -1.
 * Throws QuiverError INVALID_MODEL for anything that is not such a model; never anything else.
 */
export function readSignature(bytes: Uint8Array): Signature {
  if (bytes.byteLength === 0) throw invalid('the file is empty');
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (err) {
    // protobufjs throws Error/RangeError (and, on deeply nested garbage, stack overflows).
    const message = err instanceof Error ? err.message : String(err);
    throw invalid(`it does not decode as an ONNX protobuf (${message})`, err);
  }
  const irVersion = int64ToNumber(model.ir_version);
  if (!(irVersion > 0)) throw invalid('it has no ir_version');
  const graph = model.graph;
  if (graph === undefined || graph === null) throw invalid('it has no graph');

  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const inputs = (graph.input ?? [])
    .filter((v) => !initializers.has(v.name ?? ''))
    .map((v) => tensorSpec(v, 'input'));
  const outputs = (graph.output ?? []).map((v) => tensorSpec(v, 'output'));
  if (inputs.length === 0) throw invalid('the graph declares no inputs');
  if (outputs.length === 0) throw invalid('the graph declares no outputs');
  assertUnique(inputs, 'input');
  assertUnique(outputs, 'output');

  return {
    format: 'onnx',
    inputs,
    outputs,
    opset: defaultOpset(model),
    ir_version: irVersion,
    producer: [model.producer_name ?? '', model.producer_version ?? ''].join(' ').trim(),
  };
}

function tensorSpec(value: ValueInfoProto, kind: 'input' | 'output'): TensorSpec {
  const name = value.name ?? '';
  if (name === '') throw invalid(`an ${kind} has no name`);
  const tensorType = value.type?.tensor_type;
  if (tensorType === undefined || tensorType === null) {
    throw invalid(`${kind} '${name}' is not a tensor (sequences, maps and optionals are not served)`);
  }
  const elemType = tensorType.elem_type ?? 0;
  const datatype = ONNX_TO_DATATYPE[elemType];
  if (datatype === undefined) {
    const typeName = ONNX_ELEM_TYPE_NAMES[elemType] ?? 'unknown';
    throw invalid(`${kind} '${name}' has element type ${elemType} (${typeName}), which is not served`);
  }
  const dims = tensorType.shape?.dim;
  if (tensorType.shape === undefined || tensorType.shape === null || dims === undefined) {
    throw invalid(`${kind} '${name}' declares no shape; its rank must be known`);
  }
  const shape = dims.map((d, i) => {
    // Only a dim_value actually present on the wire is a fixed size; dim_param or nothing is variable.
    if (!Object.hasOwn(d, 'dim_value')) return -1;
    const n = int64ToNumber(d.dim_value);
    if (!Number.isSafeInteger(n) || n < 0) {
      throw invalid(`${kind} '${name}' has an invalid size at dimension ${i}`);
    }
    return n;
  });
  return { name, datatype, shape };
}

function assertUnique(specs: TensorSpec[], kind: string): void {
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.name)) throw invalid(`${kind} '${s.name}' is declared twice`);
    seen.add(s.name);
  }
}

function defaultOpset(model: ModelProto): number | null {
  for (const o of model.opset_import ?? []) {
    if (DEFAULT_DOMAINS.has(o.domain ?? '')) {
      const v = int64ToNumber(o.version);
      return Number.isSafeInteger(v) ? v : null;
    }
  }
  return null;
}
