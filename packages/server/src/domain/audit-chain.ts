import { hash, randomBytes, verify as verifySignature } from 'node:crypto';

/**
 * The audit log's hash chain, pure: the canonical form of an event, its hash, and a verifier
 * that walks a chain and its signed checkpoints and names the first event that was modified,
 * deleted, inserted or reordered.
 *
 * hash = hex(SHA-256(prev_hash ‖ canonical(event))), where canonical(event) is the JSON of
 * every recorded field but `hash` (seq, time as RFC 3339, prev_hash included) with keys sorted
 * at every depth and no whitespace. It is computed from the event exactly as the API returns
 * it, so anyone can recompute it from an export without Quiver's code.
 */

/** prev_hash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** Every field an event records, as the API shows it (before it is hashed). */
export interface AuditEventBody {
  seq: number;
  /** RFC 3339 with milliseconds (`2026-01-02T03:04:05.678Z`). */
  time: string;
  principal: string;
  action: string;
  resource: string;
  outcome: string;
  permission: string | null;
  request_id: string;
  trace_id: string | null;
  client_address: string | null;
  change_digest: string | null;
  details: Record<string, unknown> | null;
  prev_hash: string;
}

export interface AuditEvent extends AuditEventBody {
  hash: string;
}

/** The end of the chain: the last event's seq and hash (seq 0 and GENESIS_HASH when empty). */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** A signed statement that the chain's event `seq` had hash `hash`. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  time: string;
  key_id: string;
  /** Ed25519 signature (base64url) of checkpointPayload(). */
  signature: string;
}

/** JSON with object keys sorted at every depth: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The hash an event must carry: over its prev_hash and its canonical form (without `hash`). */
export function hashEvent(event: AuditEventBody): string {
  const { hash: _ignored, ...body } = event as AuditEventBody & { hash?: string };
  // The same digest as updating with prev_hash, then the canonical form (SHA-256 over their bytes in turn).
  return hash('sha256', body.prev_hash + canonicalJson(body), 'hex');
}

/** The next event of the chain: numbered after `head`, linked to it, hashed. */
export function seal(head: ChainHead, body: Omit<AuditEventBody, 'seq' | 'prev_hash'>): AuditEvent {
  const event: AuditEventBody = { ...body, seq: head.seq + 1, prev_hash: head.hash };
  return { ...event, hash: hashEvent(event) };
}

/**
 * What `hashEvent` hashes, cut where the head's seq and hash go, for a sealer that learns the
 * head later (PostgreSQL seals at commit, in the database): for every head,
 * `hash ‖ before ‖ hash ‖ between ‖ (seq + 1) ‖ after` is exactly `prev_hash ‖ canonical(event)`
 * of the event sealed onto it, so the chain and its verification are the same either way.
 */
export interface SealParts {
  before: string;
  between: string;
  after: string;
}

export function sealParts(body: Omit<AuditEventBody, 'seq' | 'prev_hash'>): SealParts {
  // Placeholders for the two values, cut out of the canonical text. Each must occur exactly once
  // (the event's own fields could hold the fixed one: then a random one is drawn).
  for (let mark = SEAL_MARK; ; mark = randomBytes(12).toString('hex')) {
    const text = canonicalJson({ ...body, prev_hash: `${mark}p`, seq: `${mark}s` });
    const [before, rest, extra] = text.split(`"${mark}p"`);
    if (rest === undefined || extra !== undefined) continue;
    const [between, after, more] = rest.split(`"${mark}s"`);
    if (after === undefined || more !== undefined) continue;
    // prev_hash is lowercase hex and seq a safe integer: JSON writes them as '"' + hex + '"' and digits.
    return { before: `${before}"`, between: `"${between}`, after };
  }
}

const SEAL_MARK = 'quiver-seal-';

/** The text `hashEvent` hashes for `parts` sealed onto `head` (the JavaScript twin of the database's sealer). */
export function sealedText(head: ChainHead, parts: SealParts): string {
  return `${head.hash}${parts.before}${head.hash}${parts.between}${head.seq + 1}${parts.after}`;
}

/** What a checkpoint signature covers (canonical JSON of seq, hash, time and key id). */
export function checkpointPayload(cp: Omit<AuditCheckpoint, 'signature'>): Buffer {
  return Buffer.from(canonicalJson({ seq: cp.seq, hash: cp.hash, time: cp.time, key_id: cp.key_id }));
}

/** Whether `cp.signature` is a valid Ed25519 signature of the checkpoint by `publicKeyPem`. */
export function checkpointSignatureValid(cp: AuditCheckpoint, publicKeyPem: string): boolean {
  try {
    return verifySignature(null, checkpointPayload(cp), publicKeyPem, Buffer.from(cp.signature, 'base64url'));
  } catch {
    return false;
  }
}

export const INVALID_REASONS = [
  'modified',
  'deleted',
  'inserted',
  'reordered',
  'checkpoint_signature',
  'checkpoint_mismatch',
] as const;
export type InvalidReason = (typeof INVALID_REASONS)[number];

export interface FirstInvalid {
  /** The event (or, for checkpoint reasons, the checkpoint's seq) where the chain stops being provable. */
  seq: number;
  reason: InvalidReason;
  message: string;
}

export interface ChainVerification {
  valid: boolean;
  events_checked: number;
  checkpoints_checked: number;
  first_invalid?: FirstInvalid;
}

export interface VerifyOptions {
  /** Whether a checkpoint's signature is valid (by a trusted key). */
  signatureValid(cp: AuditCheckpoint): boolean;
  /** The head the chain must end at (its last seq and hash); events beyond it are not read. */
  head?: ChainHead;
  /** Called after every `progressEvery` events. */
  onProgress?(eventsChecked: number): void;
  progressEvery?: number;
}

type Source<T> = AsyncIterable<T> | Iterable<T>;

/**
 * Walks events in seq order, and checkpoints in seq order, streaming both (one event of
 * lookahead), and stops at the first event the chain cannot vouch for.
 */
export async function verifyChain(
  events: Source<AuditEvent>,
  checkpoints: Source<AuditCheckpoint>,
  options: VerifyOptions,
): Promise<ChainVerification> {
  const eventIt = iterate(events);
  const cpIt = iterate(checkpoints);
  let checked = 0;
  let cpChecked = 0;
  const every = options.progressEvery ?? 10_000;
  const fail = (first_invalid: FirstInvalid): ChainVerification => ({
    valid: false,
    events_checked: checked,
    checkpoints_checked: cpChecked,
    first_invalid,
  });
  let prev: Link = { seq: 0, hash: GENESIS_HASH, prev_hash: undefined };
  let cp = await cpIt.next();
  let current = await eventIt.next();
  while (!current.done) {
    const event = current.value;
    const following = await eventIt.next();
    const problem = judge(prev, event, following.done ? undefined : following.value);
    if (problem) return fail(problem);
    checked++;
    if (checked % every === 0) options.onProgress?.(checked);
    for (; !cp.done && cp.value.seq <= event.seq; cp = await cpIt.next()) {
      const problem = judgeCheckpoint(cp.value, event, options);
      if (problem) return fail(problem);
      cpChecked++;
    }
    prev = event;
    current = following;
  }
  options.onProgress?.(checked);
  if (!cp.done) {
    // A checkpoint signed events the log no longer holds: its tail was cut.
    return fail({
      seq: prev.seq + 1,
      reason: 'deleted',
      message: `checkpoint at seq ${cp.value.seq} signs events after seq ${prev.seq}, the last one left: the tail of the log was deleted`,
    });
  }
  if (options.head && options.head.seq > prev.seq) {
    return fail({
      seq: prev.seq + 1,
      reason: 'deleted',
      message: `the chain head is at seq ${options.head.seq} but the log ends at seq ${prev.seq}: its tail was deleted`,
    });
  }
  return { valid: true, events_checked: checked, checkpoints_checked: cpChecked };
}

interface Link {
  seq: number;
  hash: string;
  prev_hash: string | undefined;
}

/**
 * Why `event` does not follow `prev` (undefined when it does). A broken link is told apart by
 * what the neighbours still prove: the next event chaining onto `prev` means `event` was put
 * in (or swapped in); `event` chaining onto prev's predecessor means `prev` was put in; a hash
 * that fits the event under the next seq means an earlier event was removed and the rest renumbered.
 */
function judge(prev: Link, event: AuditEvent, next: AuditEvent | undefined): FirstInvalid | undefined {
  const expected = prev.seq + 1;
  if (event.seq > expected) {
    const missing =
      event.seq - 1 === expected ? `event ${expected} is` : `events ${expected}..${event.seq - 1} are`;
    return { seq: expected, reason: 'deleted', message: `${missing} missing from the sequence` };
  }
  if (event.seq < expected) {
    return {
      seq: event.seq,
      reason: 'reordered',
      message: `event ${event.seq} comes after event ${prev.seq}`,
    };
  }
  const selfOk = hashEvent(event) === event.hash;
  const linkOk = event.prev_hash === prev.hash;
  if (selfOk && linkOk) return undefined;
  const at = event.seq;
  if (next && next.prev_hash === prev.hash && event.prev_hash === next.hash) {
    return { seq: at, reason: 'reordered', message: `events ${at} and ${next.seq} were swapped` };
  }
  if (next && next.prev_hash === prev.hash) {
    return {
      seq: at,
      reason: 'inserted',
      message: `event ${at} was inserted: event ${next.seq} chains onto event ${prev.seq}`,
    };
  }
  if (prev.prev_hash !== undefined && !linkOk && event.prev_hash === prev.prev_hash) {
    return {
      seq: prev.seq,
      reason: 'inserted',
      message: `event ${prev.seq} was inserted: event ${at} chains onto event ${prev.seq - 1}`,
    };
  }
  if (!selfOk && !linkOk && hashEvent({ ...event, seq: at + 1 }) === event.hash) {
    return {
      seq: at,
      reason: 'deleted',
      message: `an event before seq ${at + 1} was deleted and the rest renumbered`,
    };
  }
  if (!selfOk) return { seq: at, reason: 'modified', message: `event ${at} does not match its hash` };
  // The event is intact but does not chain onto its predecessor: the predecessor was rewritten.
  const culprit = prev.seq > 0 ? prev.seq : at;
  return {
    seq: culprit,
    reason: 'modified',
    message: `event ${at} chains onto a hash that event ${prev.seq} no longer has: event ${culprit} was rewritten`,
  };
}

function judgeCheckpoint(
  cp: AuditCheckpoint,
  event: AuditEvent,
  options: VerifyOptions,
): FirstInvalid | undefined {
  if (!options.signatureValid(cp)) {
    return {
      seq: cp.seq,
      reason: 'checkpoint_signature',
      message: `the signature of the checkpoint at seq ${cp.seq} (key ${cp.key_id}) is not valid`,
    };
  }
  if (cp.seq !== event.seq || cp.hash !== event.hash) {
    return {
      seq: cp.seq,
      reason: 'checkpoint_mismatch',
      message: `the checkpoint at seq ${cp.seq} signed hash ${cp.hash.slice(0, 12)}…, which the log no longer has`,
    };
  }
  return undefined;
}

function iterate<T>(source: Source<T>): { next(): Promise<IteratorResult<T>> } {
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
  const it = (source as Iterable<T>)[Symbol.iterator]();
  return { next: async () => it.next() };
}
