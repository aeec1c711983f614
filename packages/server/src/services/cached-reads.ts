import type { ReadCache } from '../ports/cache.js';
import type { CallContext } from './context.js';
import type { Mutation, MutationObserver } from './mutations.js';

/**
 * The read cache's vocabulary: which keys hold which reads, and which tags a change drops.
 * A model carries its tag and its namespace's; its versions (and their statuses) carry the tag of
 * the model's versions and the namespace's; a list carries the tag of the lists of its namespace.
 * A change to anything under a model drops the model, its versions and the lists of its
 * namespace, except that registering a new version leaves the other versions alone (nothing of
 * theirs changes: not their status, aliases or labels); a change to a namespace drops everything
 * in it.
 */
export const cacheTags = {
  namespace: (ns: string) => `n:${ns}`,
  model: (ns: string, model: string) => `m:${ns}/${model}`,
  versions: (ns: string, model: string) => `v:${ns}/${model}`,
  lists: (ns: string) => `l:${ns}`,
  /** Lists across every namespace (`namespaces/-/models`). */
  allLists: 'l:-',
} as const;

export const cacheKeys = {
  model: (ns: string, model: string) => `model ${ns}/${model}`,
  /**
   * A model's versions are one cache group (members: `3`, `@champion`), keyed by the model's
   * resource name, so that a batch read finds a version name as it came, cut but unparsed.
   */
  versions: (ns: string, model: string) => `version namespaces/${ns}/models/${model}`,
  /** The status views alone of a model's versions (what batch status reads fill; a tenth of a version's size). */
  statuses: (ns: string, model: string) => `status namespaces/${ns}/models/${model}`,
  modelList: (ns: string, request: object) => `models ${ns} ${JSON.stringify(request)}`,
} as const;

/** Actions that only add to a model: its existing versions stay as they were. */
const ADDS_A_VERSION = new Set(['CreateVersion']);

/** The tags a committed change (`action`) to `resource` invalidates. */
export function tagsOfChange(resource: string, action?: string): string[] {
  const parts = resource.split('/');
  if (parts[0] !== 'namespaces' || parts[1] === undefined) return [];
  const ns = parts[1];
  if (parts.length === 2) return [cacheTags.namespace(ns), cacheTags.lists(ns), cacheTags.allLists];
  if (parts[2] === 'models' && parts[3] !== undefined) {
    const model = parts[3];
    const tags = [cacheTags.model(ns, model), cacheTags.lists(ns), cacheTags.allLists];
    // A new version changes the model (latest_version) and lists, never the versions already cached.
    if (action === undefined || !ADDS_A_VERSION.has(action) || parts.length > 4)
      tags.push(cacheTags.versions(ns, model));
    return tags;
  }
  return [];
}

/** Drops what a committed change made stale, here and (through the cache's bus) everywhere else. */
export function cacheInvalidation(cache: ReadCache): MutationObserver {
  return {
    committed(_ctx: CallContext, mutation: Mutation) {
      cache.invalidate(tagsOfChange(mutation.resource, mutation.action));
    },
  };
}

/** A read through the cache: the cached value, or `load`'s, kept under `tags` unless a change overtook it. */
export async function cachedRead<T>(
  cache: ReadCache,
  key: string,
  tags: readonly string[],
  load: () => Promise<T>,
): Promise<T> {
  if (!cache.enabled) return load();
  const hit = cache.get<T>(key);
  if (hit !== undefined) return hit;
  const ticket = cache.ticket();
  const value = await load();
  cache.set(key, value, tags, ticket);
  return value;
}

/**
 * A version name as it came, cut into the cache group of its model (`prefix` + the model's name)
 * and its member (the part after `/versions/`), without checking it: only well-formed names are
 * ever cached, so a name that is not one simply misses. Undefined when it cannot be a version name.
 */
export function versionMember(
  name: string,
  prefix: 'version' | 'status',
): { key: string; member: string } | undefined {
  const cut = typeof name === 'string' ? name.lastIndexOf('/versions/') : -1;
  if (cut < 0) return undefined;
  return { key: `${prefix} ${name.slice(0, cut)}`, member: name.slice(cut + 10) };
}

/** `cachedRead` for a member of a cache group. */
export async function cachedMember<T>(
  cache: ReadCache,
  key: string,
  member: string,
  tags: readonly string[],
  load: () => Promise<T>,
): Promise<T> {
  if (!cache.enabled) return load();
  const hit = cache.getMember<T>(key, member);
  if (hit !== undefined) return hit;
  const ticket = cache.ticket();
  const value = await load();
  cache.setMember(key, member, value, tags, ticket);
  return value;
}
