import * as ort from 'onnxruntime-node';
// The package's own native session (what its InferenceSession wraps; see createSession).
import { type Binding, binding, initOrt } from 'onnxruntime-node/dist/binding.js';
import { QuiverError } from '../../domain/errors.js';
import type { Datatype, Signature, Tensor, TensorData } from '../../domain/tensors.js';
import { elementCount } from '../../domain/tensors.js';
import type { LoadedModel, LoadOptions, ModelRuntime } from '../../ports/model-runtime.js';
import { readSignature } from './signature.js';

export interface OnnxRuntimeOptions {
  /** Bytes of model files that may be held at once; idle models are evicted (least recently used first) past it. */
  memoryBudgetBytes: number;
  /** Threads one inference may use (ORT intra-op); 1 leaves the cores to concurrent requests. */
  intraOpThreads?: number;
  logger?: { warn(obj: object, msg: string): void };
}

export interface OnnxRuntimeStats {
  sessionsCreated: number;
  evictions: number;
  loadedBytes: number;
}

interface Entry {
  readonly key: string;
  readonly session: Binding.InferenceSession;
  /** The inputs a run must feed, and the outputs it may fetch, as the session lists them. */
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly handle: LoadedModel;
  readonly sizeBytes: number;
  inFlight: number;
  lastUsed: number;
  /** Monotonic use counter: orders uses within the same millisecond. */
  useSeq: number;
  retired: boolean;
  /** Called once the last in-flight run of a retired model ends. */
  onIdle?: () => void;
}

const MB = 1024 * 1024;
function sizeText(bytes: number): string {
  if (bytes >= MB) return `${(bytes / MB).toFixed(bytes < 10 * MB ? 1 : 0)} MB`;
  return bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${bytes} B`;
}

/** onnxruntime-node as the ModelRuntime: one InferenceSession per loaded model, CPU only. */
export class OnnxRuntime implements ModelRuntime {
  private readonly models = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<LoadedModel>>();
  /** Sessions of retired models still finishing their in-flight runs. */
  private readonly draining = new Set<Promise<void>>();
  private reservedBytes = 0;
  private seq = 0;
  private closed = false;
  private sessionsCreated = 0;
  private evictions = 0;
  /** Runs waiting for this turn's check phase, and whether it is scheduled. */
  #runQueue: (() => void)[] = [];
  #drainScheduled = false;

  constructor(private readonly options: OnnxRuntimeOptions) {}

  async inspect(bytes: Uint8Array): Promise<Signature> {
    const signature = readSignature(bytes);
    const session = await this.createSession(bytes);
    await this.release(session);
    return signature;
  }

  load(key: string, bytes: Uint8Array, options: LoadOptions): Promise<LoadedModel> {
    const loaded = this.get(key);
    if (loaded !== undefined) return Promise.resolve(loaded);
    let pending = this.loading.get(key);
    if (pending === undefined) {
      pending = this.loadNew(key, bytes, options).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  get(key: string): LoadedModel | undefined {
    const entry = this.models.get(key);
    if (entry === undefined) return undefined;
    this.touch(entry);
    return entry.handle;
  }

  async unload(key: string): Promise<void> {
    await this.loading.get(key)?.catch(() => undefined);
    const entry = this.models.get(key);
    if (entry !== undefined) await this.retire(entry);
  }

  loaded(): { key: string; sizeBytes: number; lastUsed: number }[] {
    return [...this.models.values()]
      .sort((a, b) => b.useSeq - a.useSeq)
      .map((e) => ({ key: e.key, sizeBytes: e.sizeBytes, lastUsed: e.lastUsed }));
  }

  stats(): OnnxRuntimeStats {
    let loadedBytes = 0;
    for (const e of this.models.values()) loadedBytes += e.sizeBytes;
    return { sessionsCreated: this.sessionsCreated, evictions: this.evictions, loadedBytes };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.loading.values()]);
    await Promise.all([...this.models.values()].map((e) => this.retire(e)));
    await Promise.all([...this.draining]);
  }

  private async loadNew(key: string, bytes: Uint8Array, options: LoadOptions): Promise<LoadedModel> {
    if (this.closed) throw notReady(key, 'the runtime is closing');
    const signature = readSignature(bytes);
    const sizeBytes = bytes.byteLength;
    this.makeRoom(key, sizeBytes);
    this.reservedBytes += sizeBytes;
    try {
      const session = await this.createSession(bytes);
      // Warm up before the model is visible, so no request meets a cold session.
      const entry = this.newEntry(key, session, signature, sizeBytes);
      if (options.warmup) await this.warmUp(entry, signature);
      if (this.closed) {
        await this.release(session);
        throw notReady(key, 'the runtime is closing');
      }
      this.touch(entry);
      this.models.set(key, entry);
      return entry.handle;
    } finally {
      this.reservedBytes -= sizeBytes;
    }
  }

  /** Evicts idle models, least recently used first, until `sizeBytes` more fits in the budget. */
  private makeRoom(key: string, sizeBytes: number): void {
    const budget = this.options.memoryBudgetBytes;
    if (sizeBytes > budget) {
      throw new QuiverError(
        'MODEL_TOO_LARGE',
        `The model needs ${sizeText(sizeBytes)}, the memory budget is ${sizeText(budget)}; raise QUIVER_RUNTIME_MEMORY_MB.`,
        { details: { key, size_bytes: sizeBytes, budget_bytes: budget } },
      );
    }
    const used = () => this.stats().loadedBytes + this.reservedBytes;
    const idle = [...this.models.values()]
      .filter((e) => e.inFlight === 0)
      .sort((a, b) => a.useSeq - b.useSeq);
    for (const victim of idle) {
      if (used() + sizeBytes <= budget) break;
      this.evictions++;
      void this.retire(victim);
    }
    if (used() + sizeBytes > budget) {
      // Everything left is serving requests right now: refusing would fail a rollout over a
      // moment's traffic, so load over budget and let the next load evict.
      this.options.logger?.warn(
        { key, size_bytes: sizeBytes, used_bytes: used(), budget_bytes: budget },
        'model runtime over its memory budget: the remaining models have requests in flight',
      );
    }
  }

  private newEntry(key: string, session: Binding.InferenceSession, signature: Signature, sizeBytes: number) {
    const entry: Entry = {
      key,
      session,
      inputNames: session.inputMetadata.map((m) => m.name),
      outputNames: session.outputMetadata.map((m) => m.name),
      sizeBytes,
      inFlight: 0,
      lastUsed: 0,
      useSeq: 0,
      retired: false,
      handle: {
        key,
        signature,
        sizeBytes,
        run: (inputs, outputs) => this.run(entry, inputs, outputs),
      },
    };
    return entry;
  }

  private async run(entry: Entry, inputs: readonly Tensor[], outputs?: readonly string[]): Promise<Tensor[]> {
    if (entry.retired) throw notReady(entry.key, 'it was unloaded');
    entry.inFlight++;
    this.touch(entry);
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of inputs) feeds[t.name] = toOrt(t);
      const names = outputs !== undefined && outputs.length > 0 ? outputs : entry.outputNames;
      for (const name of entry.inputNames) {
        if (feeds[name] === undefined) throw runError(`input '${name}' is missing`);
      }
      const fetches: Record<string, null> = {};
      for (const name of names) {
        if (!entry.outputNames.includes(name)) {
          throw runError(`the model has no output '${name}' (it has ${entry.outputNames.join(', ')})`);
        }
        fetches[name] = null;
      }
      const results = await this.#onThisTurn(() => entry.session.run(feeds, fetches, RUN_OPTIONS));
      return names.map((name) => fromOrt(name, results[name]));
    } catch (err) {
      throw translateRunError(err);
    } finally {
      entry.inFlight--;
      if (entry.inFlight === 0) entry.onIdle?.();
    }
  }

  /**
   * Runs `run` in this turn's check phase, as onnxruntime-node's own `run` does, but with one
   * setImmediate for all the runs a turn asks for instead of one each. A run is in flight from
   * here until it resolves, so loads and evictions can interleave with it (and respect it).
   */
  #onThisTurn<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#runQueue.push(() => {
        try {
          resolve(run());
        } catch (err) {
          reject(err);
        }
      });
      if (!this.#drainScheduled) {
        this.#drainScheduled = true;
        setImmediate(this.#drain);
      }
    });
  }

  readonly #drain = () => {
    this.#drainScheduled = false;
    const runs = this.#runQueue;
    this.#runQueue = [];
    for (const run of runs) run();
  };

  private async warmUp(entry: Entry, signature: Signature): Promise<void> {
    const inputs = signature.inputs.map((spec) => {
      const shape = spec.shape.map((d) => (d < 0 ? 1 : d));
      return {
        name: spec.name,
        datatype: spec.datatype,
        shape,
        data: zeros(spec.datatype, elementCount(shape)),
      };
    });
    try {
      await entry.handle.run(inputs);
    } catch (err) {
      // A model may reject all-zero inputs (an index, a shape tensor); it can still serve real ones.
      this.options.logger?.warn({ key: entry.key, err }, 'model warm-up failed; serving without it');
    }
  }

  /** Removes a model from service and releases its session once its in-flight runs end. */
  private retire(entry: Entry): Promise<void> {
    if (this.models.get(entry.key) === entry) this.models.delete(entry.key);
    if (entry.retired) return Promise.resolve();
    entry.retired = true;
    if (entry.inFlight === 0) return this.release(entry.session);
    const drained = new Promise<void>((resolve) => {
      entry.onIdle = () => resolve(this.release(entry.session));
    }).finally(() => this.draining.delete(drained));
    this.draining.add(drained);
    return drained;
  }

  /**
   * A session of onnxruntime-node's native binding, made as its `InferenceSession.create` makes
   * one, without the wrapper, whose `run` costs a setImmediate and three promises per call and
   * checks what `run` below checks against the same names (1–2 µs of a tiny model's 7 µs run).
   * The binding is the package's own typed module (`dist/binding.d.ts`); package.json holds the
   * package to 1.23.x, and the runtime tests cover what Quiver uses of it.
   */
  private async createSession(bytes: Uint8Array): Promise<Binding.InferenceSession> {
    try {
      initOrt();
      const session = new binding.InferenceSession();
      session.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: this.options.intraOpThreads ?? 1,
        interOpNumThreads: 1,
        // Errors reach us as exceptions; ORT would also print them (and warnings) to stderr, past the logs.
        logSeverityLevel: 4,
      });
      this.sessionsCreated++;
      return session;
    } catch (err) {
      // Drop the C++ source location ORT prefixes some messages with; keep what it says.
      const message = errMessage(err)
        .replace(/^\/onnxruntime_src\/\S+:\d+ [^()]*\([^)]*\) /, '')
        .replace(/\.$/, '');
      throw new QuiverError('INVALID_MODEL', `The artifact is not a readable ONNX model: ${message}.`, {
        cause: err,
      });
    }
  }

  private async release(session: Binding.InferenceSession): Promise<void> {
    try {
      session.dispose();
    } catch (err) {
      this.options.logger?.warn({ err }, 'releasing an ONNX Runtime session failed');
    }
  }

  private touch(entry: Entry): void {
    entry.lastUsed = Date.now();
    entry.useSeq = ++this.seq;
  }
}

const RUN_OPTIONS = {};

function notReady(key: string, why: string): QuiverError {
  return new QuiverError('MODEL_NOT_READY', `Model ${key} is not loaded: ${why}; retry the request.`, {
    details: { key },
  });
}

const ORT_TYPES = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
} as const satisfies Record<Datatype, ort.Tensor.Type>;

const DATATYPES_BY_ORT = new Map<string, Datatype>(
  Object.entries(ORT_TYPES).map(([datatype, type]) => [type, datatype as Datatype]),
);

// Fatal: ONNX Runtime strings are UTF-8, and silently replacing bytes would corrupt the input.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

function toOrt(t: Tensor): ort.Tensor {
  const dims = [...t.shape];
  try {
    if (t.datatype === 'BOOL') {
      return new ort.Tensor(
        'bool',
        Uint8Array.from(t.data as boolean[], (v) => (v ? 1 : 0)),
        dims,
      );
    }
    if (t.datatype === 'BYTES') {
      const strings = (t.data as Uint8Array[]).map((b, i) => {
        try {
          return utf8.decode(b);
        } catch {
          throw new Error(`element ${i} is not UTF-8, and ONNX string tensors hold UTF-8 text`);
        }
      });
      return new ort.Tensor('string', strings, dims);
    }
    return new ort.Tensor(ORT_TYPES[t.datatype], t.data as ort.Tensor.DataType, dims);
  } catch (err) {
    throw new QuiverError(
      'INVALID_TENSOR',
      `Input '${t.name}' cannot be passed to the model: ${errMessage(err)}`,
      {
        cause: err,
        details: { tensor: t.name },
      },
    );
  }
}

function fromOrt(name: string, value: ort.OnnxValue | undefined): Tensor {
  const datatype = value === undefined ? undefined : DATATYPES_BY_ORT.get(value.type);
  if (value === undefined || datatype === undefined) {
    throw new QuiverError('INTERNAL', `The model returned no tensor of a served type for output '${name}'.`);
  }
  const shape = [...value.dims];
  const raw = value.data;
  let data: TensorData;
  if (datatype === 'BOOL') data = Array.from(raw as Uint8Array, (v) => v !== 0);
  else if (datatype === 'BYTES') data = (raw as string[]).map((s) => utf8Encoder.encode(s));
  else if (datatype === 'FP16' && !(raw instanceof Uint16Array)) {
    // Runtimes with Float16Array hand float16 back as such; the domain carries FP16 as raw bits.
    const view = raw as ArrayBufferView;
    data = new Uint16Array(view.buffer, view.byteOffset, view.byteLength / 2);
  } else data = raw as TensorData;
  return { name, datatype, shape, data };
}

function zeros(datatype: Datatype, count: number): TensorData {
  switch (datatype) {
    case 'BOOL':
      return new Array<boolean>(count).fill(false);
    case 'BYTES':
      return Array.from({ length: count }, () => new Uint8Array(0));
    case 'UINT8':
      return new Uint8Array(count);
    case 'UINT16':
    case 'FP16':
      return new Uint16Array(count);
    case 'UINT32':
      return new Uint32Array(count);
    case 'UINT64':
      return new BigUint64Array(count);
    case 'INT8':
      return new Int8Array(count);
    case 'INT16':
      return new Int16Array(count);
    case 'INT32':
      return new Int32Array(count);
    case 'INT64':
      return new BigInt64Array(count);
    case 'FP32':
      return new Float32Array(count);
    case 'FP64':
      return new Float64Array(count);
  }
}

/** ORT's own checks of the feeds; any other failure happened inside the model. */
const INPUT_ERROR =
  /invalid (?:dimensions|rank) for input|unexpected input data type|input '.*' is missing|invalid (?:input|output) name|invalid feed|'fetches'|feeds/i;

function runError(message: string): QuiverError {
  return new QuiverError('INVALID_TENSOR', `The model rejected the inputs: ${message}.`);
}

function translateRunError(err: unknown): QuiverError {
  if (err instanceof QuiverError) return err;
  const message = errMessage(err);
  if (err instanceof TypeError || INPUT_ERROR.test(message)) {
    return new QuiverError('INVALID_TENSOR', `The model rejected the inputs: ${message}`, { cause: err });
  }
  return new QuiverError('INTERNAL', `Inference failed in ONNX Runtime: ${message}`, { cause: err });
}

/** ORT messages span lines; one line reads better in an error envelope and a log. */
function errMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
}
