import type { Command } from 'commander';
import type { Context } from '../context.js';
import { parseModelRef, parseVersion } from '../refs.js';

export function aliasesCommand(program: Command, context: (cmd: Command) => Context): void {
  const aliases = program
    .command('aliases')
    .description('Aliases: movable names such as champion or production for one version of a model')
    .addHelpText(
      'after',
      `
Anywhere a version goes, an alias works: quiver versions get fraud/scorer@champion.

Examples:
  $ quiver aliases set fraud/scorer champion 3
  $ quiver aliases set fraud/scorer production @champion
  $ quiver aliases unset fraud/scorer challenger`,
    );

  aliases
    .command('set')
    .description('Point an alias at a version (creates or moves it atomically; recorded in history)')
    .argument('<namespace/model>', 'e.g. fraud/scorer')
    .argument('<alias>', "the alias: lowercase letters, digits, '-', '_', not only digits")
    .argument('<version>', 'a version number, or another alias as @name')
    .addHelpText('after', '\nExample:\n  $ quiver aliases set fraud/scorer champion 3')
    .action(async (name: string, alias: string, version: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { namespace, model } = parseModelRef(name);
      const set = await ctx.client.aliases.set(
        namespace,
        model,
        alias.replace(/^@/, ''),
        parseVersion(version),
      );
      const moved =
        set.previous_version === null
          ? ''
          : set.previous_version === set.version
            ? ' (unchanged)'
            : ` (was ${set.previous_version})`;
      ctx.printer.message(`${namespace}/${model}@${set.alias} → version ${set.version}${moved}`, set);
    });

  aliases
    .command('unset')
    .description('Remove an alias')
    .argument('<namespace/model>', 'e.g. fraud/scorer')
    .argument('<alias>', 'the alias to remove')
    .addHelpText('after', '\nExample:\n  $ quiver aliases unset fraud/scorer challenger')
    .action(async (name: string, alias: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { namespace, model } = parseModelRef(name);
      const bare = alias.replace(/^@/, '');
      await ctx.client.aliases.unset(namespace, model, bare);
      ctx.printer.message(`Removed alias ${bare} from ${namespace}/${model}.`);
    });
}
