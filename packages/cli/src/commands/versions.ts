import {
  type HistoryEntry,
  type TensorSpec,
  VERSION_STATUSES,
  type Version,
  type VersionStatus,
} from '@quiver/sdk';
import { Argument, type Command } from 'commander';
import {
  addListOptions,
  type Context,
  type ListFlags,
  labelOption,
  listOption,
  printList,
  readJsonObject,
  usage,
} from '../context.js';
import { type Column, clip, labels, orDash, table, time } from '../output.js';
import { parseModelRef, parseVersionRef, versionResourceName } from '../refs.js';
import { artifactDigest, isDigest } from './artifacts.js';
import { type LabelFlags, mergeLabels, requireChange } from './models.js';

const short = (name: string) =>
  name
    .replace(/^namespaces\//, '')
    .replace('/models/', '/')
    .replace('/versions/', '@');

const DETAIL: Column<Version>[] = [
  ['name', (v) => v.name],
  ['version', (v) => String(v.version)],
  ['status', (v) => v.status],
  ['aliases', (v) => v.aliases.join(', ') || '-'],
  ['description', (v) => v.description || '-'],
  ['labels', (v) => labels(v.labels)],
  ['metadata', (v) => JSON.stringify(v.metadata)],
  ['source_uri', (v) => v.source_uri || '-'],
  [
    'artifact',
    (v) =>
      v.artifact
        ? `${v.artifact.digest} (${v.artifact.size_bytes} bytes, ${v.artifact.format ?? v.artifact.media_type})`
        : '-',
  ],
  [
    'signature',
    (v) =>
      v.signature
        ? `${v.signature.inputs.map(tensor).join(', ')} → ${v.signature.outputs.map(tensor).join(', ')}`
        : '-',
  ],
  ['created_by', (v) => v.created_by],
  ['create_time', (v) => v.create_time],
  ['update_time', (v) => v.update_time],
  ['etag', (v) => v.etag],
  ['uid', (v) => v.uid],
];

const COLUMNS: Column<Version>[] = [
  ['VERSION', (v) => String(v.version)],
  ['STATUS', (v) => v.status],
  ['ALIASES', (v) => v.aliases.join(', ') || '-'],
  ['LABELS', (v) => labels(v.labels)],
  ['CREATED', (v) => time(v.create_time)],
  ['CREATED_BY', (v) => v.created_by],
  ['DESCRIPTION', (v) => clip(v.description)],
];

const HISTORY: Column<HistoryEntry>[] = [
  ['TIME', (h) => time(h.time)],
  ['KIND', (h) => h.kind],
  ['FROM', (h) => orDash(h.from_status)],
  ['TO', (h) => orDash(h.to_status)],
  ['ALIAS', (h) => orDash(h.alias)],
  ['ACTOR', (h) => h.actor],
  ['REASON', (h) => clip(h.reason, 60)],
];

const tensor = (t: TensorSpec) => `${t.name}:${t.datatype}[${t.shape.join(',')}]`;

const REF_HELP = 'e.g. fraud/scorer@3 or fraud/scorer@champion (also fraud/scorer/3)';

export function versionsCommand(program: Command, context: (cmd: Command) => Context): void {
  const versions = program
    .command('versions')
    .description('Versions: immutable, numbered model versions and their lifecycle')
    .addHelpText(
      'after',
      `
A version is named <namespace>/<model>@<number|alias>, e.g. fraud/scorer@3 or
fraud/scorer@champion. Lifecycle: registered → validated → approved → deprecated →
archived, and registered|validated → rejected.

Examples:
  $ quiver versions create fraud/scorer --artifact model.onnx --metadata '{"auc":0.94}'
  $ quiver versions transition fraud/scorer@7 validated --reason "offline eval passed"
  $ quiver versions get fraud/scorer@champion`,
    );

  versions
    .command('create')
    .description('Register the next version of a model (status: registered)')
    .argument('<namespace/model>', 'e.g. fraud/scorer')
    .option('--description <text>', 'what changed in this version')
    .option('--label <key=value>', 'a label (repeatable)', labelOption)
    .option('--metadata <json|@file>', 'immutable JSON object, inline or @path/to/file.json')
    .option('--source-uri <uri>', 'where the model was produced or stored, e.g. s3://bucket/model.onnx')
    .option(
      '--artifact <file|digest>',
      'the model: a file to upload first (e.g. model.onnx), or the sha256:… digest of uploaded bytes',
    )
    .option('--format <format>', 'format of the artifact, e.g. onnx (detected when omitted)')
    .option(
      '--idempotency-key <key>',
      'makes a retried create return the first result (default: one per run)',
    )
    .addHelpText(
      'after',
      `
With --artifact <file>, the file is hashed (SHA-256), uploaded with a progress bar unless the
server already has it, and registered in the same step; the server checks the bytes against
the hash. ONNX models are detected and their inputs and outputs recorded as the signature.

Examples:
  $ quiver versions create fraud/scorer --artifact model.onnx --metadata '{"auc":0.941}'
  $ quiver versions create fraud/scorer --artifact sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 --format onnx
  $ quiver versions create fraud/scorer --description "XGBoost, 2026-11" --metadata @metrics.json --label stage=candidate`,
    )
    .action(
      async (
        name: string,
        opts: {
          description?: string;
          label?: Record<string, string>;
          metadata?: string;
          sourceUri?: string;
          artifact?: string;
          format?: string;
          idempotencyKey?: string;
        },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        const { namespace, model } = parseModelRef(name);
        const metadata =
          opts.metadata === undefined ? undefined : await readJsonObject(opts.metadata, '--metadata');
        if (opts.format !== undefined && opts.artifact === undefined) {
          throw usage('--format', '--format describes the artifact: pass --artifact too.');
        }
        if (opts.artifact !== undefined && !isDigest(opts.artifact)) {
          await ctx.client.models.get(namespace, model); // a missing model fails before a long upload
        }
        const digest = opts.artifact === undefined ? undefined : await artifactDigest(ctx, opts.artifact);
        const created = await ctx.client.versions.create(
          namespace,
          model,
          {
            description: opts.description,
            labels: opts.label,
            metadata,
            source_uri: opts.sourceUri,
            artifact: digest === undefined ? undefined : { digest, format: opts.format },
          },
          { idempotencyKey: opts.idempotencyKey },
        );
        ctx.printer.resource(created, DETAIL);
      },
    );

  versions
    .command('get')
    .description('Show a version, by number or alias')
    .argument('<version>', REF_HELP)
    .addHelpText(
      'after',
      '\nExamples:\n  $ quiver versions get fraud/scorer@3\n  $ quiver versions get fraud/scorer@champion',
    )
    .action(async (text: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const ref = parseVersionRef(text);
      ctx.printer.resource(await ctx.client.versions.get(ref.namespace, ref.model, ref.version), DETAIL);
    });

  addListOptions(
    versions
      .command('list')
      .alias('ls')
      .description('List the versions of a model, newest first')
      .argument('<namespace/model>', 'e.g. fraud/scorer'),
    'status = approved AND labels.stage = "candidate"',
  )
    .addHelpText(
      'after',
      `
Filter fields: version, status, description, created_by, source_uri, create_time,
update_time, labels.<key>. Order fields: version, name, create_time, update_time.

Examples:
  $ quiver versions list fraud/scorer
  $ quiver versions list fraud/scorer --filter 'status = approved' --order-by 'create_time asc'`,
    )
    .action(async (name: string, opts: ListFlags, cmd: Command) => {
      const ctx = context(cmd);
      const { namespace, model } = parseModelRef(name);
      const api = ctx.client.versions;
      await printList(
        ctx,
        opts,
        (r) => api.list(namespace, model, r),
        (r) => api.iterate(namespace, model, r),
        COLUMNS,
        'versions',
      );
    });

  versions
    .command('update')
    .description('Change the description or labels of a version (everything else is immutable)')
    .argument('<version>', REF_HELP)
    .option('--description <text>', 'the new description')
    .option('--label <key=value>', 'add or change a label (repeatable)', labelOption)
    .option('--remove-label <key>', 'remove a label (repeatable)', listOption)
    .addHelpText('after', '\nExample:\n  $ quiver versions update fraud/scorer@3 --label stage=released')
    .action(async (text: string, opts: LabelFlags, cmd: Command) => {
      const ctx = context(cmd);
      const ref = parseVersionRef(text);
      requireChange(opts);
      const current = await ctx.client.versions.get(ref.namespace, ref.model, ref.version);
      const updated = await ctx.client.versions.update(
        ref.namespace,
        ref.model,
        current.version,
        { description: opts.description, labels: mergeLabels(current.labels, opts) },
        { ifMatch: current.etag },
      );
      ctx.printer.resource(updated, DETAIL);
    });

  versions
    .command('transition')
    .description('Move a version to another lifecycle status')
    .argument('<version>', REF_HELP)
    .addArgument(new Argument('<status>', 'the target status').choices(VERSION_STATUSES))
    .option('--reason <text>', 'why (recorded in the history)')
    .addHelpText(
      'after',
      `
Allowed steps: registered → validated | rejected, validated → approved | rejected,
approved → deprecated, deprecated → archived.

Example:
  $ quiver versions transition fraud/scorer@3 approved --reason "A/B test won"`,
    )
    .action(async (text: string, status: VersionStatus, opts: { reason?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const ref = parseVersionRef(text);
      const moved = await ctx.client.versions.transition(ref.namespace, ref.model, ref.version, {
        status,
        reason: opts.reason,
      });
      ctx.printer.resource(moved, DETAIL);
    });

  versions
    .command('history')
    .description('Show the lifecycle history of a version: creation, transitions, alias moves, edits')
    .argument('<version>', REF_HELP)
    .addHelpText('after', '\nExample:\n  $ quiver versions history fraud/scorer@champion')
    .action(async (text: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const ref = parseVersionRef(text);
      const items = [];
      for await (const entry of ctx.client.versions.iterateHistory(ref.namespace, ref.model, ref.version)) {
        items.push(entry);
      }
      ctx.printer.page({ items, next_page_token: '' }, HISTORY, 'history entries');
    });

  versions
    .command('batch-get')
    .description('Show many versions at once (up to 1000); missing ones are listed, not fatal')
    .argument('<version...>', `versions, ${REF_HELP}, or full resource names`)
    .addHelpText(
      'after',
      '\nExample:\n  $ quiver versions batch-get fraud/scorer@champion fraud/scorer@3 vision/detector@1',
    )
    .action(async (texts: string[], _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const names = texts.map((t, i) => versionResourceName(parseVersionRef(t, `version[${i}]`)));
      const found = await ctx.client.versions.batchGet(names);
      if (ctx.printer.format === 'json') {
        ctx.printer.json(found);
        return;
      }
      if (found.versions.length) {
        ctx.printer.message(
          table(
            [['VERSION', (v: Version) => short(v.name)] as Column<Version>, ...COLUMNS.slice(1)],
            found.versions,
          ).trimEnd(),
        );
      }
      for (const name of found.missing) ctx.printer.note(`not found: ${short(name)}`);
    });
}
