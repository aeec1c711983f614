import { CLIENT_REASONS, QuiverError } from './errors.js';
import type {
  Datatype,
  InferOutput,
  InferRequest,
  InferResponse,
  TensorDataTypes,
  TensorInputData,
} from './types.js';

/**
 * Tensors between the SDK and the JSON binding of the Open Inference Protocol: typed arrays
 * out to plain JSON arrays, JSON arrays back into the typed array of each datatype. 64-bit
 * integers travel as numbers when safe and decimal strings otherwise, and come back as
 * BigInt64Array / BigUint64Array, so no digit is lost.
 */

/** The JSON body of `POST /v2/models/{name}/infer`. */
export function inferRequestJson(request: InferRequest): Record<string, unknown> {
  return {
    ...(request.id === undefined ? {} : { id: request.id }),
    ...(request.parameters === undefined ? {} : { parameters: request.parameters }),
    inputs: request.inputs.map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: [...t.shape],
      data: jsonData(t.data),
      ...(t.parameters === undefined ? {} : { parameters: t.parameters }),
    })),
    ...(request.outputs === undefined ? {} : { outputs: request.outputs.map((name) => ({ name })) }),
  };
}

function jsonData(data: TensorInputData): unknown[] {
  const items = data as ArrayLike<unknown>;
  const out = new Array<unknown>(items.length);
  for (let i = 0; i < items.length; i++) {
    const v = items[i];
    out[i] = typeof v === 'bigint' ? bigToJson(v) : v;
  }
  return out;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const bigToJson = (v: bigint): number | string => (v <= SAFE && v >= -SAFE ? Number(v) : String(v));

type Decoder<D extends Datatype> = (values: readonly unknown[]) => TensorDataTypes[D];

const numbers =
  <T>(make: (values: number[]) => T) =>
  (values: readonly unknown[]) =>
    make(values as number[]);
const bigs =
  <T>(make: (values: bigint[]) => T) =>
  (values: readonly unknown[]) =>
    make(values.map((v) => BigInt(v as number | string)));

const DECODERS: { [D in Datatype]: Decoder<D> } = {
  BOOL: (values) => values.map(Boolean),
  UINT8: numbers((v) => Uint8Array.from(v)),
  UINT16: numbers((v) => Uint16Array.from(v)),
  UINT32: numbers((v) => Uint32Array.from(v)),
  UINT64: bigs((v) => BigUint64Array.from(v)),
  INT8: numbers((v) => Int8Array.from(v)),
  INT16: numbers((v) => Int16Array.from(v)),
  INT32: numbers((v) => Int32Array.from(v)),
  INT64: bigs((v) => BigInt64Array.from(v)),
  FP16: numbers((v) => Float32Array.from(v)),
  FP32: numbers((v) => Float32Array.from(v)),
  FP64: numbers((v) => Float64Array.from(v)),
  BYTES: (values) => values.map(String),
};

interface JsonOutput {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown;
}

/** The answer of `/v2/models/{name}/infer`, outputs as typed arrays (numbers) or arrays (BOOL, BYTES). */
export function inferResponseFromJson(json: unknown): InferResponse {
  const body = json as { model_name?: unknown; model_version?: unknown; id?: unknown; outputs?: unknown };
  if (!Array.isArray(body?.outputs)) throw malformed('the answer has no outputs array');
  return {
    model_name: String(body.model_name ?? ''),
    model_version: String(body.model_version ?? ''),
    id: String(body.id ?? ''),
    outputs: (body.outputs as JsonOutput[]).map((o): InferOutput => {
      const decode = DECODERS[o.datatype as Datatype] as Decoder<Datatype> | undefined;
      if (!decode) throw malformed(`output '${o.name}' has the unknown datatype ${o.datatype}`);
      if (!Array.isArray(o.data)) throw malformed(`output '${o.name}' has no data array`);
      return {
        name: o.name,
        datatype: o.datatype,
        shape: o.shape,
        data: decode(o.data.flat(Number.POSITIVE_INFINITY)),
      } as InferOutput;
    }),
  };
}

function malformed(what: string): QuiverError {
  return new QuiverError('INTERNAL', `ModelInfer: ${what}.`, {
    details: { reason: CLIENT_REASONS.MALFORMED_RESPONSE },
  });
}
