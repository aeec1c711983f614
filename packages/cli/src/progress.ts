import type { Io } from './output.js';

export interface ProgressState {
  /** Units done (models). */
  done: number;
  total: number;
  /** Secondary count used for the rate (versions). */
  items: number;
}

/**
 * A progress display without a dependency: on a terminal, one bar redrawn in place on
 * stderr (at most 10 times a second); elsewhere (CI, pipes, files), a plain line every few
 * seconds so logs stay readable.
 */
export class Progress {
  readonly #start: number;
  #lastDraw = Number.NEGATIVE_INFINITY;
  #drawn = false;

  constructor(
    private readonly io: Io,
    private readonly labels: { unit: string; items: string },
    private readonly now: () => number = () => performance.now(),
    private readonly plainEveryMs = 5_000,
  ) {
    this.#start = now();
  }

  update(state: ProgressState): void {
    const t = this.now();
    const finished = state.done >= state.total;
    const every = this.io.isTTY ? 100 : this.plainEveryMs;
    if (!finished && t - this.#lastDraw < every) return;
    this.#lastDraw = t;
    if (this.io.isTTY) {
      this.io.err(`\r${this.bar(state, t)}\x1b[K`);
      this.#drawn = true;
    } else {
      this.io.err(`${this.line(state, t)}\n`);
    }
  }

  /** Ends the bar's line so what follows starts on a fresh one. */
  finish(): void {
    if (this.#drawn) this.io.err('\n');
    this.#drawn = false;
  }

  elapsedMs(): number {
    return this.now() - this.#start;
  }

  bar(state: ProgressState, t = this.now()): string {
    const width = 24;
    const ratio = state.total > 0 ? Math.min(1, state.done / state.total) : 1;
    const filled = Math.round(ratio * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    return `[${bar}] ${pct(ratio)}  ${this.counts(state)}  ${this.stats(state, t)}`;
  }

  line(state: ProgressState, t = this.now()): string {
    const ratio = state.total > 0 ? Math.min(1, state.done / state.total) : 1;
    return `${this.counts(state)} (${pct(ratio).trim()}), ${this.stats(state, t)}`;
  }

  private counts(state: ProgressState): string {
    return `${fmt(state.done)}/${fmt(state.total)} ${this.labels.unit}`;
  }

  private stats(state: ProgressState, t: number): string {
    const seconds = Math.max(0.001, (t - this.#start) / 1000);
    const rate = state.items / seconds;
    const remaining = state.done > 0 ? ((state.total - state.done) * seconds) / state.done : Number.NaN;
    return `${fmt(Math.round(rate))} ${this.labels.items}/s  ETA ${duration(remaining)}`;
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');
const pct = (ratio: number) => `${Math.floor(ratio * 100)}%`.padStart(4);

/** `1h02m`, `3m05s`, `42s`, or `--` when unknown. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}
