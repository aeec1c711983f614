import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { aliasesCommand } from './commands/aliases.js';
import { devCommand } from './commands/dev.js';
import { modelsCommand } from './commands/models.js';
import { namespacesCommand } from './commands/namespaces.js';
import { serveCommand } from './commands/serve.js';
import { versionsCommand } from './commands/versions.js';
import { addGlobalOptions, contextOf } from './context.js';
import { report } from './errors.js';
import type { Io } from './output.js';

export type { Io } from './output.js';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Builds the whole command tree; a fresh one per run, since commander keeps parse state. */
export function buildProgram(io: Io): Command {
  const program = new Command('quiver')
    .description(
      'Quiver: a model registry. Manage namespaces, models, versions and aliases, or run the server.',
    )
    .version(VERSION, '-v, --version', 'print the CLI version')
    .helpOption('-h, --help', 'show help for a command')
    .configureOutput({
      writeOut: (text) => io.out(text),
      writeErr: (text) => io.err(text),
      outputError: (text, write) => write(text),
    })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ showGlobalOptions: true });
  addGlobalOptions(program);
  const context = (cmd: Command) => contextOf(cmd, io, VERSION);
  serveCommand(program, io, VERSION);
  namespacesCommand(program, context);
  modelsCommand(program, context);
  versionsCommand(program, context);
  aliasesCommand(program, context);
  devCommand(program, io, context);
  program.addHelpText(
    'after',
    `
Names: namespaces are ids (fraud), models <namespace>/<model> (fraud/scorer), versions
<namespace>/<model>@<number|alias> (fraud/scorer@3, fraud/scorer@champion).

Examples:
  $ quiver serve
  $ quiver namespaces create fraud
  $ quiver models create fraud/scorer --label team=risk
  $ quiver versions create fraud/scorer --metadata '{"auc":0.94}'
  $ quiver versions transition fraud/scorer@1 validated --reason "offline eval passed"
  $ quiver aliases set fraud/scorer champion 1
  $ quiver models list - --filter 'labels.team="risk"' --output json

Every command has its own --help. Errors go to stderr as "error: CODE: message"; the exit
status is 0 on success, 1 on a failed request or bad input, 2 on invalid server configuration.`,
  );
  return program;
}

/**
 * Runs the CLI on `argv` (without `node` and the script) and resolves with the exit code.
 * Never exits the process: the bin does that, so tests can call `run` directly.
 */
export async function run(argv: readonly string[], io: Partial<Io> = {}): Promise<number> {
  const full: Io = { ...processIo(), ...io };
  try {
    await buildProgram(full).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    return report(err, full);
  }
}

/** The process's streams, environment and stop signals. */
export function processIo(): Io {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    env: process.env,
    isTTY: process.stderr.isTTY === true,
    waitForStop: () =>
      new Promise((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve(signal);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }),
  };
}

/** The bin entry: runs, lets stdout and stderr drain, then exits with the code. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const code = await run(argv);
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

function isEntry(): boolean {
  try {
    return (
      process.argv[1] !== undefined && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url
    );
  } catch {
    return false;
  }
}

// `node packages/cli/dist/main.js …` (npm start, npm run quiver); bin/quiver.js calls main() itself.
if (isEntry()) void main();
