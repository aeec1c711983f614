import type { CallOptions, Invoker } from '../invoker.js';
import type { InferRequest, InferResponse } from '../types.js';

/**
 * Inference over the Open Inference Protocol (KServe v2): the REST binding today, gRPC
 * through the same method when that transport lands.
 */
export class InferenceClient {
  /** @internal */
  constructor(private readonly invoker: Invoker) {}

  /**
   * Runs a deployment on input tensors. Inputs take typed arrays or plain arrays (flat,
   * row-major); numeric outputs come back as typed arrays (`FP32` → Float32Array, `INT64` →
   * BigInt64Array), BOOL as booleans and BYTES as strings. Bad tensors fail with
   * `INVALID_ARGUMENT` (reason `INVALID_TENSOR`), a deployment not ready yet with
   * `UNAVAILABLE` (retried like any).
   *
   * @example
   * ```ts
   * const answer = await client.inference.infer({
   *   deployment: 'fraud-prod',
   *   inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]) }],
   * });
   * const [scores] = answer.outputs;
   * if (scores?.datatype === 'FP32') console.log(answer.model_version, scores.shape, scores.data); // Float32Array
   * ```
   */
  infer(request: InferRequest, options?: CallOptions): Promise<InferResponse> {
    return this.invoker.call('ModelInfer', request, options);
  }
}
