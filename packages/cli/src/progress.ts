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

const BAR_WIDTH = 24;
const bar = (ratio: number) => {
  const filled = Math.round(Math.min(1, Math.max(0, ratio)) * BAR_WIDTH);
  return `[${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}]`;
};

/** `512 B`, `12.3 kB`, `45.6 MB`, `1.23 GB` (decimal units, as network rates are quoted). */
export function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 'B';
  for (const u of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = u;
  }
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${unit}`;
}

/**
 * Progress of bytes moving (hashing, uploading, downloading): on a terminal a bar with bytes,
 * percent, MB/s and ETA redrawn in place; elsewhere a plain line every few seconds and one at
 * the end.
 */
export class TransferProgress {
  readonly #start: number;
  #lastDraw = Number.NEGATIVE_INFINITY;
  #drawn = false;
  #bytes = 0;

  constructor(
    private readonly io: Io,
    /** e.g. `{ doing: 'Uploading', did: 'Uploaded', what: 'model.onnx' }`. */
    private readonly words: { doing: string; did: string; what: string },
    private readonly total: number | undefined,
    private readonly now: () => number = () => performance.now(),
    private readonly plainEveryMs = 5_000,
  ) {
    this.#start = now();
  }

  update(done: number): void {
    this.#bytes = done;
    const t = this.now();
    if (t - this.#lastDraw < (this.io.isTTY ? 100 : this.plainEveryMs)) return;
    this.#lastDraw = t;
    if (this.io.isTTY) {
      this.io.err(`\r${this.bar(done, t)}\x1b[K`);
      this.#drawn = true;
    } else if (t - this.#start >= this.plainEveryMs) {
      this.io.err(`${this.line(done, t)}\n`); // short transfers print only their last line
    }
  }

  /** Replaces the bar with a summary line: `Uploaded model.onnx: 29.1 MB in 3.4 s (8.56 MB/s)`. */
  finish(done = this.#bytes): void {
    const seconds = Math.max(0.001, (this.now() - this.#start) / 1000);
    const summary = `${this.words.did} ${this.words.what}: ${bytes(done)} in ${seconds.toFixed(1)} s (${bytes(done / seconds)}/s)`;
    this.io.err(this.io.isTTY ? `\r${summary}\x1b[K\n` : `${summary}\n`);
    this.#drawn = false;
  }

  /** Ends a bar left on screen (after a failure), so the error starts on its own line. */
  abandon(): void {
    if (this.#drawn) this.io.err('\n');
    this.#drawn = false;
  }

  bar(done: number, t = this.now()): string {
    const ratio = this.total ? done / this.total : 0;
    const head = `${this.words.doing} ${this.words.what}`;
    return `${head} ${this.total ? `${bar(ratio)} ${pct(ratio)}  ` : ''}${this.amounts(done)}  ${this.rate(done, t)}`;
  }

  line(done: number, t = this.now()): string {
    const ratio = this.total ? done / this.total : 0;
    const head = `${this.words.doing} ${this.words.what}`;
    return `${head}: ${this.amounts(done)}${this.total ? ` (${pct(ratio).trim()})` : ''}, ${this.rate(done, t)}`;
  }

  private amounts(done: number): string {
    return this.total === undefined ? bytes(done) : `${bytes(done)}/${bytes(this.total)}`;
  }

  private rate(done: number, t: number): string {
    const seconds = Math.max(0.001, (t - this.#start) / 1000);
    const perSecond = done / seconds;
    const eta =
      this.total !== undefined && done > 0 ? `  ETA ${duration((this.total - done) / perSecond)}` : '';
    return `${bytes(perSecond)}/s${eta}`;
  }
}

/** What an operation reports; the CLI needs only this much of the SDK's Operation. */
export interface OperationState {
  done: boolean;
  metadata: { progress: number; message: string; kind?: string; target?: string };
  error?: { message: string } | undefined;
  /** A deployment for rollouts: its `status_message` says what it serves. */
  result?: { status_message?: unknown } | undefined;
}

/**
 * Progress of a long-running operation (a rollout): on a terminal a bar with percent and the
 * operation's message, redrawn on every change; elsewhere one line per change of message.
 */
export class OperationProgress {
  #drawn = false;
  #last = '';

  constructor(
    private readonly io: Io,
    /** e.g. `Deploying fraud-prod`, or made from the operation (`update deployments/fraud-prod`). */
    private readonly labelOf: string | ((op: OperationState) => string),
  ) {}

  update(op: OperationState): void {
    const { progress, message } = op.metadata;
    const label = typeof this.labelOf === 'string' ? this.labelOf : this.labelOf(op);
    const outcome = typeof op.result?.status_message === 'string' ? op.result.status_message : '';
    const shown = op.done
      ? op.error
        ? `failed: ${op.error.message}`
        : outcome || message || 'done'
      : message;
    if (this.io.isTTY) {
      this.io.err(`\r${label} ${bar(progress / 100)} ${pct(progress / 100)}  ${shown}\x1b[K`);
      this.#drawn = true;
      return;
    }
    const line = `${label}: ${pct(progress / 100).trim()} ${shown}`;
    if (line !== this.#last) this.io.err(`${line}\n`);
    this.#last = line;
  }

  /** Ends the bar's line so what follows starts on a fresh one. */
  finish(): void {
    if (this.#drawn) this.io.err('\n');
    this.#drawn = false;
  }
}
