import { elementCount, type Tensor, type TensorData } from '../../domain/tensors.js';

export interface DynamicBatcherOptions {
  /** Most rows (dimension 0, summed over requests) one run may take. */
  maxBatchSize: number;
  /** Longest a request waits for others to join its batch; 0 gathers what arrives in the same turn. */
  maxQueueDelayMicros: number;
  /** Runs the model on already-checked inputs. */
  run: (inputs: Tensor[]) => Promise<Tensor[]>;
  /** Told the rows of every run (metrics). */
  onRun?: (rows: number) => void;
}

export interface BatcherStats {
  /** Runs of the model. */
  batches: number;
  requests: number;
  /** Rows (dimension 0) sent to the model. */
  rows: number;
  /** Rows per run, as Triton counts batch size. */
  avgBatchSize: number;
}

interface Pending {
  inputs: Tensor[];
  rows: number;
  resolve: (outputs: Tensor[]) => void;
  reject: (err: unknown) => void;
}

interface Queue {
  key: string;
  items: Pending[];
  rows: number;
  timer?: { cancel(): void };
}

/**
 * Dynamic batching as Triton does it: concurrent requests whose inputs agree on everything
 * but dimension 0 (names, datatypes, trailing dimensions) are concatenated along dimension 0
 * into one run, and each request gets its own rows of every output back. A batch runs when it
 * is full or when its oldest request has waited maxQueueDelay. Requests that cannot be batched
 * (a rank-0 input, inputs disagreeing on dimension 0, more rows than a batch holds) run alone.
 */
export class DynamicBatcher {
  private readonly queues = new Map<string, Queue>();
  private readonly counts = { batches: 0, requests: 0, rows: 0 };
  /** Set once a model answers with outputs that are not batch-major: batching is then pointless. */
  private passThrough = false;

  constructor(private readonly options: DynamicBatcherOptions) {
    if (!Number.isInteger(options.maxBatchSize) || options.maxBatchSize < 1) {
      throw new RangeError(`maxBatchSize must be a positive integer, got ${options.maxBatchSize}`);
    }
    if (!(options.maxQueueDelayMicros >= 0)) {
      throw new RangeError(`maxQueueDelayMicros must be >= 0, got ${options.maxQueueDelayMicros}`);
    }
  }

  submit(inputs: Tensor[]): Promise<Tensor[]> {
    this.counts.requests++;
    const plan = this.passThrough ? null : batchPlan(inputs);
    if (plan === null || plan.rows > this.options.maxBatchSize) return this.execute(inputs);
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(plan.key);
      if (queue !== undefined && queue.rows + plan.rows > this.options.maxBatchSize) {
        this.flush(queue);
        queue = undefined;
      }
      if (queue === undefined) {
        queue = { key: plan.key, items: [], rows: 0 };
        this.queues.set(plan.key, queue);
      }
      queue.items.push({ inputs, rows: plan.rows, resolve, reject });
      queue.rows += plan.rows;
      if (queue.rows >= this.options.maxBatchSize) this.flush(queue);
      else if (queue.timer === undefined) queue.timer = this.schedule(queue);
    });
  }

  stats(): BatcherStats {
    const { batches, requests, rows } = this.counts;
    return { batches, requests, rows, avgBatchSize: batches === 0 ? 0 : rows / batches };
  }

  private schedule(queue: Queue): { cancel(): void } {
    const micros = this.options.maxQueueDelayMicros;
    if (micros === 0) {
      const handle = setImmediate(() => this.flush(queue));
      return { cancel: () => clearImmediate(handle) };
    }
    if (micros >= 1000) {
      const handle = setTimeout(() => this.flush(queue), Math.round(micros / 1000));
      return { cancel: () => clearTimeout(handle) };
    }
    // Timers cannot wait less than 1 ms: below that, re-check once per event-loop turn (letting
    // new requests join between checks) until the delay has passed, so 500 µs means 500 µs.
    const deadline = process.hrtime.bigint() + BigInt(micros) * 1000n;
    let handle: NodeJS.Immediate;
    const check = () => {
      if (process.hrtime.bigint() >= deadline) this.flush(queue);
      else handle = setImmediate(check);
    };
    handle = setImmediate(check);
    return { cancel: () => clearImmediate(handle) };
  }

  private flush(queue: Queue): void {
    queue.timer?.cancel();
    if (this.queues.get(queue.key) === queue) this.queues.delete(queue.key);
    void this.runBatch(queue.items, queue.rows);
  }

  private async runBatch(items: Pending[], rows: number): Promise<void> {
    const [only] = items;
    if (items.length === 1 && only !== undefined) {
      await this.execute(only.inputs).then(only.resolve, only.reject);
      return;
    }
    let outputs: Tensor[];
    try {
      outputs = await this.execute(concatInputs(items), rows);
    } catch (err) {
      for (const item of items) item.reject(err);
      return;
    }
    let parts: Tensor[][] | null;
    try {
      parts = splitOutputs(outputs, items, rows);
    } catch (err) {
      for (const item of items) item.reject(err);
      return;
    }
    if (parts === null) {
      // Outputs without the batch on dimension 0 cannot be handed back row by row.
      this.passThrough = true;
      for (const item of items) void this.execute(item.inputs).then(item.resolve, item.reject);
      return;
    }
    items.forEach((item, i) => {
      item.resolve(parts[i] ?? []);
    });
  }

  private execute(inputs: Tensor[], rows = batchRows(inputs)): Promise<Tensor[]> {
    this.counts.batches++;
    this.counts.rows += rows;
    this.options.onRun?.(rows);
    try {
      return this.options.run(inputs);
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

function batchRows(inputs: readonly Tensor[]): number {
  return inputs[0]?.shape[0] ?? 1;
}

/** The queue a request may join (everything but dimension 0 of its inputs), or null when it must run alone. */
function batchPlan(inputs: readonly Tensor[]): { key: string; rows: number } | null {
  const first = inputs[0];
  if (first === undefined) return null;
  const rows = first.shape[0];
  if (rows === undefined || rows < 1) return null;
  const parts: string[] = [];
  for (const t of inputs) {
    if (t.shape.length === 0 || t.shape[0] !== rows) return null;
    if (t.data.length !== elementCount(t.shape)) return null;
    parts.push(`${t.name}\u0000${t.datatype}\u0000${t.shape.slice(1).join(',')}`);
  }
  parts.sort();
  return { key: parts.join('\u0001'), rows };
}

function concatInputs(items: readonly Pending[]): Tensor[] {
  const first = items[0]?.inputs ?? [];
  const rows = items.reduce((n, item) => n + item.rows, 0);
  return first.map((t) => {
    const parts = items.map((item) => item.inputs.find((u) => u.name === t.name)?.data ?? t.data);
    return { ...t, shape: [rows, ...t.shape.slice(1)], data: concatData(parts) };
  });
}

function concatData(parts: readonly TensorData[]): TensorData {
  const [head] = parts;
  if (head === undefined) return [];
  if (Array.isArray(head)) return (parts as (boolean[] | Uint8Array[])[]).flat() as TensorData;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const Ctor = head.constructor as new (length: number) => Exclude<TensorData, unknown[]>;
  const out = new Ctor(total);
  let offset = 0;
  for (const p of parts) {
    (out as { set(src: ArrayLike<unknown>, offset: number): void }).set(p as ArrayLike<unknown>, offset);
    offset += p.length;
  }
  return out;
}

/** Each request's rows of every output, or null when some output is not batch-major. */
function splitOutputs(
  outputs: readonly Tensor[],
  items: readonly Pending[],
  rows: number,
): Tensor[][] | null {
  if (outputs.some((o) => o.shape[0] !== rows || o.data.length !== elementCount(o.shape))) return null;
  const result: Tensor[][] = items.map(() => []);
  for (const o of outputs) {
    const rowSize = elementCount(o.shape.slice(1));
    let offset = 0;
    items.forEach((item, i) => {
      const data = o.data.slice(offset * rowSize, (offset + item.rows) * rowSize) as TensorData;
      result[i]?.push({ ...o, shape: [item.rows, ...o.shape.slice(1)], data });
      offset += item.rows;
    });
  }
  return result;
}
