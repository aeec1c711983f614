import { LRUCache } from 'lru-cache';
import type { CacheStats, InvalidationBus, ReadCache } from '../../ports/cache.js';

interface Entry {
  value: unknown;
  tags: readonly string[];
  /** The ticket of the read that produced it. */
  ticket: number;
  size: number;
}

export interface MemoryCacheOptions {
  maxBytes: number;
  /** How long an entry may live: the bound on staleness should a bus message be lost. */
  ttlMs: number;
  bus?: InvalidationBus | undefined;
  /** Tags remembered individually before they are folded into one floor (bounds memory). */
  maxTags?: number;
  /**
   * Each entry's life is drawn from [ttlMs × (1 − ttlSpread), ttlMs] (default 0.2): entries filled
   * together (a sweep, a burst after a restart) do not all expire in the same moment and send
   * their reads to the database at once. The bound on staleness stays ttlMs.
   */
  ttlSpread?: number;
  /** The clock the lifetimes are measured on (milliseconds; tests). Default: performance.now. */
  now?: () => number;
  /** Where the spread draws from (tests). Default: Math.random. */
  random?: () => number;
}

/**
 * The in-process read cache (least recently used first out, bounded in bytes), kept coherent by
 * tags. Invalidating a tag stamps it with a new sequence number; an entry is valid only if it
 * was filled from a read that started after every stamp of its tags. The stamps are checked on
 * `get`, so invalidation is O(tags), not O(entries), and stale entries fall out as they are met.
 */
export class MemoryReadCache implements ReadCache {
  readonly enabled = true;
  readonly #lru: LRUCache<string, Entry>;
  readonly #stamps = new Map<string, number>();
  readonly #maxTags: number;
  readonly #maxBytes: number;
  readonly #bus: InvalidationBus | undefined;
  readonly #ttlMs: number;
  readonly #ttlSpread: number;
  readonly #random: () => number;
  #seq = 0;
  /** Every entry with a ticket at or below this is void (the stamps before it were forgotten). */
  #floor = 0;
  /** The newest stamp of any tag. */
  #lastStamp = 0;
  #hits = 0;
  #misses = 0;
  #invalidations = 0;

  constructor(options: MemoryCacheOptions) {
    this.#lru = new LRUCache<string, Entry>({
      maxSize: options.maxBytes,
      sizeCalculation: (entry) => entry.size,
      ttl: options.ttlMs,
      ttlAutopurge: false,
      // A clock given (tests) is read at every check rather than once per millisecond.
      ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
    });
    this.#ttlMs = options.ttlMs;
    this.#ttlSpread = Math.min(1, Math.max(0, options.ttlSpread ?? 0.2));
    this.#random = options.random ?? Math.random;
    this.#maxTags = options.maxTags ?? 200_000;
    this.#maxBytes = options.maxBytes;
    this.#bus = options.bus;
    this.#bus?.subscribe((tags) => this.#stamp(tags));
  }

  ticket(): number {
    return ++this.#seq;
  }

  get<T>(key: string): T | undefined {
    return this.#count(this.#live(key)?.value) as T | undefined;
  }

  set(key: string, value: unknown, tags: readonly string[], ticket: number): void {
    const entry: Entry = { value: deepFreeze(value), tags, ticket, size: approximateSize(key, value) };
    // Filled from a read that an invalidation overtook: keeping it could serve the old state.
    if (!this.#valid(entry)) return;
    this.#lru.set(key, entry, { ttl: this.#lifetime() });
  }

  offer(key: string, value: unknown, tags: readonly string[], ticket: number): void {
    // Replacing an entry frees its size first; anything else must fit beside what is kept.
    const room = this.#maxBytes - this.#lru.calculatedSize + (this.#lru.peek(key)?.size ?? 0);
    // A full cache refuses before sizing the value (sizing serialises it: the cost of a refused offer).
    if (room < key.length + ENTRY_OVERHEAD) return;
    const size = approximateSize(key, value);
    if (size > room) return;
    const entry: Entry = { value: deepFreeze(value), tags, ticket, size };
    if (!this.#valid(entry)) return;
    this.#lru.set(key, entry, { ttl: this.#lifetime() });
  }

  /** An entry's life: the TTL, less up to `ttlSpread` of it at random. */
  #lifetime(): number {
    return Math.max(1, Math.round(this.#ttlMs * (1 - this.#ttlSpread * this.#random())));
  }

  getMember<T>(key: string, member: string): T | undefined {
    const group = this.#live(key)?.value as Members | undefined;
    return this.#count(group?.[member]) as T | undefined;
  }

  /** The entry under `key` if it is still valid (a stale one is dropped on the way). */
  #live(key: string): Entry | undefined {
    const entry = this.#lru.get(key);
    if (entry === undefined || this.#valid(entry)) return entry;
    this.#lru.delete(key);
    return undefined;
  }

  #count(value: unknown): unknown {
    if (value === undefined) this.#misses++;
    else this.#hits++;
    return value;
  }

  setMember(key: string, member: string, value: unknown, tags: readonly string[], ticket: number): void {
    this.#putMember(key, member, value, tags, ticket, false);
  }

  offerMember(key: string, member: string, value: unknown, tags: readonly string[], ticket: number): void {
    this.#putMember(key, member, value, tags, ticket, true);
  }

  /**
   * Adds a member to its group, making the group on the first. The group's ticket is its oldest
   * member's: a stamp on its tags after any member was read drops the whole group, never less.
   * The group's entry object is replaced on each change, which is how the LRU learns its new size;
   * its time to live runs from its first member.
   */
  #putMember(
    key: string,
    member: string,
    value: unknown,
    tags: readonly string[],
    ticket: number,
    onlyIntoRoom: boolean,
  ): void {
    // Read before an invalidation of its tags: keeping it could serve the old state.
    if (!this.#valid({ value, tags, ticket, size: 0 })) return;
    let group = this.#lru.peek(key);
    if (group !== undefined && !this.#valid(group)) {
      this.#lru.delete(key);
      group = undefined;
    }
    const members = (group?.value as Members | undefined) ?? (Object.create(null) as Members);
    const before = members[member];
    const grows =
      approximateLength(value) +
      member.length +
      MEMBER_OVERHEAD -
      (before === undefined ? 0 : approximateLength(before) + member.length + MEMBER_OVERHEAD) +
      (group === undefined ? key.length + ENTRY_OVERHEAD : 0);
    if (onlyIntoRoom && grows > this.#maxBytes - this.#lru.calculatedSize) return;
    members[member] = deepFreeze(value);
    const entry: Entry = {
      value: members,
      tags: group?.tags ?? tags,
      ticket: Math.min(group?.ticket ?? ticket, ticket),
      size: (group?.size ?? 0) + grows,
    };
    this.#lru.set(key, entry, group === undefined ? { ttl: this.#lifetime() } : { noUpdateTTL: true });
  }

  invalidate(tags: readonly string[]): void {
    if (tags.length === 0) return;
    this.#stamp(tags);
    this.#bus?.publish(tags);
  }

  stats(): CacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      entries: this.#lru.size,
      bytes: this.#lru.calculatedSize,
      invalidations: this.#invalidations,
    };
  }

  async close(): Promise<void> {
    this.#lru.clear();
    await this.#bus?.close();
  }

  #valid(entry: Entry): boolean {
    // Filled after the last invalidation of any tag: nothing can have made it stale, and its tags
    // (strings elsewhere in memory, each a cache miss on a large heap) need not be looked at.
    if (entry.ticket > this.#lastStamp) return true;
    if (entry.ticket <= this.#floor) return false;
    for (const tag of entry.tags) {
      const stamp = this.#stamps.get(tag);
      if (stamp !== undefined && stamp >= entry.ticket) return false;
    }
    return true;
  }

  #stamp(tags: readonly string[]): void {
    this.#invalidations++;
    const stamp = ++this.#seq;
    this.#lastStamp = stamp;
    if (this.#stamps.size + tags.length > this.#maxTags) {
      // Forget individual stamps: everything filled so far becomes void at once.
      this.#stamps.clear();
      this.#floor = stamp;
      return;
    }
    for (const tag of tags) this.#stamps.set(tag, stamp);
  }
}

/** The cache when it is switched off: every read goes to the store. */
export class NoReadCache implements ReadCache {
  readonly enabled = false;
  ticket(): number {
    return 0;
  }
  get<T>(): T | undefined {
    return undefined;
  }
  set(): void {}
  offer(): void {}
  getMember<T>(): T | undefined {
    return undefined;
  }
  setMember(): void {}
  offerMember(): void {}
  invalidate(): void {}
  stats(): CacheStats {
    return { hits: 0, misses: 0, entries: 0, bytes: 0, invalidations: 0 };
  }
  async close(): Promise<void> {}
}

/** Bytes counted per entry besides its key and value (the entry and the LRU's bookkeeping). */
const ENTRY_OVERHEAD = 64;
/** Bytes counted per member of a group besides its name and value (a slot in the group). */
const MEMBER_OVERHEAD = 16;

/** A group's members by name. */
type Members = Record<string, unknown>;

function approximateSize(key: string, value: unknown): number {
  return key.length + approximateLength(value) + ENTRY_OVERHEAD;
}

/** Text (what versions are kept as) is its own size; anything else is sized by its JSON. */
function approximateLength(value: unknown): number {
  return typeof value === 'string' ? value.length : JSON.stringify(value).length;
}

/** Cached values are shared by every reader: freezing them turns an accidental edit into an error instead of a corrupt cache. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
