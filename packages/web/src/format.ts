import { isQuiverError } from '@quiver/sdk';

export function errorText(err: unknown): string {
  if (isQuiverError(err)) {
    const id = err.requestId ? ` (request ${err.requestId})` : '';
    return `${err.code}: ${err.message}${id}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export function isDenied(err: unknown): boolean {
  return isQuiverError(err, 'PERMISSION_DENIED');
}

export function when(time: string): string {
  const d = new Date(time);
  return Number.isNaN(d.getTime()) ? time : d.toLocaleString();
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** `namespaces/fraud/models/scorer` → `['fraud', 'scorer']`. */
export function modelParts(name: string): [string, string] | undefined {
  const m = /^namespaces\/([^/]+)\/models\/([^/]+)/.exec(name);
  return m ? [m[1]!, m[2]!] : undefined;
}

/** Tensor elements as JSON-friendly values (typed arrays to arrays, bigints to strings). */
export function plain(data: ArrayLike<unknown>): unknown[] {
  return Array.from(data, (x) => (typeof x === 'bigint' ? x.toString() : x));
}
