import { afterEach, describe, expect, it, vi } from 'vitest';
import { elementCount, type Tensor } from '../../src/domain/tensors.js';
import { DynamicBatcher } from '../../src/services/inference/batcher.js';

/** A model in JavaScript: doubles `x` and sums each row of it; records the rows of every run. */
function doubler(options: { fail?: Error } = {}) {
  const runs: number[][] = [];
  const run = async (inputs: Tensor[]): Promise<Tensor[]> => {
    runs.push(inputs.map((t) => t.shape[0] ?? 0));
    if (options.fail) throw options.fail;
    const x = inputs.find((t) => t.name === 'x');
    if (x === undefined) throw new Error('no x');
    const data = x.data as Float32Array;
    const rows = x.shape[0] ?? 1;
    const width = elementCount(x.shape.slice(1));
    const sums = Float32Array.from({ length: rows }, (_, r) =>
      data.subarray(r * width, (r + 1) * width).reduce((a, b) => a + b, 0),
    );
    return [
      { name: 'y', datatype: 'FP32', shape: [...x.shape], data: data.map((v) => v * 2) },
      { name: 'sum', datatype: 'FP32', shape: [rows, 1], data: sums },
    ];
  };
  return { run, runs };
}

const x = (rows: number, start = 0, width = 2): Tensor => ({
  name: 'x',
  datatype: 'FP32',
  shape: [rows, width],
  data: Float32Array.from({ length: rows * width }, (_, i) => start + i),
});

const values = (t: Tensor | undefined) => Array.from(t?.data as Float32Array);

afterEach(() => {
  vi.useRealTimers();
});

describe('DynamicBatcher', () => {
  it('merges 32 concurrent single-row requests into full batches and hands each its rows', async () => {
    const model = doubler();
    const batcher = new DynamicBatcher({ maxBatchSize: 8, maxQueueDelayMicros: 1_000, run: model.run });
    const results = await Promise.all(Array.from({ length: 32 }, (_, i) => batcher.submit([x(1, i * 10)])));
    expect(model.runs).toEqual([[8], [8], [8], [8]]);
    results.forEach(([y, sum], i) => {
      expect(y).toEqual({
        name: 'y',
        datatype: 'FP32',
        shape: [1, 2],
        data: Float32Array.of(i * 20, i * 20 + 2),
      });
      expect(sum?.shape).toEqual([1, 1]);
      expect(values(sum)).toEqual([i * 20 + 1]);
    });
    expect(batcher.stats()).toEqual({ batches: 4, requests: 32, rows: 32, avgBatchSize: 8 });
  });

  it('splits multi-row requests back by their own batch sizes', async () => {
    const model = doubler();
    const batcher = new DynamicBatcher({ maxBatchSize: 16, maxQueueDelayMicros: 500, run: model.run });
    const [a, b, c] = await Promise.all([
      batcher.submit([x(3, 0)]),
      batcher.submit([x(1, 100)]),
      batcher.submit([x(2, 200)]),
    ]);
    expect(model.runs).toEqual([[6]]);
    expect(values(a?.[0])).toEqual([0, 2, 4, 6, 8, 10]);
    expect(values(b?.[0])).toEqual([200, 202]);
    expect(values(c?.[0])).toEqual([400, 402, 404, 406]);
    expect(c?.[1]?.shape).toEqual([2, 1]);
  });

  it('runs a batch once its oldest request has waited maxQueueDelay, not before', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const model = doubler();
    const batcher = new DynamicBatcher({ maxBatchSize: 100, maxQueueDelayMicros: 5_000, run: model.run });
    const first = batcher.submit([x(1, 0)]);
    vi.advanceTimersByTime(3);
    const second = batcher.submit([x(1, 10)]);
    vi.advanceTimersByTime(1);
    expect(model.runs).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(model.runs).toEqual([[2]]);
    expect(values((await first)[0])).toEqual([0, 2]);
    expect(values((await second)[0])).toEqual([20, 22]);
  });

  it('runs a full batch at once, without waiting for the delay', async () => {
    const model = doubler();
    // An hour of delay: only a full batch can finish this test.
    const batcher = new DynamicBatcher({ maxBatchSize: 4, maxQueueDelayMicros: 3_600e6, run: model.run });
    await Promise.all([batcher.submit([x(2)]), batcher.submit([x(2)])]);
    expect(model.runs).toEqual([[4]]);
  });

  it('flushes the waiting batch first when a request would overfill it', async () => {
    const model = doubler();
    const batcher = new DynamicBatcher({ maxBatchSize: 8, maxQueueDelayMicros: 1_000, run: model.run });
    await Promise.all([batcher.submit([x(5)]), batcher.submit([x(5)])]);
    expect(model.runs).toEqual([[5], [5]]);
  });

  it('gathers requests of the same turn when the delay is 0', async () => {
    const model = doubler();
    const batcher = new DynamicBatcher({ maxBatchSize: 64, maxQueueDelayMicros: 0, run: model.run });
    await Promise.all([1, 2, 3].map((i) => batcher.submit([x(1, i)])));
    expect(model.runs).toEqual([[3]]);
  });

  it('batches only requests that agree on every dimension but the first', async () => {
    const model = doubler();
    const batcher = new DynamicBatcher({ maxBatchSize: 8, maxQueueDelayMicros: 1_000, run: model.run });
    const [narrow1, wide, narrow2] = await Promise.all([
      batcher.submit([x(1, 0, 2)]),
      batcher.submit([x(1, 0, 3)]),
      batcher.submit([x(1, 5, 2)]),
    ]);
    expect(model.runs.sort()).toEqual([[1], [2]]);
    expect(values(narrow1?.[0])).toEqual([0, 2]);
    expect(values(wide?.[0])).toEqual([0, 2, 4]);
    expect(values(narrow2?.[0])).toEqual([10, 12]);
  });

  it('runs alone what cannot be batched: rank 0, disagreeing first dimensions, more rows than a batch', async () => {
    const runs: Tensor[][] = [];
    const batcher = new DynamicBatcher({
      maxBatchSize: 4,
      maxQueueDelayMicros: 3_600e6,
      run: async (inputs) => {
        runs.push(inputs);
        return inputs;
      },
    });
    const scalar: Tensor = { name: 'x', datatype: 'FP32', shape: [], data: Float32Array.of(1) };
    const ragged = [x(2), { ...x(3), name: 'z' }];
    await batcher.submit([scalar]);
    await batcher.submit(ragged);
    await batcher.submit([x(5)]);
    expect(runs).toEqual([[scalar], ragged, [x(5)]]);
  });

  it('concatenates and splits BOOL and BYTES inputs', async () => {
    const batcher = new DynamicBatcher({
      maxBatchSize: 2,
      maxQueueDelayMicros: 1_000,
      run: async (inputs) => inputs,
    });
    const flags = (v: boolean): Tensor => ({ name: 'f', datatype: 'BOOL', shape: [1, 2], data: [v, !v] });
    const text = (s: string): Tensor => ({
      name: 't',
      datatype: 'BYTES',
      shape: [1],
      data: [new TextEncoder().encode(s)],
    });
    const [a, b] = await Promise.all([
      batcher.submit([flags(true), text('a')]),
      batcher.submit([text('b'), flags(false)]),
    ]);
    expect(batcher.stats().batches).toBe(1);
    expect(a).toEqual([flags(true), text('a')]);
    expect(b).toEqual([flags(false), text('b')]);
  });

  it('fails every request of a batch when the run fails, and recovers for the next', async () => {
    const failure = new Error('boom');
    const failing = doubler({ fail: failure });
    const batcher = new DynamicBatcher({ maxBatchSize: 3, maxQueueDelayMicros: 1_000, run: failing.run });
    const settled = await Promise.allSettled([1, 2, 3].map((i) => batcher.submit([x(1, i)])));
    expect(failing.runs).toEqual([[3]]);
    expect(settled).toEqual([1, 2, 3].map(() => ({ status: 'rejected', reason: failure })));

    const model = doubler();
    const healthy = new DynamicBatcher({ maxBatchSize: 3, maxQueueDelayMicros: 1_000, run: model.run });
    await expect(healthy.submit([x(1)])).resolves.toHaveLength(2);
  });

  it('falls back to single runs when the model answers without the batch on dimension 0', async () => {
    const runs: number[] = [];
    const batcher = new DynamicBatcher({
      maxBatchSize: 8,
      maxQueueDelayMicros: 1_000,
      run: async (inputs) => {
        runs.push(inputs[0]?.shape[0] ?? 0);
        const total = (inputs[0]!.data as Float32Array).reduce((a, b) => a + b, 0);
        return [{ name: 'total', datatype: 'FP32', shape: [], data: Float32Array.of(total) }];
      },
    });
    const results = await Promise.all([batcher.submit([x(1, 0)]), batcher.submit([x(1, 10)])]);
    expect(results.map((r) => values(r[0]))).toEqual([[1], [21]]);
    await Promise.all([batcher.submit([x(1)]), batcher.submit([x(1)])]);
    expect(runs).toEqual([2, 1, 1, 1, 1]);
  });

  it('refuses a maxBatchSize below 1 or a negative delay', () => {
    const run = async () => [];
    expect(() => new DynamicBatcher({ maxBatchSize: 0, maxQueueDelayMicros: 0, run })).toThrow(RangeError);
    expect(() => new DynamicBatcher({ maxBatchSize: 4, maxQueueDelayMicros: -1, run })).toThrow(RangeError);
  });
});
