import type { Namespace } from '@quiver/sdk';
import type { Command } from 'commander';
import { addListOptions, type Context, type ListFlags, printList } from '../context.js';
import { type Column, clip, time } from '../output.js';
import { parseNamespace } from '../refs.js';

const DETAIL: Column<Namespace>[] = [
  ['name', (n) => n.name],
  ['namespace_id', (n) => n.namespace_id],
  ['description', (n) => n.description || '-'],
  ['create_time', (n) => n.create_time],
  ['update_time', (n) => n.update_time],
  ['uid', (n) => n.uid],
];

const COLUMNS: Column<Namespace>[] = [
  ['NAMESPACE', (n) => n.namespace_id],
  ['DESCRIPTION', (n) => clip(n.description)],
  ['CREATED', (n) => time(n.create_time)],
];

export function namespacesCommand(program: Command, context: (cmd: Command) => Context): void {
  const namespaces = program
    .command('namespaces')
    .alias('ns')
    .description('Namespaces: teams or projects that hold models')
    .addHelpText(
      'after',
      `
Examples:
  $ quiver namespaces create fraud --description "Fraud detection"
  $ quiver namespaces get fraud
  $ quiver namespaces list --all`,
    );

  namespaces
    .command('create')
    .description('Create a namespace')
    .argument('<id>', "namespace id: lowercase letters, digits, '-', '_' (1-63 characters)")
    .option('--description <text>', 'what the namespace is for')
    .addHelpText('after', '\nExample:\n  $ quiver namespaces create fraud --description "Fraud detection"')
    .action(async (id: string, opts: { description?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const ns = await ctx.client.namespaces.create({
        namespace_id: parseNamespace(id, 'id'),
        description: opts.description,
      });
      ctx.printer.resource(ns, DETAIL);
    });

  namespaces
    .command('get')
    .description('Show a namespace')
    .argument('<id>', 'namespace id')
    .addHelpText('after', '\nExample:\n  $ quiver namespaces get fraud')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      ctx.printer.resource(await ctx.client.namespaces.get(parseNamespace(id, 'id')), DETAIL);
    });

  addListOptions(
    namespaces
      .command('list')
      .alias('ls')
      .description('List namespaces (by name unless --order-by says otherwise)'),
    'namespace_id = "fraud*"',
  )
    .addHelpText(
      'after',
      `
Examples:
  $ quiver namespaces list
  $ quiver namespaces list --order-by 'create_time desc' --page-size 10
  $ quiver namespaces list --all --output json`,
    )
    .action(async (opts: ListFlags, cmd: Command) => {
      const ctx = context(cmd);
      const { namespaces: api } = ctx.client;
      await printList(
        ctx,
        opts,
        (r) => api.list(r),
        (r) => api.iterate(r),
        COLUMNS,
        'namespaces',
      );
    });
}
