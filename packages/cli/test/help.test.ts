import { describe, expect, it } from 'vitest';
import { quiver } from './support.js';

describe('help', () => {
  it('lists every noun with examples', async () => {
    const { code, stdout } = await quiver(undefined, ['--help']);
    expect(code).toBe(0);
    for (const noun of ['serve', 'namespaces', 'models', 'versions', 'aliases', 'dev'])
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
  ])('%j shows its options', async (argv, expected) => {
    const { code, stdout } = await quiver(undefined, argv);
    expect(code).toBe(0);
    for (const text of expected) expect(stdout).toContain(text);
    expect(stdout).toContain('--output <format>'); // global options are shown everywhere
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
  });
});
