import type { Command } from 'commander';
import { type Context, positiveInt } from '../context.js';
import type { Io } from '../output.js';
import { Progress } from '../progress.js';
import { addStorageOptions, configFrom } from './serve.js';

interface SeedFlags {
  models: number;
  versionsPerModel: number;
  namespaces?: number;
  batchSize?: number;
  dataDir?: string;
  databaseUrl?: string;
}

export function devCommand(program: Command, io: Io, context: (cmd: Command) => Context): void {
  const dev = program
    .command('dev')
    .description('Tools for development and benchmarks')
    .addHelpText(
      'after',
      '\nExamples:\n  $ quiver dev seed --models 100000 --versions-per-model 10\n  $ quiver dev example-model --out model.onnx',
    );

  addStorageOptions(
    dev
      .command('seed')
      .description('Load a benchmark dataset straight into the database (not over HTTP)')
      .option('--models <n>', 'models to create', positiveInt, 1000)
      .option('--versions-per-model <n>', 'versions of each model', positiveInt, 10)
      .option(
        '--namespaces <n>',
        'spread models over this many namespaces (default 100; keep it when extending a dataset)',
        positiveInt,
      )
      .option('--batch-size <n>', 'models written per transaction (default 500)', positiveInt),
  )
    .addHelpText(
      'after',
      `
Models are named ns-000/model-000000, … and labelled team and tier; versions move along
the lifecycle, with champion on the newest approved version and challenger on the newest.
The data is deterministic, and models that exist are kept: after an interruption, run the
same command again to fill in the rest. The database is the one \`quiver serve\` uses
(same flags and QUIVER_* variables); it may be running meanwhile.

Examples:
  $ quiver dev seed --models 100000 --versions-per-model 10
  $ quiver dev seed --models 1000 --database-url postgres://postgres@127.0.0.1:5432/quiver`,
    )
    .action(async (opts: SeedFlags, cmd: Command) => {
      const ctx = context(cmd);
      const config = await configFrom(io, { dataDir: opts.dataDir, databaseUrl: opts.databaseUrl });
      const { createQuiver, seed, systemClock, uuidIds } = await import('@quiver/server');
      const quiver = await createQuiver(config, { logger: false });
      try {
        const progress = new Progress(io, { unit: 'models', items: 'versions' });
        ctx.printer.note(
          `Seeding ${opts.models.toLocaleString('en-US')} models × ${opts.versionsPerModel} versions…`,
        );
        const result = await seed(quiver.store, systemClock, uuidIds, {
          models: opts.models,
          versionsPerModel: opts.versionsPerModel,
          ...(opts.namespaces === undefined ? {} : { namespaces: opts.namespaces }),
          ...(opts.batchSize === undefined ? {} : { batchSize: opts.batchSize }),
          onProgress: (p) => progress.update({ done: p.models, total: p.totalModels, items: p.versions }),
        });
        progress.finish();
        const seconds = progress.elapsedMs() / 1000;
        ctx.printer.message(
          `Seeded ${result.models.toLocaleString('en-US')} models; ${result.versions.toLocaleString('en-US')} new versions in ${seconds.toFixed(1)} s.`,
          { ...result, seconds: Number(seconds.toFixed(3)) },
        );
      } finally {
        await quiver.close();
      }
    });

  dev
    .command('example-model')
    .description(
      'Write a small, real ONNX model to try the serving path with (an MLP: input FP32 [batch, 4] → output FP32 [batch, 3])',
    )
    .requiredOption('--out <file>', 'where to write the .onnx file')
    .option('--seed <n>', 'seed of the deterministic weights', positiveInt, 1)
    .addHelpText(
      'after',
      `
The model is built in code (MatMul, Add, Relu; opset 13), so nothing is downloaded.

Example:
  $ quiver dev example-model --out model.onnx
  $ quiver versions create fraud/scorer --artifact model.onnx`,
    )
    .action(async (opts: { out: string; seed: number }, cmd: Command) => {
      const ctx = context(cmd);
      const { writeFile } = await import('node:fs/promises');
      const { tinyMlp } = await import('@quiver/server');
      const { bytes } = tinyMlp({ inputs: 4, hidden: 8, outputs: 3, seed: opts.seed });
      await writeFile(opts.out, bytes);
      ctx.printer.message(
        `Wrote ${opts.out} (${bytes.length} bytes): input FP32 [batch, 4] → output FP32 [batch, 3].`,
        {
          file: opts.out,
          size_bytes: bytes.length,
          inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
          outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 3] }],
        },
      );
    });
}
