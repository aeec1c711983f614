import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, Help, Option } from 'commander';
import { aliasesCommand } from './commands/aliases.js';
import { artifactsCommand } from './commands/artifacts.js';
import { auditCommand } from './commands/audit.js';
import { datasetsCommand } from './commands/datasets.js';
import { deployCommand, deploymentsCommand, operationsCommand } from './commands/deployments.js';
import { devCommand } from './commands/dev.js';
import { iamCommand, loginCommand } from './commands/iam.js';
import { inferCommand } from './commands/infer.js';
import { lineageCommand, timelineCommand } from './commands/lineage.js';
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

const VERSION_OPTION = new Option('-v, --version', 'print the CLI version');
/** Global options that take a value, skipped when looking for -v/--version before the command. */
const GLOBAL_WITH_VALUE = new Set(['--server', '--token', '-o', '--output']);

/**
 * `quiver -v` / `quiver --version` (before any command). Not a commander option: commander
 * recognises program options anywhere on the line, and commands such as `deployments update`
 * and `infer` take a `--version <version>` of their own.
 */
export function asksForVersion(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-v' || arg === '--version') return true;
    if (arg === '--') return false;
    if (GLOBAL_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return false; // a command: its options are its own
  }
  return false;
}

/** Builds the whole command tree; a fresh one per run, since commander keeps parse state. */
export function buildProgram(io: Io): Command {
  const program = new Command('quiver')
    .description(
      'Quiver: a model registry and model server. Manage namespaces, models, versions, aliases and artifacts; deploy and run models; or run the server.',
    )
    .helpOption('-h, --help', 'show help for a command')
    .configureOutput({
      writeOut: (text) => io.out(text),
      writeErr: (text) => io.err(text),
      outputError: (text, write) => write(text),
    })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({
      showGlobalOptions: true,
      // -v, --version is answered by run() before parsing (see asksForVersion); listed here only.
      visibleOptions(cmd) {
        const options = Help.prototype.visibleOptions.call(this, cmd);
        return cmd.parent ? options : [...options, VERSION_OPTION];
      },
    });
  addGlobalOptions(program);
  const context = (cmd: Command) => contextOf(cmd, io, VERSION);
  serveCommand(program, io, VERSION);
  namespacesCommand(program, context);
  modelsCommand(program, context);
  versionsCommand(program, context);
  timelineCommand(program, context);
  aliasesCommand(program, context);
  artifactsCommand(program, context);
  deployCommand(program, context);
  deploymentsCommand(program, context);
  operationsCommand(program, context);
  inferCommand(program, context);
  datasetsCommand(program, context);
  lineageCommand(program, context);
  auditCommand(program, context);
  iamCommand(program, context);
  loginCommand(program, context);
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
  $ quiver versions create fraud/scorer --artifact model.onnx --metadata '{"auc":0.94}'
  $ quiver versions transition fraud/scorer@1 validated --reason "offline eval passed"
  $ quiver aliases set fraud/scorer champion 1
  $ quiver deploy fraud/scorer@champion --name fraud-prod --wait
  $ quiver infer fraud-prod --input 'input:FP32:[1,4]:0.5,1,2,3'
  $ quiver models list - --filter 'labels.team="risk"' --output json
  $ quiver audit verify
  $ quiver lineage dataset fraud/transactions@1   # which deployed models were trained on it?

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
  if (asksForVersion(argv)) {
    full.out(`${VERSION}\n`);
    return 0;
  }
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
