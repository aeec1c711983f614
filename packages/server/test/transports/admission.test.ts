import { describe, expect, it } from 'vitest';
import { Admission } from '../../src/transports/admission.js';

/** Busy-waits: the synchronous work of a request, as the event loop sees it. */
function work(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

describe('Admission.turn (time slices)', () => {
  it('lets every request run at once when slicing is off', () => {
    const admission = new Admission(0, 0);
    for (let i = 0; i < 50; i++) {
      expect(admission.turn()).toBeUndefined();
      work(1);
    }
    expect(admission.deferred.total).toBe(0);
  });

  it('defers the requests past the slice to later turns, in arrival order, with other I/O turns between', async () => {
    const admission = new Admission(0, 3);
    const ran: string[] = [];
    const waits: Promise<void>[] = [];
    // Forty requests arrive in one turn, each 1 ms of work: only the first few fit in a 3 ms slice.
    for (let i = 0; i < 40; i++) {
      const turn = admission.turn();
      if (turn === undefined) {
        ran.push(`now ${i}`);
        work(1);
      } else {
        waits.push(
          turn.then(() => {
            ran.push(`later ${i}`);
            work(1);
          }),
        );
      }
    }
    const immediateCount = ran.length;
    expect(immediateCount).toBeGreaterThan(0);
    expect(immediateCount).toBeLessThan(40);
    expect(admission.deferred).toEqual({ total: 40 - immediateCount, waiting: 40 - immediateCount });

    // Something else the event loop has to do (accepting a connection, reading a socket): it must get
    // a turn before the deferred requests have all run, not after.
    const other = new Promise<number>((resolve) =>
      setImmediate(() => setImmediate(() => resolve(ran.length))),
    );
    await Promise.all(waits);
    const ranBeforeOther = await other;
    expect(ranBeforeOther).toBeLessThan(40);

    // Arrival order is kept.
    const order = ran.map((entry) => Number(entry.split(' ')[1]));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order).toHaveLength(40);
    expect(admission.deferred.waiting).toBe(0);

    // The queue is empty again: the next request in a fresh turn runs at once.
    await new Promise((resolve) => setImmediate(resolve));
    expect(admission.turn()).toBeUndefined();
  });
});
