import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The gRPC half of the three-year guard: `buf breaking` compares proto/ with the committed
 * image of the last release (proto/buf.baseline.binpb). How to make an intentional change:
 * CONTRIBUTING.md, "The API compatibility guards".
 */
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const buf = join(root, 'node_modules', '.bin', 'buf');
const BASELINE = join(root, 'proto', 'buf.baseline.binpb');

function breaking(dir: string) {
  const run = spawnSync(buf, ['breaking', dir, '--against', BASELINE, '--error-format', 'text'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}

const scratch = mkdtempSync(join(tmpdir(), 'quiver-proto-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of proto/ with one edit applied to the OIP file. */
function edited(name: string, edit: (text: string) => string): string {
  const dir = join(scratch, name);
  cpSync(join(root, 'proto'), dir, { recursive: true });
  const file = join(dir, 'inference', 'open_inference.proto');
  const before = readFileSync(file, 'utf8');
  const after = edit(before);
  expect(after, 'the edit must change the file').not.toBe(before);
  writeFileSync(file, after);
  return dir;
}

describe('proto compatibility (buf breaking against the committed baseline)', () => {
  it('finds no breaking change in proto/ against proto/buf.baseline.binpb', () => {
    const result = breaking('proto');
    expect(result.output, 'run `npx buf breaking proto --against proto/buf.baseline.binpb`').toBe('');
    expect(result.status).toBe(0);
  });

  it('refuses a renumbered field', () => {
    const dir = edited('renumbered', (t) => t.replace('string model_name = 1;', 'string model_name = 99;'));
    const result = breaking(dir);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/model_name/);
  });

  it('refuses a renamed field (JSON and generated code would change)', () => {
    const dir = edited('renamed', (t) => t.replace('string model_name = 1;', 'string model = 1;'));
    expect(breaking(dir).status).not.toBe(0);
  });

  it('accepts an added field', () => {
    const dir = edited('added', (t) =>
      t.replace('message ServerLiveRequest {}', 'message ServerLiveRequest { string probe = 1; }'),
    );
    expect(breaking(dir)).toEqual({ status: 0, output: '' });
  });
});
