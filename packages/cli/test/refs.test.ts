import { describe, expect, it } from 'vitest';
import { Progress } from '../src/progress.js';
import {
  parseModelRef,
  parseNamespace,
  parseVersion,
  parseVersionRef,
  versionResourceName,
} from '../src/refs.js';

describe('references on the command line', () => {
  it('reads versions by number or alias in every accepted spelling', () => {
    const scorer = { namespace: 'fraud', model: 'scorer' };
    expect(parseVersionRef('fraud/scorer@3')).toEqual({ ...scorer, version: 3 });
    expect(parseVersionRef('fraud/scorer@champion')).toEqual({ ...scorer, version: '@champion' });
    expect(parseVersionRef('fraud/scorer@@champion')).toEqual({ ...scorer, version: '@champion' });
    expect(parseVersionRef('fraud/scorer/3')).toEqual({ ...scorer, version: 3 });
    expect(parseVersionRef('fraud/scorer/@champion')).toEqual({ ...scorer, version: '@champion' });
    expect(parseVersionRef('namespaces/fraud/models/scorer/versions/@champion')).toEqual({
      ...scorer,
      version: '@champion',
    });
    expect(versionResourceName(parseVersionRef('fraud/scorer@2'))).toBe(
      'namespaces/fraud/models/scorer/versions/2',
    );
  });

  it('rejects references it cannot read, naming the expected shape', () => {
    expect(() => parseVersionRef('fraud/scorer')).toThrow(/fraud\/scorer@3/);
    expect(() => parseVersionRef('fraud@3')).toThrow(/<namespace>\/<model>/);
    expect(() => parseVersionRef('fraud/scorer@0')).toThrow(/version number/);
    expect(() => parseModelRef('fraud')).toThrow(/<namespace>\/<model>/);
    expect(() => parseModelRef('fraud/scorer@1')).toThrow();
    expect(() => parseNamespace('a/b')).toThrow();
  });

  it('reads a standalone version as a number or an alias', () => {
    expect(parseVersion('12')).toBe(12);
    expect(parseVersion('champion')).toBe('@champion');
    expect(parseVersion('@champion')).toBe('@champion');
    expect(parseNamespace('-', 'namespace', true)).toBe('-');
    expect(parseNamespace('namespaces/fraud')).toBe('fraud');
  });
});

describe('progress', () => {
  it('draws a bar with counts, rate and ETA', () => {
    let now = 0;
    const io = { out() {}, err() {}, env: {}, isTTY: true, waitForStop: () => new Promise<string>(() => {}) };
    const progress = new Progress(io, { unit: 'models', items: 'versions' }, () => now);
    now = 10_000;
    const bar = progress.bar({ done: 25_000, total: 100_000, items: 250_000 });
    expect(bar).toContain('25%');
    expect(bar).toContain('25,000/100,000 models');
    expect(bar).toContain('25,000 versions/s');
    expect(bar).toContain('ETA 30s');
    expect(progress.line({ done: 100_000, total: 100_000, items: 1_000_000 })).toContain('(100%)');
  });

  it('prints plain lines, not redraws, when stderr is not a terminal', () => {
    let now = 0;
    const lines: string[] = [];
    const io = {
      out() {},
      err: (t: string) => lines.push(t),
      env: {},
      isTTY: false,
      waitForStop: () => new Promise<string>(() => {}),
    };
    const progress = new Progress(io, { unit: 'models', items: 'versions' }, () => now, 5_000);
    for (let done = 1; done <= 10; done++) {
      now = done * 1_000;
      progress.update({ done, total: 10, items: done * 10 });
    }
    progress.finish();
    expect(lines.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
    expect(lines).toHaveLength(3); // t=1s (first), t=6s, and the final one
    expect(lines.at(-1)).toContain('10/10 models (100%)');
  });
});
