import type { Signature, Tensor, TensorSpec } from '../../domain/tensors.js';
import type { CallContext } from '../context.js';

/** One inference request, transport-neutral (the OIP fields, with tensors decoded). */
export interface InferRequest {
  /** The deployment name. */
  model_name: string;
  /** Empty: the deployment's traffic split picks. A version number, or `@alias`. */
  model_version: string;
  id: string;
  inputs: Tensor[];
  /** Output names to return; empty means all. */
  outputs: string[];
  parameters: Record<string, string | number | boolean>;
}

export interface InferResult {
  model_name: string;
  /** The version that answered. */
  model_version: string;
  id: string;
  outputs: Tensor[];
}

export interface ModelMetadata {
  name: string;
  /** The versions this deployment serves. */
  versions: string[];
  platform: 'onnxruntime_onnx';
  signature: Signature;
}

/** What the gRPC OIP service and the `/v2` REST routes call. */
export interface Inference {
  live(): boolean;
  /** Ready to serve: the runtime is up and the deployment table has been read. */
  ready(): Promise<boolean>;
  modelReady(ctx: CallContext, name: string, version: string): Promise<boolean>;
  /** NOT_FOUND for an unknown deployment, MODEL_NOT_READY when it cannot serve yet. */
  modelMetadata(ctx: CallContext, name: string, version: string): Promise<ModelMetadata>;
  /** INVALID_TENSOR for inputs that do not match the signature; MODEL_NOT_READY; NOT_FOUND. */
  infer(ctx: CallContext, request: InferRequest): Promise<InferResult>;
  serverMetadata(): { name: string; version: string; extensions: string[] };
}

/** Most bytes one inference request may carry (gRPC max receive size and REST body limit). */
export const MAX_INFER_BYTES = 64 * 1024 * 1024;

/** ModelMetadata as the Open Inference Protocol shows it, the same on gRPC and REST. */
export function oipModelMetadata(m: ModelMetadata) {
  const spec = ({ name, datatype, shape }: TensorSpec) => ({ name, datatype, shape });
  return {
    name: m.name,
    versions: m.versions,
    platform: m.platform,
    inputs: m.signature.inputs.map(spec),
    outputs: m.signature.outputs.map(spec),
  };
}
