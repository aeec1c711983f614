import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('../support/pretenuring-child.ts', import.meta.url));

/** What V8 reports of its pretenuring decisions in a process that applied Quiver's flags. */
function pretenuringTrace(setting: string | undefined): { lines: string[]; out: string } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.QUIVER_V8_PRETENURING;
  if (setting !== undefined) env.QUIVER_V8_PRETENURING = setting;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--trace-pretenuring-statistics', CHILD], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.status, run.stderr).toBe(0);
  return { lines: run.stdout.split('\n').filter((l) => l.includes('pretenuring:')), out: run.stdout };
}

describe('V8 flags (ADR 011)', () => {
  it('turns allocation-site pretenuring off by default: V8 makes no pretenuring decisions', () => {
    const { lines, out } = pretenuringTrace(undefined);
    expect(out).toContain('kept 400000');
    expect(lines).toEqual([]);
  });

  it('leaves it on with QUIVER_V8_PRETENURING=on: V8 weighs the same allocations for pretenuring', () => {
    // Whether a site ends up pretenured depends on when collections fall; that it is weighed does not.
    const { lines } = pretenuringTrace('on');
    expect(lines.some((l) => l.includes('AllocationSite'))).toBe(true);
  });

  it('rejects other values with a message naming the variable', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, QUIVER_V8_PRETENURING: 'sometimes' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('QUIVER_V8_PRETENURING');
  });
});
