import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { Answer, Client } from '../support/api.js';

/** An id no other test in the file uses, so tests can share one database. */
export function uniqueId(prefix = 't'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The fields every stored resource carries (AIP-148): name, uid, create/update time, etag. */
export function expectResourceMeta(resource: any, name: string) {
  expect(resource.name).toBe(name);
  expect(typeof resource.uid).toBe('string');
  expect(resource.uid.length).toBeGreaterThan(0);
  for (const field of ['create_time', 'update_time']) {
    expect(resource[field], field).toMatch(RFC3339);
    expect(Number.isNaN(Date.parse(resource[field])), field).toBe(false);
  }
  expect(Date.parse(resource.update_time)).toBeGreaterThanOrEqual(Date.parse(resource.create_time));
  expect(typeof resource.etag).toBe('string');
  expect(resource.etag.length).toBeGreaterThan(0);
}

export function expectRfc3339(value: unknown) {
  expect(value).toMatch(RFC3339);
}

/** Every page of a list, following next_page_token; `between` runs after each page but the last. */
export async function walkPages(
  api: Client,
  url: string,
  field: string,
  options: { pageSize: number; between?: (page: number) => Promise<void>; maxPages?: number },
): Promise<{ items: any[]; pages: number }> {
  const items: any[] = [];
  let token = '';
  let pages = 0;
  const sep = url.includes('?') ? '&' : '?';
  do {
    const tokenPart = token ? `&page_token=${encodeURIComponent(token)}` : '';
    const res: Answer = await api.get(`${url}${sep}page_size=${options.pageSize}${tokenPart}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body[field].length).toBeLessThanOrEqual(options.pageSize);
    items.push(...res.body[field]);
    token = res.body.next_page_token;
    pages++;
    if (pages > (options.maxPages ?? 1000)) throw new Error(`more than ${options.maxPages ?? 1000} pages`);
    if (token && options.between) await options.between(pages);
  } while (token);
  return { items, pages };
}

/** A query-string piece with its value URL-encoded. */
export function q(params: Record<string, string | number>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');
}

/** Nested objects `n` levels deep: `{a:{a:…{a:1}}}`. */
export function nested(levels: number): Record<string, unknown> {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value as Record<string, unknown>;
}
