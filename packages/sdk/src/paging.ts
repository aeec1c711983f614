import type { Page } from './types.js';

/**
 * Walks every page of a list, yielding items one by one and fetching the next page only
 * when the previous one is used up. `fetchPage` receives the page token: `startToken` (to
 * resume where an earlier listing stopped) or undefined first, then each `next_page_token`.
 *
 * @example
 * ```ts
 * const all = paginate((page_token) => client.versions.history('fraud', 'scorer', 3, { page_token }));
 * for await (const entry of all) console.log(entry.kind, entry.time);
 * ```
 */
export async function* paginate<T>(
  fetchPage: (pageToken: string | undefined) => Promise<Page<T>>,
  startToken?: string,
): AsyncGenerator<T, void, undefined> {
  let token = startToken || undefined;
  do {
    const page = await fetchPage(token);
    yield* page.items;
    token = page.next_page_token || undefined;
  } while (token !== undefined);
}

/**
 * Collects an async iterable into an array, stopping after `limit` items when given.
 *
 * @example
 * ```ts
 * const first500 = await collect(client.models.iterate('fraud'), 500);
 * ```
 */
export async function collect<T>(items: AsyncIterable<T>, limit = Number.POSITIVE_INFINITY): Promise<T[]> {
  const out: T[] = [];
  if (limit <= 0) return out;
  for await (const item of items) {
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}

/**
 * What a `list` method returns: the first page when awaited, and every item of every page
 * when iterated with `for await`. The first page is requested at once; iterating yields its
 * items, then fetches the following pages one at a time as they are used up.
 *
 * @example
 * ```ts
 * const page = await client.models.list('fraud', { page_size: 100 }); // one page: items, next_page_token
 * for await (const model of client.models.list('fraud', { filter: 'labels.team = "risk"' })) {
 *   console.log(model.name); // every matching model, page after page
 * }
 * ```
 */
export type Listing<T> = Promise<Page<T>> & AsyncIterable<T>;

/**
 * Builds a {@link Listing} from a page fetcher and the token to start from (what every `list`
 * method returns; useful for a custom transport's own lists).
 *
 * @example
 * ```ts
 * const all = listing((page_token) => client.versions.history('fraud', 'scorer', 3, { page_token }), undefined);
 * for await (const entry of all) console.log(entry.kind);
 * ```
 */
export function listing<T>(
  fetchPage: (pageToken: string | undefined) => Promise<Page<T>>,
  startToken: string | undefined,
): Listing<T> {
  const first = fetchPage(startToken || undefined);
  return Object.assign(first, {
    async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
      const page = await first;
      yield* page.items;
      if (page.next_page_token) yield* paginate(fetchPage, page.next_page_token);
    },
  });
}
