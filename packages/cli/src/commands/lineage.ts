import {
  LINEAGE_DIRECTIONS,
  type LineageDirection,
  type LineageEdge,
  type LineageGraph,
  type LineageNode,
  type TimelineEntry,
  type VersionLineage,
} from '@quiver/sdk';
import { type Command, Option } from 'commander';
import { type Context, listOption, positiveInt } from '../context.js';
import { type Column, clip, time } from '../output.js';
import { parseVersionRef, versionResourceName } from '../refs.js';
import { datasetVersionName, runName } from './datasets.js';

const NODES: Column<LineageNode>[] = [
  ['DEPTH', (n) => String(n.depth)],
  ['TYPE', (n) => n.type],
  ['NAME', (n) => n.name],
  ['DETAIL', (n) => detail(n)],
];
const EDGES: Column<LineageEdge>[] = [
  ['SOURCE', (e) => e.source],
  ['KIND', (e) => e.kind],
  ['TARGET', (e) => e.target],
];
const TIMELINE: Column<TimelineEntry>[] = [
  ['TIME', (e) => time(e.time)],
  ['KIND', (e) => e.kind],
  ['ACTOR', (e) => e.actor],
  ['SUMMARY', (e) => clip(e.summary, 80)],
];
const RECORDED: Column<VersionLineage>[] = [
  ['version', (l) => l.version],
  ['trained_on', (l) => l.trained_on.join(', ') || '-'],
  ['evaluated_on', (l) => l.evaluated_on.join(', ') || '-'],
  ['produced_by', (l) => l.produced_by ?? '-'],
  ['derived_from', (l) => l.derived_from.join(', ') || '-'],
  ['frozen', (l) => String(l.frozen)],
];

function detail(n: LineageNode): string {
  switch (n.type) {
    case 'model_version':
      return n.status ?? '';
    case 'dataset_version':
      return n.uri ?? '';
    case 'run':
      return [n.run_kind, n.status, n.code_commit].filter(Boolean).join(' ');
    case 'deployment':
      return `${n.status} ${(n.serving ?? []).map((s) => `v${s.version} ${s.percent}%`).join(', ')}`.trim();
  }
}

const graphOptions = (cmd: Command) =>
  cmd
    .addOption(new Option('--direction <direction>', 'which way to walk').choices([...LINEAGE_DIRECTIONS]))
    .option('--depth <n>', 'levels to walk (1-10; default 3)', positiveInt);

function printGraph(ctx: Context, graph: LineageGraph): void {
  if (ctx.printer.format === 'json') {
    ctx.printer.json(graph);
    return;
  }
  ctx.printer.page({ items: graph.nodes, next_page_token: '' }, NODES, 'nodes');
  if (graph.edges.length) ctx.printer.page({ items: graph.edges, next_page_token: '' }, EDGES, 'edges');
  if (graph.truncated)
    ctx.printer.note('The graph was cut at the node limit (truncated); ask for less depth.');
}

const REF_HELP = 'e.g. fraud/scorer@3 or fraud/scorer@champion';

export function lineageCommand(program: Command, context: (cmd: Command) => Context): void {
  const lineage = program
    .command('lineage')
    .description('Lineage: what versions were trained on, what came of them, where they are deployed')
    .addHelpText(
      'after',
      `
Examples:
  $ quiver lineage record fraud/scorer@3 --trained-on fraud/transactions@1 --produced-by fraud/train-0412
  $ quiver lineage show fraud/scorer@3 --direction both --depth 5
  $ quiver lineage dataset fraud/transactions@1          # which deployed models were trained on it?
  $ quiver lineage openlineage fraud/scorer@3 > events.json`,
    );

  graphOptions(
    lineage
      .command('show')
      .description('Show the lineage graph of a version (upstream unless --direction says otherwise)')
      .addHelpText('after', '\nExample:\n  $ quiver lineage show fraud/scorer@3 --direction both --depth 5')
      .argument('<version>', REF_HELP),
  ).action(async (text: string, opts: { direction?: LineageDirection; depth?: number }, cmd: Command) => {
    const ctx = context(cmd);
    const ref = parseVersionRef(text);
    printGraph(ctx, await ctx.client.lineage.get(ref.namespace, ref.model, ref.version, opts));
  });

  graphOptions(
    lineage
      .command('dataset')
      .description('Show what was built from a dataset version: models, their descendants, their deployments')
      .addHelpText('after', '\nExample:\n  $ quiver lineage dataset fraud/transactions@1 --depth 5')
      .argument('<namespace/dataset@version>', 'e.g. fraud/transactions@1'),
  ).action(async (text: string, opts: { direction?: LineageDirection; depth?: number }, cmd: Command) => {
    const ctx = context(cmd);
    const name = datasetVersionName(text, 'dataset version');
    const [, namespace, dataset, version] = /^namespaces\/([^/]+)\/datasets\/([^/]+)\/versions\/(\d+)$/.exec(
      name,
    )!;
    printGraph(ctx, await ctx.client.lineage.ofDataset(namespace!, dataset!, Number(version), opts));
  });

  lineage
    .command('record')
    .description('Add lineage to a version (until it is approved; edges already recorded are kept)')
    .addHelpText(
      'after',
      '\nExample:\n  $ quiver lineage record fraud/scorer@3 --trained-on fraud/transactions@1 --produced-by fraud/train-0412',
    )
    .argument('<version>', REF_HELP)
    .option(
      '--trained-on <namespace/dataset@n>',
      'a dataset version it was trained on (repeatable)',
      listOption,
    )
    .option(
      '--evaluated-on <namespace/dataset@n>',
      'a dataset version it was evaluated on (repeatable)',
      listOption,
    )
    .option('--produced-by <namespace/run>', 'the run that produced it')
    .option('--derived-from <namespace/model@version>', 'a parent version (repeatable)', listOption)
    .action(
      async (
        text: string,
        opts: { trainedOn?: string[]; evaluatedOn?: string[]; producedBy?: string; derivedFrom?: string[] },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        const ref = parseVersionRef(text);
        const recorded = await ctx.client.lineage.record(ref.namespace, ref.model, ref.version, {
          trained_on: opts.trainedOn?.map((d, i) => datasetVersionName(d, `--trained-on[${i}]`)),
          evaluated_on: opts.evaluatedOn?.map((d, i) => datasetVersionName(d, `--evaluated-on[${i}]`)),
          produced_by: opts.producedBy === undefined ? undefined : runName(opts.producedBy, '--produced-by'),
          derived_from: opts.derivedFrom?.map((v, i) =>
            versionResourceName(parseVersionRef(v, `--derived-from[${i}]`)),
          ),
        });
        ctx.printer.resource(recorded, RECORDED);
      },
    );

  lineage
    .command('openlineage')
    .description('Print the lineage of a version as OpenLineage RunEvents (JSON)')
    .addHelpText('after', '\nExample:\n  $ quiver lineage openlineage fraud/scorer@3 > events.json')
    .argument('<version>', REF_HELP)
    .action(async (text: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const ref = parseVersionRef(text);
      ctx.printer.json(await ctx.client.lineage.openLineage(ref.namespace, ref.model, ref.version));
    });
}

/** `quiver versions timeline`: attached to the `versions` command built in versions.ts. */
export function timelineCommand(program: Command, context: (cmd: Command) => Context): void {
  const versions = program.commands.find((c) => c.name() === 'versions');
  if (!versions) throw new Error('the versions command must be registered before its timeline');
  versions
    .command('timeline')
    .description(
      'Show everything that happened to a version: creation, transitions, approvals, aliases, lineage, deployments',
    )
    .argument('<version>', REF_HELP)
    .addHelpText('after', '\nExample:\n  $ quiver versions timeline fraud/scorer@champion')
    .action(async (text: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const ref = parseVersionRef(text);
      const items: TimelineEntry[] = [];
      for await (const e of ctx.client.lineage.iterateTimeline(ref.namespace, ref.model, ref.version))
        items.push(e);
      ctx.printer.page({ items, next_page_token: '' }, TIMELINE, 'timeline entries');
    });
}
