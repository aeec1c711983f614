import type { Signature, Tensor } from '../domain/tensors.js';

/** A model held in memory by the runtime, ready to run. */
export interface LoadedModel {
  /** What it was loaded under (the artifact digest). */
  readonly key: string;
  readonly signature: Signature;
  /** Bytes of the model file (what counts against the memory budget). */
  readonly sizeBytes: number;
  /**
   * Runs the model. Inputs must already be checked against the signature (names, datatypes,
   * shapes); `outputs` limits what is returned (all outputs when omitted).
   */
  run(inputs: readonly Tensor[], outputs?: readonly string[]): Promise<Tensor[]>;
}

export interface LoadOptions {
  /** Run one inference with zero-filled inputs before returning, so the first request is not slow. */
  warmup: boolean;
}

/** Where models run: onnxruntime-node in process today; the port leaves room for others. */
export interface ModelRuntime {
  /**
   * Reads a model file and returns its signature without keeping it loaded. Throws
   * QuiverError INVALID_ARGUMENT (reason INVALID_MODEL) with the parser's message when the
   * bytes are not a model this runtime can load.
   */
  inspect(bytes: Uint8Array): Promise<Signature>;
  /** Loads (or returns the already loaded) model under `key`; evicts idle models past the memory budget. */
  load(key: string, bytes: Uint8Array, options: LoadOptions): Promise<LoadedModel>;
  /** The loaded model, marking it used (for eviction), or undefined. */
  get(key: string): LoadedModel | undefined;
  unload(key: string): Promise<void>;
  /** Keys currently loaded, most recently used first, with their sizes. */
  loaded(): { key: string; sizeBytes: number; lastUsed: number }[];
  close(): Promise<void>;
}
