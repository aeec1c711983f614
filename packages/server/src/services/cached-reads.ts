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
  /** Versions are keyed by resource name, so that a batch read looks a name up as it came, unparsed. */
  version: (ns: string, model: string, ref: string) => `version ${versionPath(ns, model, ref)}`,
  versionByName: (name: string) => `version ${name}`,
  /** A version's status view alone (what batch status reads fill; a tenth of a version's size). */
  status: (ns: string, model: string, ref: string) => `status ${versionPath(ns, model, ref)}`,
  statusByName: (name: string) => `status ${name}`,
  modelList: (ns: string, request: object) => `models ${ns} ${JSON.stringify(request)}`,
} as const;

const versionPath = (ns: string, model: string, ref: string) =>
  `namespaces/${ns}/models/${model}/versions/${ref}`;

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
