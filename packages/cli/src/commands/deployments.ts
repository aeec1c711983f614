import type {
  Batching,
  Deployment,
  Operation,
  OperationHandle,
  TrafficTarget,
  UpdateDeploymentRequest,
} from '@quiver/sdk';
import { type Command, InvalidArgumentError } from 'commander';
import { addListOptions, type Context, type ListFlags, positiveInt, printList, usage } from '../context.js';
import { type Column, table, time } from '../output.js';
import { OperationProgress, type OperationState } from '../progress.js';
import { parseModelRef, parseVersion, parseVersionRef } from '../refs.js';

const bare = (name: string) => name.replace(/^deployments\//, '');
const shortModel = (name: string) => name.replace(/^namespaces\//, '').replace('/models/', '/');
const serving = (d: Deployment) => d.serving.map((s) => `v${s.version} ${s.percent}%`).join(', ') || '-';
const traffic = (d: Deployment) => d.traffic.map((t) => `${t.version}=${t.percent}`).join(',');
const batching = (b: Batching | null) =>
  b ? `max ${b.max_batch_size} requests, wait ≤ ${b.max_queue_delay_us} µs` : 'off';

export const DEPLOYMENT_DETAIL: Column<Deployment>[] = [
  ['name', (d) => d.name],
  ['model', (d) => d.model],
  ['status', (d) => d.status],
  ['status_message', (d) => d.status_message || '-'],
  ['traffic', traffic],
  [
    'serving',
    (d) => d.serving.map((s) => `v${s.version} ${s.percent}% (${s.artifact_digest})`).join(', ') || '-',
  ],
  ['replicas', (d) => String(d.replicas)],
  ['batching', (d) => batching(d.batching)],
  ['generation', (d) => `${d.generation} (observed ${d.observed_generation})`],
  ['create_time', (d) => d.create_time],
  ['update_time', (d) => d.update_time],
  ['etag', (d) => d.etag],
  ['uid', (d) => d.uid],
];

const COLUMNS: Column<Deployment>[] = [
  ['DEPLOYMENT', (d) => d.deployment_id],
  ['MODEL', (d) => shortModel(d.model)],
  ['STATUS', (d) => d.status],
  ['SERVING', serving],
  ['REPLICAS', (d) => String(d.replicas)],
  ['UPDATED', (d) => time(d.update_time)],
  ['MESSAGE', (d) => d.status_message || '-'],
];

export const OPERATION_DETAIL: Column<Operation>[] = [
  ['name', (o) => o.name],
  ['kind', (o) => o.metadata.kind],
  ['target', (o) => o.metadata.target],
  ['done', (o) => String(o.done)],
  ['progress', (o) => `${o.metadata.progress}%`],
  ['message', (o) => o.metadata.message || '-'],
  ['error', (o) => (o.error ? `${o.error.code}: ${o.error.message}` : '-')],
  ['create_time', (o) => o.metadata.create_time],
  ['update_time', (o) => o.metadata.update_time],
];

/** `1=90,2=10`, `champion=90,challenger=10` or `@champion=90,3=10`: version=percent pairs. */
export function parseTraffic(text: string): TrafficTarget[] {
  const parts = text.split(',').map((p) => p.trim());
  return parts.map((part, i) => {
    const eq = part.lastIndexOf('=');
    const percent = part.slice(eq + 1);
    if (eq <= 0 || !/^[1-9][0-9]?$|^100$/.test(percent)) {
      throw new InvalidArgumentError(
        `Expected version=percent pairs such as '1=90,2=10' or 'champion=90,challenger=10'; got '${part}'.`,
      );
    }
    return { version: parseVersion(part.slice(0, eq), `--traffic[${i}]`), percent: Number(percent) };
  });
}

/** A whole number of microseconds, 0 included. */
function microseconds(value: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(value))
    throw new InvalidArgumentError('Expected a whole number (0 or more).');
  return Number(value);
}

/** Seconds, possibly fractional, more than 0. */
function seconds(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value) || !(n > 0))
    throw new InvalidArgumentError('Expected seconds, e.g. 120.');
  return n;
}

interface SpecFlags {
  replicas?: number;
  batchSize?: number;
  batchDelayUs?: number;
  /** `--no-batching` (update only) sets this to false. */
  batching?: boolean;
  traffic?: TrafficTarget[];
}

interface WaitFlags {
  wait?: boolean;
  timeout?: number;
}

/** `--batch-size` with an optional `--batch-delay-us` (default 1000 µs); undefined when neither is given. */
function batchingOf(flags: SpecFlags): Batching | undefined {
  if (flags.batchSize === undefined) {
    if (flags.batchDelayUs !== undefined) {
      throw usage(
        '--batch-delay-us',
        '--batch-delay-us needs --batch-size (the most requests merged into one batch).',
      );
    }
    return undefined;
  }
  return { max_batch_size: flags.batchSize, max_queue_delay_us: flags.batchDelayUs ?? 1000 };
}

function addSpecOptions(cmd: Command): Command {
  return cmd
    .option(
      '--traffic <split>',
      "split traffic over versions, e.g. '1=90,2=10' (percents add up to 100)",
      parseTraffic,
    )
    .option('--replicas <n>', 'model instances serving in each process (1-64; default 1)', positiveInt)
    .option('--batch-size <n>', 'dynamic batching: merge up to n concurrent requests (1-1024)', positiveInt)
    .option(
      '--batch-delay-us <n>',
      'dynamic batching: wait up to n µs for a batch to fill (default 1000)',
      microseconds,
    );
}

function addWaitOptions(cmd: Command): Command {
  return cmd
    .option('--wait', 'follow the rollout with a progress bar until it is done; exit 1 if it fails')
    .option(
      '--timeout <seconds>',
      'with --wait: give up waiting after this long (the rollout goes on)',
      seconds,
    );
}

/**
 * Prints an operation just started: its name (table) or JSON, with a hint; or, with `--wait`,
 * follows it with a progress bar and prints what it produced. A failed operation throws its
 * error (exit 1 with the reason).
 */
async function finish<R>(
  ctx: Context,
  handle: OperationHandle<R>,
  flags: WaitFlags,
  label: string,
  print: (done: Operation<R>) => void,
): Promise<void> {
  if (!flags.wait) {
    ctx.printer.message(handle.name, handle.operation);
    ctx.printer.note(`${label} in the background; follow it with: quiver operations wait ${handle.name}`);
    return;
  }
  print(await follow(ctx, label, (options) => handle.wait(options), flags.timeout));
}

/** Waits with a progress bar on stderr; the bar's line is ended whatever happens. */
export async function follow<R>(
  ctx: Context,
  label: string | ((op: OperationState) => string),
  wait: (options: { onProgress: (op: Operation) => void; timeoutMs?: number }) => Promise<Operation<R>>,
  timeoutSeconds: number | undefined,
): Promise<Operation<R>> {
  const progress = new OperationProgress(ctx.io, label);
  try {
    return await wait({
      onProgress: (op) => progress.update(op),
      ...(timeoutSeconds === undefined ? {} : { timeoutMs: Math.round(timeoutSeconds * 1000) }),
    });
  } finally {
    progress.finish();
  }
}

export function deployCommand(program: Command, context: (cmd: Command) => Context): void {
  addWaitOptions(
    addSpecOptions(
      program
        .command('deploy')
        .description('Serve a model version (or a traffic split) under a name, for inference')
        .argument(
          '<version>',
          'the version to serve, e.g. fraud/scorer@champion or fraud/scorer@3; fraud/scorer with --traffic',
        )
        .requiredOption('--name <deployment>', 'the deployment name, a DNS label such as fraud-prod'),
    ),
  )
    .addHelpText(
      'after',
      `
The server answers at once with an operation that loads the model; without --wait the
command prints the operation's name (follow it with quiver operations wait <name>). With
--wait it shows the rollout's progress and exits 0 when the deployment is ready, 1 with
the reason when it fails. Serve it with quiver infer <deployment> or any Open Inference
Protocol client (REST /v2, gRPC).

Examples:
  $ quiver deploy fraud/scorer@champion --name fraud-prod --wait
  $ quiver deploy fraud/scorer --name fraud-canary --traffic '1=90,2=10' --wait
  $ quiver deploy fraud/scorer@3 --name fraud-batch --replicas 2 --batch-size 32 --batch-delay-us 2000`,
    )
    .action(async (ref: string, opts: SpecFlags & WaitFlags & { name: string }, cmd: Command) => {
      const ctx = context(cmd);
      const target = ref.includes('@') || ref.split('/').length === 3 ? parseVersionRef(ref) : undefined;
      const { namespace, model } = target ?? parseModelRef(ref);
      if (target && opts.traffic) {
        throw usage('--traffic', `Give a version (${ref}) or --traffic, not both.`);
      }
      if (!target && !opts.traffic) {
        throw usage(
          'version',
          `Which version? e.g. ${namespace}/${model}@champion, or --traffic '1=90,2=10'.`,
        );
      }
      const handle = await ctx.client.deployments.create({
        deployment_id: bare(opts.name),
        model: `namespaces/${namespace}/models/${model}`,
        version: target?.version,
        traffic: opts.traffic,
        replicas: opts.replicas,
        batching: batchingOf(opts),
      });
      await finish(ctx, handle, opts, `Deploying ${bare(opts.name)}`, (done) =>
        ctx.printer.resource(done.result!, DEPLOYMENT_DETAIL),
      );
    });
}

export function deploymentsCommand(program: Command, context: (cmd: Command) => Context): void {
  const deployments = program
    .command('deployments')
    .description('Deployments: model versions served for inference, their status and rollouts')
    .addHelpText(
      'after',
      `
Create one with quiver deploy. Changes (update, delete) are rollouts: the server answers
with an operation at once; add --wait to follow it.

Examples:
  $ quiver deployments list
  $ quiver deployments get fraud-prod
  $ quiver deployments update fraud-prod --traffic '3=90,4=10' --wait
  $ quiver deployments update fraud-prod --version 4 --wait
  $ quiver deployments delete fraud-canary --wait`,
    );

  deployments
    .command('get')
    .description('Show a deployment: what it serves, its status and why')
    .argument('<deployment>', 'e.g. fraud-prod')
    .addHelpText('after', '\nExample:\n  $ quiver deployments get fraud-prod')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      ctx.printer.resource(await ctx.client.deployments.get(bare(name)), DEPLOYMENT_DETAIL);
    });

  addListOptions(deployments.command('list').alias('ls').description('List deployments, oldest first'), false)
    .addHelpText(
      'after',
      '\nExamples:\n  $ quiver deployments list\n  $ quiver deployments list --all --output json',
    )
    .action(async (opts: ListFlags, cmd: Command) => {
      const ctx = context(cmd);
      const api = ctx.client.deployments;
      await printList(
        ctx,
        opts,
        (r) => api.list({ page_size: r.page_size, page_token: r.page_token }),
        (r) => api.iterate({ page_size: r.page_size, page_token: r.page_token }),
        COLUMNS,
        'deployments',
      );
    });

  addWaitOptions(
    addSpecOptions(
      deployments
        .command('update')
        .description('Change what a deployment serves (promote, roll back, canary), its replicas or batching')
        .argument('<deployment>', 'e.g. fraud-prod')
        .option('--version <version>', 'serve this version alone, e.g. 4 or champion')
        .option('--no-batching', 'turn dynamic batching off'),
    ),
  )
    .addHelpText(
      'after',
      `
Options left out keep their value. --version or --traffic replaces the traffic split.

Examples:
  $ quiver deployments update fraud-prod --traffic '3=90,4=10' --wait    # canary
  $ quiver deployments update fraud-prod --version 4 --wait             # promote
  $ quiver deployments update fraud-prod --replicas 4 --batch-size 16`,
    )
    .action(async (name: string, opts: SpecFlags & WaitFlags & { version?: string }, cmd: Command) => {
      const ctx = context(cmd);
      if (opts.version !== undefined && opts.traffic) {
        throw usage('--traffic', 'Give --version or --traffic, not both.');
      }
      const patch: UpdateDeploymentRequest = {
        version: opts.version === undefined ? undefined : parseVersion(opts.version, '--version'),
        traffic: opts.traffic,
        replicas: opts.replicas,
        batching: opts.batching === false ? null : batchingOf(opts),
      };
      if (Object.values(patch).every((v) => v === undefined)) {
        throw usage(
          'version',
          'Nothing to update: pass --version, --traffic, --replicas, --batch-size or --no-batching.',
        );
      }
      const handle = await ctx.client.deployments.update(bare(name), patch);
      await finish(ctx, handle, opts, `Updating ${bare(name)}`, (done) =>
        ctx.printer.resource(done.result!, DEPLOYMENT_DETAIL),
      );
    });

  addWaitOptions(
    deployments
      .command('delete')
      .description('Undeploy: stop serving and remove the deployment')
      .argument('<deployment>', 'e.g. fraud-canary'),
  )
    .addHelpText('after', '\nExample:\n  $ quiver deployments delete fraud-canary --wait')
    .action(async (name: string, opts: WaitFlags, cmd: Command) => {
      const ctx = context(cmd);
      const handle = await ctx.client.deployments.delete(bare(name));
      await finish(ctx, handle, opts, `Deleting ${bare(name)}`, (done) =>
        ctx.printer.message(`Deleted deployment ${bare(name)}.`, done.result),
      );
    });

  deployments
    .command('batch-get')
    .description('Show many deployments at once (up to 1000); missing ones are listed, not fatal')
    .argument('<deployment...>', 'deployment names')
    .addHelpText('after', '\nExample:\n  $ quiver deployments batch-get fraud-prod fraud-canary vision-prod')
    .action(async (names: string[], _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const found = await ctx.client.deployments.batchGet(names.map(bare));
      if (ctx.printer.format === 'json') {
        ctx.printer.json(found);
        return;
      }
      if (found.deployments.length) ctx.printer.message(table(COLUMNS, found.deployments).trimEnd());
      for (const name of found.missing) ctx.printer.note(`not found: ${name}`);
    });
}

export function operationsCommand(program: Command, context: (cmd: Command) => Context): void {
  const operations = program
    .command('operations')
    .description('Operations: rollouts in progress or done (deploys, updates, undeploys)')
    .addHelpText(
      'after',
      `
quiver deploy and quiver deployments update|delete print an operation name such as
operations/0193c5e2-7b1c-7d2e-9f00-4a1b2c3d4e5f; the bare id works too.

Examples:
  $ quiver operations get operations/0193c5e2-7b1c-7d2e-9f00-4a1b2c3d4e5f
  $ quiver operations wait operations/0193c5e2-7b1c-7d2e-9f00-4a1b2c3d4e5f --timeout 300`,
    );

  operations
    .command('get')
    .description('Show an operation: progress, message, and its error or result')
    .argument('<operation>', 'operations/<id> or the id')
    .addHelpText(
      'after',
      '\nExample:\n  $ quiver operations get operations/0193c5e2-7b1c-7d2e-9f00-4a1b2c3d4e5f',
    )
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      ctx.printer.resource(await ctx.client.operations.get(name), OPERATION_DETAIL);
    });

  operations
    .command('wait')
    .description('Follow an operation with a progress bar until it is done; exit 1 if it failed')
    .argument('<operation>', 'operations/<id> or the id')
    .option('--timeout <seconds>', 'give up waiting after this long (the operation goes on)', seconds)
    .addHelpText(
      'after',
      '\nExample:\n  $ quiver operations wait operations/0193c5e2-7b1c-7d2e-9f00-4a1b2c3d4e5f --timeout 300',
    )
    .action(async (name: string, opts: { timeout?: number }, cmd: Command) => {
      const ctx = context(cmd);
      const done = await follow(
        ctx,
        (op) => `${op.metadata.kind} ${op.metadata.target}`,
        (o) => ctx.client.operations.wait(name, o),
        opts.timeout,
      );
      ctx.printer.resource(done, OPERATION_DETAIL);
    });
}
