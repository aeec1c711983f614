import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsArtifactStore } from '../../src/adapters/fs/fs-artifact-store.js';
import { OnnxRuntime } from '../../src/adapters/onnx/onnx.runtime.js';
import { systemClock } from '../../src/ports/clock.js';
import { InferenceService } from '../../src/services/inference/inference.service.js';
import { newModel, newNamespace } from '../support/builders.js';
import { backends, testStore } from '../support/databases.js';

const BACKENDS = await backends();

/**
 * The deployment table inference routes by is read in pages with the event loop free between
 * them. Every deployment must still arrive: the whole table (once read with a cap of 100,000)
 * and every change since the last read, however many share a millisecond.
 */
describe.each(BACKENDS)('inference deployment table (%s)', (backend) => {
  let ctx: Awaited<ReturnType<typeof testStore>>;
  let inference: InferenceService;
  let modelPk: number;
  let modelPath: string;
  let seq = 0;

  beforeAll(async () => {
    ctx = await testStore(backend);
    const ns = newNamespace();
    const model = newModel(0);
    modelPath = `namespaces/${ns.namespace_id}/models/${model.model_id}`;
    modelPk = await ctx.store.write(async (r) => {
      await r.namespaces.create(ns);
      await r.models.create({ ...model, namespace_pk: (await r.namespaces.pkOf(ns.namespace_id))! });
      return (await r.models.key(ns.namespace_id, model.model_id))!.pk;
    });
    inference = new InferenceService({
      store: ctx.store,
      runtime: new OnnxRuntime({ memoryBudgetBytes: 64 << 20, intraOpThreads: 1 }),
      artifacts: new FsArtifactStore(join(ctx.db.config.dataDir, 'artifacts')),
      clock: systemClock,
      version: 'test',
      refreshMs: 60_000,
    });
  });
  afterAll(async () => {
    inference?.stop();
    await ctx?.close();
  });

  const deploy = (count: number, time: number) =>
    ctx.store.write(async (r) => {
      for (let i = 0; i < count; i++) {
        seq++;
        await r.deployments.create({
          uid: `00000000-0000-7000-9000-${String(seq).padStart(12, '0')}`,
          deployment_id: `d${seq}`,
          model_pk: modelPk,
          model: modelPath,
          traffic: [{ version: '1', percent: 100 }],
          replicas: 1,
          batching: null,
          time,
        });
      }
    });

  it('reads a table of several pages whole, then every change in pages, ties in one millisecond included', async () => {
    await deploy(1_234, Date.now() - 60_000);
    await inference.start();
    expect(inference.deploymentCounts().pending).toBe(1_234);
    // 1,100 changes stamped with one and the same millisecond: more than two pages of ties.
    await deploy(1_100, Date.now());
    await inference.refresh();
    expect(inference.deploymentCounts().pending).toBe(2_334);
  });
});
