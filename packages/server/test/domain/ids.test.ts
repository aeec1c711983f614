import { describe, expect, it } from 'vitest';
import { uuidIds } from '../../src/ports/clock.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidIds', () => {
  it('makes UUIDv7s that are unique and increase, across refills of the random pool', () => {
    // 5,000 ids use several thousand random words: more than one refill of the 1,024-word pool.
    const ids = Array.from({ length: 5000 }, () => uuidIds.uid());
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('carries the current time in its first 48 bits', () => {
    const before = Date.now();
    const id = uuidIds.uid();
    const after = Date.now();
    const millis = Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
    expect(millis).toBeGreaterThanOrEqual(before);
    expect(millis).toBeLessThanOrEqual(after + 1);
  });

  it('draws different random bits in ids of the same millisecond', () => {
    const ids = Array.from({ length: 50 }, () => uuidIds.uid());
    const tails = new Set(ids.map((id) => id.slice(-12)));
    expect(tails.size).toBe(ids.length);
  });
});
