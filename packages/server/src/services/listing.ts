import { parseFilter } from '../domain/filter.js';
import { type ORDER_FIELDS, parseOrderBy } from '../domain/listing.js';
import { type PageTokenCodec, pageSize } from '../domain/page-token.js';
import type { Page } from '../domain/resources.js';
import type { Listed, ListQuery } from '../ports/repositories.js';
import type { ListRequest } from './context.js';

/**
 * The one way every list works: parse filter and order, decode the page token (bound to the
 * query), fetch one row more than asked to know whether a next page exists, sign the next token.
 */
export async function listPage<T>(
  tokens: PageTokenCodec,
  resource: keyof typeof ORDER_FIELDS,
  scope: string,
  request: ListRequest,
  fetch: (query: ListQuery) => Promise<Listed<T>[]>,
): Promise<Page<T>> {
  const limit = pageSize(request.page_size);
  const orderBy = parseOrderBy(request.order_by, resource);
  const filter = parseFilter(request.filter ?? '');
  const fingerprint = JSON.stringify([
    resource,
    scope,
    request.filter?.trim() ?? '',
    orderBy.field,
    orderBy.desc,
  ]);
  const after = request.page_token ? tokens.decode(fingerprint, request.page_token) : null;
  const rows = await fetch({ filter, orderBy, after, limit: limit + 1 });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => r.item),
    next_page_token: rows.length > limit && last ? tokens.encode(fingerprint, last.keyset) : '',
  };
}
