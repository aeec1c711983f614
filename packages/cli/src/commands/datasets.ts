import {
  type Dataset,
  type DatasetVersion,
  type ListRequest,
  paginate,
  QuiverError,
  type Run,
} from '@quiver/sdk';
import type { Command } from 'commander';
import {
  addListOptions,
  type Context,
  type ListFlags,
  labelOption,
  printList,
  readJsonObject,
} from '../context.js';
import { type Column, clip, labels, orDash, time } from '../output.js';
import { parseNamespace } from '../refs.js';

/**
 * Short names of lineage resources on the command line:
 *   fraud/transactions      namespaces/fraud/datasets/transactions   (a dataset)
 *   fraud/transactions@3    namespaces/fraud/datasets/transactions/versions/3
 *   fraud/train-0412        namespaces/fraud/runs/train-0412         (a run)
 */
export function parseChild(text: string, field: string, kind: 'datasets' | 'runs') {
  const full = new RegExp(`^namespaces/([^/]+)/${kind}/([^/@]+)$`).exec(text);
  const [namespace, id] = full ? [full[1]!, full[2]!] : text.split('/');
  if (!namespace || !id || text.split('/').length !== (full ? 4 : 2) || text.includes('@')) {
    const example = kind === 'datasets' ? 'fraud/transactions' : 'fraud/train-0412';
    throw invalid(field, `${field}: expected <namespace>/<id>, e.g. ${example}; got '${text}'.`);
  }
  return { namespace, id };
}

/** `fraud/transactions@3` or the full resource name → the dataset version's resource name. */
export function datasetVersionName(text: string, field = 'dataset version'): string {
  if (/^namespaces\/[^/]+\/datasets\/[^/]+\/versions\/[^/]+$/.test(text)) return text;
  const at = text.lastIndexOf('@');
  const version = text.slice(at + 1);
  if (at <= 0 || !/^[1-9][0-9]*$/.test(version)) {
    throw invalid(
      field,
      `${field}: expected <namespace>/<dataset>@<number>, e.g. fraud/transactions@3; got '${text}'.`,
    );
  }
  const { namespace, id } = parseChild(text.slice(0, at), field, 'datasets');
  return `namespaces/${namespace}/datasets/${id}/versions/${version}`;
}

/** `fraud/train-0412` or the full resource name → the run's resource name. */
export function runName(text: string, field = 'run'): string {
  const { namespace, id } = parseChild(text, field, 'runs');
  return `namespaces/${namespace}/runs/${id}`;
}

function invalid(field: string, message: string): QuiverError {
  return new QuiverError('INVALID_ARGUMENT', message, { details: { reason: 'INVALID_NAME', field } });
}

const DATASET: Column<Dataset>[] = [
  ['name', (d) => d.name],
  ['latest_version', (d) => String(d.latest_version)],
  ['description', (d) => d.description || '-'],
  ['labels', (d) => labels(d.labels)],
  ['create_time', (d) => d.create_time],
  ['uid', (d) => d.uid],
];
const DATASETS: Column<Dataset>[] = [
  ['DATASET', (d) => d.dataset_id],
  ['LATEST', (d) => String(d.latest_version)],
  ['LABELS', (d) => labels(d.labels)],
  ['CREATED', (d) => time(d.create_time)],
  ['DESCRIPTION', (d) => clip(d.description)],
];
const VERSION: Column<DatasetVersion>[] = [
  ['name', (v) => v.name],
  ['uri', (v) => v.uri],
  ['digest', (v) => v.digest],
  ['size_bytes', (v) => orDash(v.size_bytes)],
  ['format', (v) => orDash(v.format)],
  ['metadata', (v) => JSON.stringify(v.metadata)],
  ['created_by', (v) => v.created_by],
  ['create_time', (v) => v.create_time],
];
const VERSIONS: Column<DatasetVersion>[] = [
  ['VERSION', (v) => String(v.version)],
  ['URI', (v) => v.uri],
  ['DIGEST', (v) => `${v.digest.slice(0, 19)}…`],
  ['CREATED', (v) => time(v.create_time)],
];
export const RUN: Column<Run>[] = [
  ['name', (r) => r.name],
  ['kind', (r) => r.kind],
  ['status', (r) => r.status],
  ['code_commit', (r) => r.code_commit || '-'],
  ['parameters', (r) => JSON.stringify(r.parameters)],
  ['metrics', (r) => JSON.stringify(r.metrics)],
  ['environment', (r) => JSON.stringify(r.environment)],
  ['start_time', (r) => orDash(r.start_time)],
  ['end_time', (r) => orDash(r.end_time)],
  ['created_by', (r) => r.created_by],
  ['uid', (r) => r.uid],
];
const RUNS: Column<Run>[] = [
  ['RUN', (r) => r.run_id],
  ['KIND', (r) => r.kind],
  ['STATUS', (r) => r.status],
  ['COMMIT', (r) => r.code_commit || '-'],
  ['CREATED', (r) => time(r.create_time)],
];

export function datasetsCommand(program: Command, context: (cmd: Command) => Context): void {
  const datasets = program
    .command('datasets')
    .description('Datasets: the data models are trained and evaluated on, versioned by URI + digest')
    .addHelpText(
      'after',
      `
Examples:
  $ quiver datasets create fraud/transactions --description "Card transactions"
  $ quiver datasets add-version fraud/transactions --uri s3://lake/tx/2024-04/ --digest sha256:9f86…
  $ quiver datasets versions fraud/transactions`,
    );

  datasets
    .command('create')
    .description('Register a dataset')
    .addHelpText(
      'after',
      '\nExample:\n  $ quiver datasets create fraud/transactions --description "Card transactions"',
    )
    .argument('<namespace/dataset>', 'e.g. fraud/transactions')
    .option('--description <text>', 'what the data is')
    .option('--label <key=value>', 'a label (repeatable)', labelOption)
    .action(
      async (text: string, opts: { description?: string; label?: Record<string, string> }, cmd: Command) => {
        const ctx = context(cmd);
        const { namespace, id } = parseChild(text, 'dataset', 'datasets');
        const ds = await ctx.client.datasets.create(namespace, {
          dataset_id: id,
          description: opts.description,
          labels: opts.label,
        });
        ctx.printer.resource(ds, DATASET);
      },
    );

  datasets
    .command('get')
    .description('Show a dataset')
    .addHelpText('after', '\nExample:\n  $ quiver datasets get fraud/transactions')
    .argument('<namespace/dataset>', 'e.g. fraud/transactions')
    .action(async (text: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { namespace, id } = parseChild(text, 'dataset', 'datasets');
      ctx.printer.resource(await ctx.client.datasets.get(namespace, id), DATASET);
    });

  addListOptions(
    datasets
      .command('list')
      .alias('ls')
      .description('List the datasets of a namespace')
      .addHelpText('after', "\nExample:\n  $ quiver datasets list fraud --order-by 'create_time desc'"),
    'dataset_id = "tx*"',
  )
    .argument('<namespace>', 'e.g. fraud')
    .action(async (ns: string, opts: ListFlags, cmd: Command) => {
      const ctx = context(cmd);
      const namespace = parseNamespace(ns);
      const api = ctx.client.datasets;
      const iterate = (r: ListRequest) =>
        paginate((page_token) => api.list(namespace, { ...r, page_token }), r.page_token);
      await printList(ctx, opts, (r) => api.list(namespace, r), iterate, DATASETS, 'datasets');
    });

  datasets
    .command('add-version')
    .description('Record the next version of a dataset: what the data is (URI) and was (digest)')
    .addHelpText(
      'after',
      '\nExample:\n  $ quiver datasets add-version fraud/transactions --uri s3://lake/tx/2024-04/ --digest sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 --format parquet',
    )
    .argument('<namespace/dataset>', 'e.g. fraud/transactions')
    .requiredOption('--uri <uri>', 'where the data is, e.g. s3://lake/tx/2024-04/')
    .requiredOption('--digest <algorithm:hex>', 'what it was, e.g. sha256:… of the data or its manifest')
    .option('--size <bytes>', 'size in bytes', (v) => Number(v))
    .option('--format <format>', 'e.g. parquet, csv')
    .option('--metadata <json|@file>', 'a JSON object (row counts, schema…)')
    .action(
      async (
        text: string,
        opts: { uri: string; digest: string; size?: number; format?: string; metadata?: string },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        const { namespace, id } = parseChild(text, 'dataset', 'datasets');
        const v = await ctx.client.datasets.createVersion(namespace, id, {
          uri: opts.uri,
          digest: opts.digest,
          size_bytes: opts.size,
          format: opts.format,
          metadata:
            opts.metadata === undefined ? undefined : await readJsonObject(opts.metadata, '--metadata'),
        });
        ctx.printer.resource(v, VERSION);
      },
    );

  datasets
    .command('versions')
    .description('List the versions of a dataset, newest first')
    .addHelpText('after', '\nExample:\n  $ quiver datasets versions fraud/transactions')
    .argument('<namespace/dataset>', 'e.g. fraud/transactions')
    .action(async (text: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { namespace, id } = parseChild(text, 'dataset', 'datasets');
      const items: DatasetVersion[] = [];
      for await (const v of ctx.client.datasets.iterateVersions(namespace, id)) items.push(v);
      ctx.printer.page({ items, next_page_token: '' }, VERSIONS, 'dataset versions');
    });

  const runs = program
    .command('runs')
    .description('Runs: training and evaluation runs (code commit, parameters, metrics, environment)')
    .addHelpText(
      'after',
      `
Examples:
  $ quiver runs create fraud/train-0412 --kind training --commit 3f2a9c1 --params '{"lr":0.01}'
  $ quiver runs update fraud/train-0412 --status succeeded --metrics '{"auc":0.93}'
  $ quiver runs list fraud --filter 'status = failed'`,
    );

  runs
    .command('create')
    .description('Record a run (status succeeded unless --status says otherwise)')
    .addHelpText(
      'after',
      '\nExample:\n  $ quiver runs create fraud/train-0412 --kind training --commit 3f2a9c1 --params \'{"lr":0.01}\'',
    )
    .argument('<namespace/run>', 'e.g. fraud/train-0412')
    .requiredOption('--kind <kind>', 'training or evaluation')
    .option('--status <status>', 'running, succeeded or failed')
    .option('--commit <sha>', 'the code commit the run used')
    .option('--params <json|@file>', 'hyper-parameters (a JSON object)')
    .option('--metrics <json|@file>', 'results (a JSON object)')
    .option('--env <json|@file>', 'environment: libraries, hardware, image (a JSON object)')
    .option('--start <time>', 'RFC 3339 start time')
    .option('--end <time>', 'RFC 3339 end time')
    .action(async (text: string, opts: Record<string, string | undefined>, cmd: Command) => {
      const ctx = context(cmd);
      const { namespace, id } = parseChild(text, 'run', 'runs');
      const json = (v: string | undefined, f: string) => (v === undefined ? undefined : readJsonObject(v, f));
      const run = await ctx.client.runs.create(namespace, {
        run_id: id,
        kind: opts.kind as Run['kind'],
        status: opts.status as Run['status'] | undefined,
        code_commit: opts.commit,
        parameters: await json(opts.params, '--params'),
        metrics: await json(opts.metrics, '--metrics'),
        environment: await json(opts.env, '--env'),
        start_time: opts.start,
        end_time: opts.end,
      });
      ctx.printer.resource(run, RUN);
    });

  runs
    .command('get')
    .description('Show a run')
    .addHelpText('after', '\nExample:\n  $ quiver runs get fraud/train-0412')
    .argument('<namespace/run>', 'e.g. fraud/train-0412')
    .action(async (text: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { namespace, id } = parseChild(text, 'run', 'runs');
      ctx.printer.resource(await ctx.client.runs.get(namespace, id), RUN);
    });

  runs
    .command('update')
    .description('Finish or correct a run: status, metrics, end time')
    .addHelpText(
      'after',
      '\nExample:\n  $ quiver runs update fraud/train-0412 --status succeeded --metrics \'{"auc":0.93}\'',
    )
    .argument('<namespace/run>', 'e.g. fraud/train-0412')
    .option('--status <status>', 'running, succeeded or failed')
    .option('--metrics <json|@file>', 'results (a JSON object; replaces the stored ones)')
    .option('--end <time>', 'RFC 3339 end time')
    .action(async (text: string, opts: { status?: string; metrics?: string; end?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const { namespace, id } = parseChild(text, 'run', 'runs');
      const run = await ctx.client.runs.update(namespace, id, {
        status: opts.status as Run['status'] | undefined,
        metrics: opts.metrics === undefined ? undefined : await readJsonObject(opts.metrics, '--metrics'),
        end_time: opts.end,
      });
      ctx.printer.resource(run, RUN);
    });

  addListOptions(
    runs
      .command('list')
      .alias('ls')
      .description('List the runs of a namespace, newest first')
      .addHelpText('after', "\nExample:\n  $ quiver runs list fraud --filter 'status = failed'"),
    'kind = training',
  )
    .argument('<namespace>', 'e.g. fraud')
    .action(async (ns: string, opts: ListFlags, cmd: Command) => {
      const ctx = context(cmd);
      const namespace = parseNamespace(ns);
      const api = ctx.client.runs;
      const iterate = (r: ListRequest) =>
        paginate((page_token) => api.list(namespace, { ...r, page_token }), r.page_token);
      await printList(ctx, opts, (r) => api.list(namespace, r), iterate, RUNS, 'runs');
    });
}
