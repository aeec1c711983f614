import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/main.js';
import { quiver } from './support.js';

/** Every command of the tree, as its argv (`['deployments', 'update']`). */
function commands(cmd: Command, path: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => [[...path, c.name()], ...commands(c, [...path, c.name()])]);
}

describe('help', () => {
  it('lists every noun with examples', async () => {
    const { code, stdout } = await quiver(undefined, ['--help']);
    expect(code).toBe(0);
    for (const noun of [
      'serve',
      'namespaces',
      'models',
      'versions',
      'aliases',
      'artifacts',
      'deploy',
      'deployments',
      'operations',
      'infer',
      'dev',
    ])
      expect(stdout).toContain(noun);
    expect(stdout).toContain('--server <url>');
    expect(stdout).toContain('Examples:');
  });

  it.each([
    [
      ['serve', '--help'],
      ['--port <n>', '--grpc-port <n>', '--data-dir <dir>', '--database-url <url>', '--log-level', '--role'],
    ],
    [
      ['models', 'list', '--help'],
      ['--filter <expr>', '--order-by <field>', '--page-size <n>', '--page-token', '--all'],
    ],
    [
      ['models', 'create', '--help'],
      ['--description <text>', '--label <key=value>', 'Example:'],
    ],
    [
      ['versions', 'create', '--help'],
      ['--metadata <json|@file>', '--source-uri <uri>', '--label <key=value>'],
    ],
    [
      ['versions', 'transition', '--help'],
      ['<status>', '--reason <text>', 'approved'],
    ],
    [['models', 'delete', '--help'], ['--force']],
    [
      ['dev', 'seed', '--help'],
      ['--models <n>', '--versions-per-model <n>', '--namespaces <n>', '--database-url'],
    ],
    [
      ['aliases', 'set', '--help'],
      ['<alias>', '<version>', 'Example:'],
    ],
    [
      ['versions', 'create', '--help'],
      ['--artifact <file|digest>', '--format <format>', 'progress bar', 'model.onnx'],
    ],
    [
      ['artifacts', 'get', '--help'],
      ['<digest>', '-o, --output', 'names the file to write', 'Examples:'],
    ],
    [
      ['deploy', '--help'],
      [
        '--name <deployment>',
        '--replicas <n>',
        '--batch-size <n>',
        '--batch-delay-us <n>',
        '--traffic <split>',
        '--wait',
        '--timeout <seconds>',
        'Examples:',
      ],
    ],
    [
      ['deployments', 'update', '--help'],
      ['--version <version>', '--traffic <split>', '--no-batching', '--wait', 'Examples:'],
    ],
    [
      ['infer', '--help'],
      ['--input <name:DATATYPE:[shape]:values>', '--json <file|json>', '--version <version>', 'Examples:'],
    ],
    [
      ['operations', 'wait', '--help'],
      ['<operation>', '--timeout <seconds>', 'Example:'],
    ],
  ])('%j shows its options', async (argv, expected) => {
    const { code, stdout } = await quiver(undefined, argv);
    expect(code).toBe(0);
    for (const text of expected) expect(stdout).toContain(text);
    expect(stdout).toContain('--output <format>'); // global options are shown everywhere
  });

  it('gives every command an example', async () => {
    const all = commands(
      buildProgram({ out() {}, err() {}, env: {}, isTTY: false, waitForStop: async () => '' }),
    );
    expect(all.length).toBeGreaterThan(30);
    for (const argv of all) {
      const { code, stdout } = await quiver(undefined, [...argv, '--help']);
      expect(code, argv.join(' ')).toBe(0);
      expect(stdout, argv.join(' ')).toMatch(/Examples?:\n {2}\$ quiver /);
    }
  });

  it('rejects an unknown command with a suggestion and exit code 1', async () => {
    const { code, stderr } = await quiver(undefined, ['modles', 'list']);
    expect(code).toBe(1);
    expect(stderr).toContain('models');
  });

  it('prints its version', async () => {
    const { code, stdout } = await quiver(undefined, ['--version']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect((await quiver(undefined, ['--server', 'http://x:1', '-v'])).stdout).toBe(stdout);
    // After a command, --version is the command's own option (a deployment's version), not the CLI's.
    const update = await quiver('http://127.0.0.1:9', ['deployments', 'update', 'x', '--version', '2']);
    expect(update.stdout).toBe('');
    expect(update.stderr).toContain('cannot reach Quiver');
  });
});
