/**
 * The read cache: results of reads, kept in memory and dropped by tag when a change touches
 * them. Filling follows a ticket protocol so a read that raced with a change can never be kept:
 * take a ticket before reading the store, hand it to `set`; the entry is void if any of its tags
 * was invalidated after the ticket was taken.
 */
export interface ReadCache {
  readonly enabled: boolean;
  ticket(): number;
  get<T>(key: string): T | undefined;
  set(key: string, value: unknown, tags: readonly string[], ticket: number): void;
  /**
   * `set` for bulk reads: keeps the value only if it fits in the room left, never evicting another
   * entry for it, so a sweep over thousands of versions fills free memory but cannot push out
   * the entries single reads keep hot.
   */
  offer(key: string, value: unknown, tags: readonly string[], ticket: number): void;
  /**
   * Entries kept in groups (the versions of one model): `member` of the group `key`. A group is
   * one entry to the cache (one key among the others, one place in the eviction order, one set of
   * tags, the same for every member), so reading one version among a million is a lookup among a
   * tenth as many keys and an index into its group.
   */
  getMember<T>(key: string, member: string): T | undefined;
  /** `set` for a member of a group (the group is made on its first member). */
  setMember(key: string, member: string, value: unknown, tags: readonly string[], ticket: number): void;
  /** `offer` for a member of a group: kept only if it fits in the room left. */
  offerMember(key: string, member: string, value: unknown, tags: readonly string[], ticket: number): void;
  /** Drops every entry carrying one of the tags, here at once and (through the bus) in every other instance. */
  invalidate(tags: readonly string[]): void;
  stats(): CacheStats;
  close(): Promise<void>;
}

export interface CacheStats {
  hits: number;
  misses: number;
  entries: number;
  /** Approximate bytes the entries hold (their JSON length). */
  bytes: number;
  invalidations: number;
}

/**
 * Carries invalidations between instances that share a database: across the processes of one
 * machine (node:cluster) or across machines (Redis pub/sub). `publish` is fire-and-forget: a
 * lost message can only make another instance serve a stale read for the entry's lifetime,
 * which is bounded by the cache's TTL.
 */
export interface InvalidationBus {
  readonly name: string;
  publish(tags: readonly string[]): void;
  subscribe(onTags: (tags: readonly string[]) => void): void;
  close(): Promise<void>;
}
