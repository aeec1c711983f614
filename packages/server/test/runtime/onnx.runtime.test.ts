import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { OnnxRuntime, type OnnxRuntimeOptions } from '../../src/adapters/onnx/onnx.runtime.js';
import { QuiverError } from '../../src/domain/errors.js';
import { DATATYPES, type Datatype, type Tensor, type TensorData } from '../../src/domain/tensors.js';
import { expectQuiverError } from '../support/builders.js';
import {
  ADD_DATATYPES,
  addModel,
  brokenGraphModel,
  buildModel,
  identityModel,
  node,
  notAModel,
  referenceMlp,
  tinyMlp,
  valueInfo,
} from '../support/onnx-models.js';

const runtimes: OnnxRuntime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((r) => r.close()));
});

function newRuntime(options: Partial<OnnxRuntimeOptions> = {}) {
  const warnings: string[] = [];
  const runtime = new OnnxRuntime({
    memoryBudgetBytes: 64 * 1024 * 1024,
    logger: { warn: (_obj, msg) => warnings.push(msg) },
    ...options,
  });
  runtimes.push(runtime);
  return { runtime, warnings };
}

const mlpInput = (
  rows: number,
  data = Float32Array.from({ length: rows * 4 }, (_, i) => Math.sin(i) * 2),
) => ({
  name: 'input',
  datatype: 'FP32' as const,
  shape: [rows, 4],
  data,
});

/** Two rows of sample values for every datatype, as the domain carries them. */
const SAMPLES: Record<Datatype, () => TensorData> = {
  BOOL: () => [true, false, false, true],
  UINT8: () => Uint8Array.of(0, 1, 200, 255),
  UINT16: () => Uint16Array.of(0, 1, 40_000, 65_535),
  UINT32: () => Uint32Array.of(0, 1, 3_000_000_000, 4_294_967_295),
  UINT64: () => BigUint64Array.of(0n, 1n, 2n ** 63n, 2n ** 64n - 1n),
  INT8: () => Int8Array.of(-128, -1, 0, 127),
  INT16: () => Int16Array.of(-32_768, -1, 0, 32_767),
  INT32: () => Int32Array.of(-2_000_000_000, -1, 0, 2_000_000_000),
  INT64: () => BigInt64Array.of(-(2n ** 62n), -1n, 0n, 2n ** 53n + 1n),
  FP16: () => Uint16Array.of(0x3c00, 0xc000, 0x0000, 0x7bff),
  FP32: () => Float32Array.of(-1.5, 0, 3.25, 1e30),
  FP64: () => Float64Array.of(-1.5, 0, Math.PI, 1e300),
  BYTES: () => [
    new TextEncoder().encode('héllo'),
    new Uint8Array(),
    new TextEncoder().encode('☃'),
    Uint8Array.of(65),
  ],
};

describe('OnnxRuntime.inspect', () => {
  it('returns the signature of a model ONNX Runtime can load', async () => {
    const { runtime } = newRuntime();
    const sig = await runtime.inspect(tinyMlp().bytes);
    expect(sig.inputs).toEqual([{ name: 'input', datatype: 'FP32', shape: [-1, 4] }]);
    expect(runtime.loaded()).toEqual([]);
  });

  it('rejects a graph ONNX Runtime refuses, quoting ONNX Runtime', async () => {
    const { runtime } = newRuntime();
    const err = await expectQuiverError(runtime.inspect(brokenGraphModel()), 'INVALID_MODEL');
    expect(err.message).toMatch(/^The artifact is not a readable ONNX model: .*'missing'/);
    expect(err.message).not.toMatch(/onnxruntime_src|\n/);
  });

  it('rejects random bytes, a truncated model and an empty buffer', async () => {
    const { runtime } = newRuntime();
    const bytes = tinyMlp().bytes;
    for (const bad of [notAModel(), bytes.subarray(0, bytes.length >> 1), new Uint8Array()]) {
      await expectQuiverError(runtime.inspect(bad), 'INVALID_MODEL');
    }
  });

  it('throws nothing but INVALID_MODEL on arbitrary bytes or corrupted models', async () => {
    const { runtime } = newRuntime();
    const bytes = tinyMlp().bytes;
    const corrupted = fc
      .array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 3,
      })
      .map((edits) => {
        const copy = bytes.slice();
        for (const [i, v] of edits) copy[i] = v;
        return copy;
      });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 1024 }), corrupted), async (candidate) => {
        try {
          await runtime.inspect(candidate);
        } catch (err) {
          expect(err).toBeInstanceOf(QuiverError);
          expect((err as QuiverError).reason).toBe('INVALID_MODEL');
        }
      }),
      { numRuns: 1000 },
    );
    expect(runtime.stats().sessionsCreated).toBeGreaterThan(0);
  });
});

describe('OnnxRuntime.run', () => {
  it('runs the tiny MLP on a batch of 5 and matches the JavaScript reference', async () => {
    const { runtime } = newRuntime();
    const { bytes, weights } = tinyMlp({ seed: 42 });
    const model = await runtime.load('mlp', bytes, { warmup: true });
    const input = mlpInput(5);
    const [output, ...rest] = await model.run([input]);
    expect(rest).toEqual([]);
    expect(output?.name).toBe('output');
    expect(output?.datatype).toBe('FP32');
    expect(output?.shape).toEqual([5, 3]);
    const expected = referenceMlp(weights, input.data);
    expect(output?.data).toHaveLength(15);
    for (const [i, value] of Array.from(output?.data as Float32Array).entries()) {
      expect(Math.abs(value - (expected[i] ?? Number.NaN))).toBeLessThanOrEqual(1e-5);
    }
  });

  it.each(ADD_DATATYPES)('adds %s tensors', async (datatype) => {
    const { runtime } = newRuntime();
    const model = await runtime.load(`add-${datatype}`, addModel(datatype), { warmup: true });
    const x = SAMPLES[datatype]();
    const [z] = await model.run([
      { name: 'x', datatype, shape: [2, 2], data: x },
      { name: 'y', datatype, shape: [2, 2], data: x },
    ]);
    // Stored into the same array type, the expected sums wrap (INT32) or round (FP32) as ONNX Runtime's do.
    const doubled = new (x.constructor as new (n: number) => any)(x.length);
    for (const [i, v] of (x as any[]).entries())
      doubled[i] = typeof v === 'bigint' ? BigInt.asIntN(64, v * 2n) : v * 2;
    expect(z).toEqual({ name: 'z', datatype, shape: [2, 2], data: doubled });
  });

  it.each(DATATYPES)('passes %s through an Identity model unchanged', async (datatype) => {
    const { runtime } = newRuntime();
    const model = await runtime.load(`id-${datatype}`, identityModel(datatype), { warmup: true });
    const input: Tensor = { name: 'x', datatype, shape: [2, 2], data: SAMPLES[datatype]() };
    const [y] = await model.run([input]);
    expect(y).toEqual({ ...input, name: 'y' });
  });

  it('refuses BYTES that are not UTF-8, which ONNX Runtime strings must be', async () => {
    const { runtime } = newRuntime();
    const model = await runtime.load('id', identityModel('BYTES'), { warmup: false });
    const data = [Uint8Array.of(0xef, 0xbb, 0xbf, 0x41), Uint8Array.of(0xff, 0xfe)];
    const err = await expectQuiverError(
      model.run([{ name: 'x', datatype: 'BYTES', shape: [1, 2], data }]),
      'INVALID_TENSOR',
    );
    expect(err.message).toMatch(/^Input 'x' cannot be passed to the model: element 1 is not UTF-8/);
    const bom = [Uint8Array.of(0xef, 0xbb, 0xbf, 0x41), Uint8Array.of(0x42)];
    const [y] = await model.run([{ name: 'x', datatype: 'BYTES', shape: [1, 2], data: bom }]);
    expect(y?.data).toEqual(bom);
  });

  it('returns only the outputs asked for, and all of them for none', async () => {
    const { runtime } = newRuntime();
    const model = await runtime.load('mlp', tinyMlp().bytes, { warmup: false });
    expect((await model.run([mlpInput(1)], ['output'])).map((t) => t.name)).toEqual(['output']);
    expect((await model.run([mlpInput(1)], [])).map((t) => t.name)).toEqual(['output']);
    await expectQuiverError(model.run([mlpInput(1)], ['nope']), 'INVALID_TENSOR');
  });

  it('turns the inputs ONNX Runtime refuses into INVALID_TENSOR', async () => {
    const { runtime } = newRuntime();
    const model = await runtime.load('mlp', tinyMlp().bytes, { warmup: false });
    const wrongDims = { ...mlpInput(2), shape: [4, 2] };
    expect((await expectQuiverError(model.run([wrongDims]), 'INVALID_TENSOR')).message).toMatch(/dimensions/);
    const wrongType = { ...mlpInput(1), datatype: 'FP64' as const, data: new Float64Array(4) };
    await expectQuiverError(model.run([wrongType]), 'INVALID_TENSOR');
    await expectQuiverError(model.run([]), 'INVALID_TENSOR');
    const short = { ...mlpInput(2), data: new Float32Array(3) };
    expect((await expectQuiverError(model.run([short]), 'INVALID_TENSOR')).message).toMatch(/'input'/);
  });

  it('keeps serving when warm-up fails, and reports failures inside the model as INTERNAL', async () => {
    // Reshape to the all-zero shape of the warm-up fails; real shapes work.
    const bytes = buildModel({
      nodes: [node('Reshape', ['data', 'shape'], ['out'])],
      inputs: [valueInfo('data', 'FP32', ['batch', 2]), valueInfo('shape', 'INT64', [1])],
      outputs: [valueInfo('out', 'FP32', ['n'])],
    });
    const { runtime, warnings } = newRuntime();
    const model = await runtime.load('reshape', bytes, { warmup: true });
    expect(warnings).toEqual(['model warm-up failed; serving without it']);
    const data = { name: 'data', datatype: 'FP32' as const, shape: [1, 2], data: Float32Array.of(1, 2) };
    const shape = (n: bigint) => ({
      name: 'shape',
      datatype: 'INT64' as const,
      shape: [1],
      data: BigInt64Array.of(n),
    });
    expect((await model.run([data, shape(2n)]))[0]?.shape).toEqual([2]);
    const err = await expectQuiverError(model.run([data, shape(3n)]), 'INTERNAL');
    expect(err.message).toMatch(/^Inference failed in ONNX Runtime: .*Reshape/);
  });
});

describe('OnnxRuntime.load', () => {
  it('creates one session for concurrent loads of one key', async () => {
    const { runtime } = newRuntime();
    const bytes = tinyMlp().bytes;
    const loads = await Promise.all(
      Array.from({ length: 8 }, () => runtime.load('k', bytes, { warmup: true })),
    );
    expect(new Set(loads).size).toBe(1);
    expect(runtime.stats().sessionsCreated).toBe(1);
    await runtime.load('k', bytes, { warmup: true });
    expect(runtime.stats().sessionsCreated).toBe(1);
    expect(runtime.get('k')).toBe(loads[0]);
  });

  it('forgets a failed load, so the next one tries again', async () => {
    const { runtime } = newRuntime();
    await expectQuiverError(runtime.load('k', brokenGraphModel(), { warmup: false }), 'INVALID_MODEL');
    expect(runtime.get('k')).toBeUndefined();
    const model = await runtime.load('k', tinyMlp().bytes, { warmup: false });
    expect(model.signature.inputs[0]?.name).toBe('input');
  });

  it('reports loaded models most recently used first, sized by their file', async () => {
    const { runtime } = newRuntime();
    const a = tinyMlp({ seed: 1 }).bytes;
    const b = tinyMlp({ seed: 2, hidden: 16 }).bytes;
    await runtime.load('a', a, { warmup: false });
    await runtime.load('b', b, { warmup: false });
    runtime.get('a');
    expect(runtime.loaded().map(({ key, sizeBytes }) => ({ key, sizeBytes }))).toEqual([
      { key: 'a', sizeBytes: a.byteLength },
      { key: 'b', sizeBytes: b.byteLength },
    ]);
  });

  it('unloads a model after its in-flight runs finish, and refuses new runs at once', async () => {
    const { runtime } = newRuntime();
    const model = await runtime.load('k', tinyMlp().bytes, { warmup: false });
    const running = model.run([mlpInput(3)]);
    await runtime.unload('k');
    expect((await running)[0]?.shape).toEqual([3, 3]);
    expect(runtime.get('k')).toBeUndefined();
    await expectQuiverError(model.run([mlpInput(1)]), 'MODEL_NOT_READY');
  });

  it('releases every model on close and refuses loads afterwards', async () => {
    const { runtime } = newRuntime();
    await runtime.load('a', tinyMlp({ seed: 1 }).bytes, { warmup: false });
    await runtime.load('b', tinyMlp({ seed: 2 }).bytes, { warmup: false });
    await runtime.close();
    expect(runtime.loaded()).toEqual([]);
    await expectQuiverError(runtime.load('c', tinyMlp().bytes, { warmup: false }), 'MODEL_NOT_READY');
  });
});

describe('OnnxRuntime memory budget', () => {
  // Three models of one size; the budget holds two.
  const models = [1, 2, 3, 4].map((seed) => tinyMlp({ seed }).bytes);
  const size = models[0]?.byteLength ?? 0;
  const [a, b, c, d] = models as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const budget = { memoryBudgetBytes: size * 2 + (size >> 1) };

  it('evicts the least recently used idle model', async () => {
    const { runtime } = newRuntime(budget);
    await runtime.load('a', a, { warmup: false });
    await runtime.load('b', b, { warmup: false });
    runtime.get('a');
    await runtime.load('c', c, { warmup: false });
    expect(runtime.loaded().map((m) => m.key)).toEqual(['c', 'a']);
    expect(runtime.stats().evictions).toBe(1);
  });

  it('never evicts a model with a run in flight', async () => {
    const { runtime } = newRuntime(budget);
    const modelA = await runtime.load('a', a, { warmup: false });
    await runtime.load('b', b, { warmup: false });
    const running = modelA.run([mlpInput(2)]);
    runtime.get('b'); // a is now the least recently used, but busy
    await runtime.load('c', c, { warmup: false });
    expect(runtime.loaded().map((m) => m.key)).toEqual(['c', 'a']);
    expect((await running)[0]?.shape).toEqual([2, 3]);
  });

  it('goes over budget with a warning when every model is busy, and evicts on the next load', async () => {
    const { runtime, warnings } = newRuntime(budget);
    const modelA = await runtime.load('a', a, { warmup: false });
    const modelB = await runtime.load('b', b, { warmup: false });
    const running = [modelA.run([mlpInput(1)]), modelB.run([mlpInput(1)])];
    await runtime.load('c', c, { warmup: false });
    expect(runtime.loaded()).toHaveLength(3);
    expect(warnings).toHaveLength(1);
    await Promise.all(running);
    await runtime.load('d', d, { warmup: false });
    expect(runtime.loaded().map((m) => m.key)).toEqual(['d', 'c']);
  });

  it('refuses a model larger than the whole budget, saying how to raise it', async () => {
    const { runtime } = newRuntime({ memoryBudgetBytes: size - 1 });
    const err = await expectQuiverError(runtime.load('a', a, { warmup: false }), 'MODEL_TOO_LARGE');
    expect(err.message).toBe(
      `The model needs ${size} B, the memory budget is ${size - 1} B; raise QUIVER_RUNTIME_MEMORY_MB.`,
    );
    expect(runtime.stats().sessionsCreated).toBe(0);
  });

  it('fails runs on an evicted model with MODEL_NOT_READY', async () => {
    const { runtime } = newRuntime(budget);
    const modelA = await runtime.load('a', a, { warmup: false });
    await runtime.load('b', b, { warmup: false });
    await runtime.load('c', c, { warmup: false });
    await expectQuiverError(modelA.run([mlpInput(1)]), 'MODEL_NOT_READY');
  });
});
