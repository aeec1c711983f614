import { CLIENT_REASONS, errorFromResponse, QuiverError } from './errors.js';
import type { AttemptOptions, MethodInput, MethodName, MethodOutput, Transport } from './transport.js';
import type { ListRequest, PageRequest, VersionRef } from './types.js';

/** The part of `fetch` the SDK uses; `globalThis.fetch` (Node ≥ 20, browsers) fits. */
export type FetchLike = (url: string, init: FetchInit) => Promise<ResponseLike>;

export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

export interface ResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** A bearer token, or a function that returns the current one (e.g. a refreshed OIDC token). */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

export interface RestTransportOptions {
  /** Root URL of the server, e.g. `http://127.0.0.1:8080` (`/v1` is appended). */
  baseUrl: string;
  token?: TokenSource | undefined;
  /** Defaults to `globalThis.fetch`. */
  fetch?: FetchLike | undefined;
  /** Sent as `User-Agent` (browsers may drop it). */
  userAgent?: string | undefined;
  /** Extra headers sent with every request. */
  headers?: Record<string, string> | undefined;
}

interface HttpCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** The JSON key holding the items of a list answer (`models`, `versions`, …). */
  list?: string;
}

/** Path segments are encoded, but `@` stays readable: `versions/@champion`. */
const seg = (s: string | number) => encodeURIComponent(String(s)).replace(/^%40/, '@');
const ns = (namespace: string) => `/namespaces/${seg(namespace)}`;
const model = (i: { namespace: string; model: string }) => `${ns(i.namespace)}/models/${seg(i.model)}`;
const version = (i: { namespace: string; model: string; version: VersionRef }) =>
  `${model(i)}/versions/${seg(i.version)}`;
const listQuery = (i: ListRequest) => ({
  page_size: i.page_size,
  page_token: i.page_token,
  filter: i.filter,
  order_by: i.order_by,
});
const pageQuery = (i: PageRequest) => ({ page_size: i.page_size, page_token: i.page_token });

/** The REST mapping of every method: one line each, mirroring the server's routes. */
const ROUTES: { [M in MethodName]: (input: MethodInput<M>) => HttpCall } = {
  CreateNamespace: (i) => ({ method: 'POST', path: '/namespaces', body: i }),
  GetNamespace: (i) => ({ method: 'GET', path: ns(i.namespace) }),
  ListNamespaces: (i) => ({ method: 'GET', path: '/namespaces', query: listQuery(i), list: 'namespaces' }),
  CreateModel: ({ namespace, ...body }) => ({ method: 'POST', path: `${ns(namespace)}/models`, body }),
  GetModel: (i) => ({ method: 'GET', path: model(i) }),
  ListModels: (i) => ({
    method: 'GET',
    path: `${ns(i.namespace)}/models`,
    query: listQuery(i),
    list: 'models',
  }),
  UpdateModel: ({ namespace, model: m, ...body }) => ({
    method: 'PATCH',
    path: model({ namespace, model: m }),
    body,
  }),
  DeleteModel: (i) => ({ method: 'DELETE', path: model(i), query: { force: i.force || undefined } }),
  CreateVersion: ({ namespace, model: m, ...body }) => ({
    method: 'POST',
    path: `${model({ namespace, model: m })}/versions`,
    body,
  }),
  GetVersion: (i) => ({ method: 'GET', path: version(i) }),
  ListVersions: (i) => ({
    method: 'GET',
    path: `${model(i)}/versions`,
    query: listQuery(i),
    list: 'versions',
  }),
  UpdateVersion: ({ namespace, model: m, version: v, ...body }) => ({
    method: 'PATCH',
    path: version({ namespace, model: m, version: v }),
    body,
  }),
  TransitionVersion: ({ namespace, model: m, version: v, ...body }) => ({
    method: 'POST',
    path: `${version({ namespace, model: m, version: v })}:transition`,
    body,
  }),
  GetVersionHistory: (i) => ({
    method: 'GET',
    path: `${version(i)}/history`,
    query: pageQuery(i),
    list: 'history',
  }),
  BatchGetVersions: (i) => ({ method: 'POST', path: '/versions:batchGet', body: { names: i.names } }),
  SetAlias: (i) => ({
    method: 'PUT',
    path: `${model(i)}/aliases/${seg(i.alias)}`,
    body: { version: i.version },
  }),
  UnsetAlias: (i) => ({ method: 'DELETE', path: `${model(i)}/aliases/${seg(i.alias)}` }),
};

/**
 * The REST transport: one `fetch` per attempt against the `/v1` API. It uses only `fetch`,
 * so it runs in Node ≥ 20, browsers, Deno, Bun and workers.
 *
 * @example
 * ```ts
 * const client = createClient({ transport: restTransport({ baseUrl: 'http://127.0.0.1:8080' }) });
 * ```
 */
export function restTransport(options: RestTransportOptions): Transport {
  const root = options.baseUrl.replace(/\/+$/, '');
  const api = root.endsWith('/v1') ? root : `${root}/v1`;
  const doFetch: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  return {
    async call<M extends MethodName>(
      method: M,
      input: MethodInput<M>,
      attempt: AttemptOptions,
    ): Promise<MethodOutput<M>> {
      const route = ROUTES[method](input);
      const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
      if (options.userAgent) headers['user-agent'] = options.userAgent;
      const token = typeof options.token === 'function' ? await options.token() : options.token;
      if (token) headers.authorization = `Bearer ${token}`;
      if (attempt.idempotencyKey) headers['idempotency-key'] = attempt.idempotencyKey;
      if (attempt.ifMatch) headers['if-match'] = attempt.ifMatch;
      const init: FetchInit = { method: route.method, headers, signal: attempt.signal };
      if (route.body !== undefined) {
        headers['content-type'] = 'application/json';
        init.body = JSON.stringify(route.body);
      }
      const url = api + route.path + queryString(route.query);
      let status: number;
      let text: string;
      let requestId: string | null;
      try {
        const res = await doFetch(url, init);
        status = res.status;
        requestId = res.headers.get('x-request-id');
        text = await res.text();
      } catch (err) {
        if (attempt.signal.aborted) throw err;
        throw networkError(root, err);
      }
      if (status < 200 || status > 299) throw errorFromResponse(status, text, requestId);
      if (status === 204 || text === '') return undefined as MethodOutput<M>;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new QuiverError('INTERNAL', `${method}: the server answered with invalid JSON.`, {
          details: { reason: CLIENT_REASONS.MALFORMED_RESPONSE },
          requestId: requestId ?? undefined,
          httpStatus: status,
          cause: err,
        });
      }
      if (route.list === undefined) return json as MethodOutput<M>;
      const page = json as Record<string, unknown>;
      return {
        items: (page[route.list] ?? []) as unknown[],
        next_page_token: typeof page.next_page_token === 'string' ? page.next_page_token : '',
      } as MethodOutput<M>;
    },
  };
}

function queryString(query: HttpCall['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** fetch rejects with a bare `TypeError('fetch failed')`; the useful part (ECONNREFUSED, …) is its cause. */
function networkError(root: string, err: unknown): QuiverError {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const why =
    typeof cause?.code === 'string'
      ? cause.code
      : typeof cause?.message === 'string'
        ? cause.message
        : err instanceof Error
          ? err.message
          : String(err);
  return new QuiverError('UNAVAILABLE', `Cannot reach ${root}: ${why}.`, {
    details: { reason: CLIENT_REASONS.NETWORK_ERROR, url: root, cause: why },
    cause: err,
  });
}
