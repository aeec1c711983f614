import type { Model } from '@quiver/sdk';
import type { Command } from 'commander';
import {
  addListOptions,
  type Context,
  type ListFlags,
  labelOption,
  listOption,
  printList,
  usage,
} from '../context.js';
import { type Column, clip, labels, time } from '../output.js';
import { parseModelRef, parseNamespace } from '../refs.js';

export const MODEL_DETAIL: Column<Model>[] = [
  ['name', (m) => m.name],
  ['model_id', (m) => m.model_id],
  ['description', (m) => m.description || '-'],
  ['labels', (m) => labels(m.labels)],
  ['latest_version', (m) => String(m.latest_version)],
  ['aliases', (m) => labels(m.aliases)],
  ['create_time', (m) => m.create_time],
  ['update_time', (m) => m.update_time],
  ['etag', (m) => m.etag],
  ['uid', (m) => m.uid],
];

const COLUMNS: Column<Model>[] = [
  ['MODEL', (m) => m.name.replace(/^namespaces\//, '').replace('/models/', '/')],
  ['LATEST', (m) => String(m.latest_version)],
  ['ALIASES', (m) => labels(m.aliases)],
  ['LABELS', (m) => labels(m.labels)],
  ['UPDATED', (m) => time(m.update_time)],
  ['DESCRIPTION', (m) => clip(m.description)],
];

export interface LabelFlags {
  description?: string;
  label?: Record<string, string>;
  removeLabel?: string[];
}

export function modelsCommand(program: Command, context: (cmd: Command) => Context): void {
  const models = program
    .command('models')
    .description('Models: registered models, each with numbered versions and aliases')
    .addHelpText(
      'after',
      `
Models are named <namespace>/<model>, e.g. fraud/scorer.

Examples:
  $ quiver models create fraud/scorer --label team=risk --label tier=gold
  $ quiver models list fraud --filter 'labels.team="risk"'
  $ quiver models list - --filter 'latest_version >= 3' --all`,
    );

  models
    .command('create')
    .description('Register a model')
    .argument('<namespace/model>', 'the model to create, e.g. fraud/scorer')
    .option('--description <text>', 'what the model does')
    .option('--label <key=value>', 'a label (repeatable)', labelOption)
    .addHelpText(
      'after',
      '\nExample:\n  $ quiver models create fraud/scorer --description "Card fraud" --label team=risk --label tier=gold',
    )
    .action(async (name: string, opts: LabelFlags, cmd: Command) => {
      const ctx = context(cmd);
      const { namespace, model } = parseModelRef(name);
      const created = await ctx.client.models.create(namespace, {
        model_id: model,
        description: opts.description,
        labels: opts.label,
      });
      ctx.printer.resource(created, MODEL_DETAIL);
    });

  models
    .command('get')
    .description('Show a model with its latest version and aliases')
    .argument('<namespace/model>', 'e.g. fraud/scorer')
    .addHelpText('after', '\nExample:\n  $ quiver models get fraud/scorer')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { namespace, model } = parseModelRef(name);
      ctx.printer.resource(await ctx.client.models.get(namespace, model), MODEL_DETAIL);
    });

  addListOptions(
    models
      .command('list')
      .alias('ls')
      .description("List the models of a namespace, or of every namespace with '-'")
      .argument('<namespace>', "namespace id, or '-' for all"),
    'labels.team="risk" AND latest_version >= 2',
  )
    .addHelpText(
      'after',
      `
Filter fields: name, model_id, description, latest_version, create_time, update_time,
labels.<key>. Order fields: name, model_id, create_time, update_time, latest_version.

Examples:
  $ quiver models list fraud
  $ quiver models list - --filter 'labels.team="risk"' --order-by 'update_time desc'
  $ quiver models list fraud --all --output json`,
    )
    .action(async (ns: string, opts: ListFlags, cmd: Command) => {
      const ctx = context(cmd);
      const namespace = parseNamespace(ns, 'namespace', true);
      const api = ctx.client.models;
      await printList(
        ctx,
        opts,
        (r) => api.list(namespace, r),
        (r) => api.iterate(namespace, r),
        COLUMNS,
        'models',
      );
    });

  models
    .command('update')
    .description('Change the description or labels of a model')
    .argument('<namespace/model>', 'e.g. fraud/scorer')
    .option('--description <text>', 'the new description')
    .option('--label <key=value>', 'add or change a label (repeatable)', labelOption)
    .option('--remove-label <key>', 'remove a label (repeatable)', listOption)
    .addHelpText(
      'after',
      `
Labels are merged into the current ones; the update fails rather than overwrite a
concurrent change (it sends the ETag it read as If-Match).

Example:
  $ quiver models update fraud/scorer --label tier=silver --remove-label legacy`,
    )
    .action(async (name: string, opts: LabelFlags, cmd: Command) => {
      const ctx = context(cmd);
      const { namespace, model } = parseModelRef(name);
      requireChange(opts);
      const current = await ctx.client.models.get(namespace, model);
      const updated = await ctx.client.models.update(
        namespace,
        model,
        { description: opts.description, labels: mergeLabels(current.labels, opts) },
        { ifMatch: current.etag },
      );
      ctx.printer.resource(updated, MODEL_DETAIL);
    });

  models
    .command('delete')
    .description('Delete a model (refused while it has versions that are not archived)')
    .argument('<namespace/model>', 'e.g. fraud/scorer')
    .option('--force', 'delete even if versions that are not archived remain')
    .addHelpText('after', '\nExample:\n  $ quiver models delete fraud/old-scorer --force')
    .action(async (name: string, opts: { force?: boolean }, cmd: Command) => {
      const ctx = context(cmd);
      const { namespace, model } = parseModelRef(name);
      await ctx.client.models.delete(namespace, model, { force: opts.force });
      ctx.printer.message(`Deleted model ${namespace}/${model}.`);
    });
}

/** Refuses an update that would change nothing. */
export function requireChange(opts: LabelFlags): void {
  if (opts.description === undefined && !opts.label && !opts.removeLabel) {
    throw usage('description', 'Nothing to update: pass --description, --label or --remove-label.');
  }
}

/** The labels after `--label`/`--remove-label`, or undefined when neither was given (labels unchanged). */
export function mergeLabels(
  current: Record<string, string>,
  opts: { label?: Record<string, string>; removeLabel?: string[] },
): Record<string, string> | undefined {
  if (!opts.label && !opts.removeLabel) return undefined;
  const next = { ...current, ...opts.label };
  for (const key of opts.removeLabel ?? []) delete next[key];
  return next;
}
