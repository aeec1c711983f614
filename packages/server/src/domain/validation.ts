import { QuiverError } from './errors.js';
import type { JsonObject, Labels } from './resources.js';

export const LABEL_KEY_PATTERN = '^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$';
const LABEL_KEY_RE = new RegExp(LABEL_KEY_PATTERN);
export const LIMITS = {
  labels: 64,
  labelValue: 256,
  description: 4096,
  sourceUri: 2048,
  metadataBytes: 64 * 1024,
  metadataDepth: 32,
  reason: 1024,
  /** Lineage, per model version: bounded so that no graph read or cycle check can run away. */
  lineageTrainedOn: 64,
  lineageEvaluatedOn: 64,
  lineageDerivedFrom: 16,
  /** A lineage read walks at most this many levels and returns at most this many nodes (then `truncated`). */
  lineageDepth: 10,
  lineageNodes: 500,
  /** Dataset version URIs and run code commits/parameters. */
  uri: 2048,
  runJsonBytes: 64 * 1024,
} as const;

export function checkLabels(labels: unknown, field = 'labels'): Labels {
  if (labels === undefined) return {};
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    throw invalid(field, `${field} must be an object of string keys to string values.`);
  }
  const entries = Object.entries(labels);
  if (entries.length > LIMITS.labels)
    throw invalid(field, `${field} may hold at most ${LIMITS.labels} entries.`);
  for (const [key, value] of entries) {
    if (!LABEL_KEY_RE.test(key)) {
      throw invalid(
        `${field}.${key}`,
        `Label key ${JSON.stringify(key.slice(0, 80))} must match ${LABEL_KEY_PATTERN}.`,
      );
    }
    if (typeof value !== 'string' || value.length > LIMITS.labelValue) {
      throw invalid(
        `${field}.${key}`,
        `Label '${key}' must be a string of at most ${LIMITS.labelValue} characters.`,
      );
    }
    if (value.includes('\u0000')) {
      throw invalid(
        `${field}.${key}`,
        `Label '${key}' contains a NUL character, which text fields cannot hold.`,
      );
    }
  }
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1))) as Labels;
}

export function checkText(value: unknown, field: string, max: number): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') throw invalid(field, `${field} must be a string.`);
  if (value.length > max) throw invalid(field, `${field} may be at most ${max} characters long.`);
  // PostgreSQL text cannot hold U+0000; refusing it everywhere keeps both backends alike.
  if (value.includes('\u0000'))
    throw invalid(field, `${field} contains a NUL character, which text fields cannot hold.`);
  return value;
}

/** Free-form metadata: a JSON object, bounded in size and depth so that no request can exhaust the server. */
export function checkMetadata(value: unknown, field = 'metadata'): JsonObject {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new QuiverError('INVALID_METADATA', `${field} must be a JSON object.`, { details: { field } });
  }
  const depth = maxDepth(value, LIMITS.metadataDepth + 1);
  if (depth > LIMITS.metadataDepth) {
    throw new QuiverError(
      'INVALID_METADATA',
      `${field} is nested deeper than ${LIMITS.metadataDepth} levels.`,
      {
        details: { field, max_depth: LIMITS.metadataDepth },
      },
    );
  }
  const size = Buffer.byteLength(JSON.stringify(value));
  if (size > LIMITS.metadataBytes) {
    throw new QuiverError(
      'INVALID_METADATA',
      `${field} is ${size} bytes as JSON; the limit is ${LIMITS.metadataBytes}.`,
      {
        details: { field, max_bytes: LIMITS.metadataBytes },
      },
    );
  }
  return value as JsonObject;
}

/** Depth of a JSON value, stopping early once `stopAt` is reached (iterative: hostile input cannot overflow the stack). */
function maxDepth(root: unknown, stopAt: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest >= stopAt) return deepest;
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return deepest;
}

function invalid(field: string, message: string): QuiverError {
  return new QuiverError('INVALID_ARGUMENT', message, { details: { field } });
}
