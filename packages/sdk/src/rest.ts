import { CLIENT_REASONS, errorFromEnvelope, errorFromResponse, QuiverError } from './errors.js';
import { bytesStream, relay, requestStreamsSupported, serverSentEvents, textLines } from './streams.js';
import { inferRequestJson, inferResponseFromJson } from './tensors.js';
import type { AttemptOptions, MethodInput, MethodName, MethodOutput, Transport } from './transport.js';
import type {
  Artifact,
  ArtifactDownload,
  AuditEvent,
  AuditEventsFilter,
  AuditVerification,
  ByteRange,
  ListRequest,
  Operation,
  PageRequest,
  UploadArtifactRequest,
  VersionRef,
} from './types.js';

/** The part of `fetch` the SDK uses; `globalThis.fetch` (Node ≥ 20, browsers) fits. */
export type FetchLike = (url: string, init: FetchInit) => Promise<ResponseLike>;

export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  /** JSON text for API calls; bytes (or a stream of them) for artifact uploads. */
  body?: string | Blob | Uint8Array | ReadableStream<Uint8Array>;
  /** Set with a stream body, which `fetch` only sends with it. */
  duplex?: 'half';
  /**
   * `'error'` with a stream body: a stream cannot be replayed to follow a redirect, and Node's
   * fetch, to be able to, keeps a copy of every chunk sent (the whole upload in memory).
   */
  redirect?: 'error';
  signal: AbortSignal;
}

export interface ResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  /** The body as a stream; only downloads and watches read it. */
  body?: ReadableStream<Uint8Array> | null;
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
  /**
   * Send upload bodies as streams (`duplex: 'half'`), with progress as the bytes go out.
   * Default: when the runtime's fetch can (Node, Deno, Chromium over HTTP/2). Without it a
   * Blob or Uint8Array is sent as it is, and a stream is first read into a Blob.
   */
  streamingUploads?: boolean | undefined;
}

interface HttpCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** The JSON key holding the items of a list answer (`models`, `versions`, …). */
  list?: string;
  /** The path is under the server root rather than `/v1` (the `/v2` inference API). */
  root?: true;
  /** Turns the JSON answer into the method's output. */
  decode?: (json: unknown) => unknown;
}

/** Methods whose body or answer is not one JSON document: the transport handles them one by one. */
type StreamMethod =
  | 'UploadArtifact'
  | 'GetArtifact'
  | 'DownloadArtifact'
  | 'WatchOperation'
  | 'ExportAuditEvents'
  | 'VerifyAuditLog';
type JsonMethod = Exclude<MethodName, StreamMethod>;

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
/** `fraud-prod` or `deployments/fraud-prod`. */
const deployment = (name: string) => `/deployments/${seg(name.replace(/^deployments\//, ''))}`;
/** `0193…` or `operations/0193…`. */
const operation = (name: string) => `/operations/${seg(name.replace(/^operations\//, ''))}`;
/** `ci-bot` or `principals/ci-bot`. */
const principal = (name: string) => `/principals/${seg(name.replace(/^principals\//, ''))}`;
const artifact = (digest: string) => `/artifacts/${seg(digest)}`;
const dataset = (i: { namespace: string; dataset: string }) =>
  `${ns(i.namespace)}/datasets/${seg(i.dataset)}`;
const run = (i: { namespace: string; run: string }) => `${ns(i.namespace)}/runs/${seg(i.run)}`;
const auditFilter = (i: AuditEventsFilter) => ({
  principal: i.principal,
  resource: i.resource,
  action: i.action,
  outcome: i.outcome,
  since: i.since,
  until: i.until,
});

/** The REST mapping of every method: one line each, mirroring the server's routes. */
const ROUTES: { [M in JsonMethod]: (input: MethodInput<M>) => HttpCall } = {
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
  BatchGetVersionStatus: (i) => ({
    method: 'POST',
    path: '/versions:batchGetStatus',
    body: { names: i.names },
  }),
  SetAlias: (i) => ({
    method: 'PUT',
    path: `${model(i)}/aliases/${seg(i.alias)}`,
    body: { version: i.version },
  }),
  UnsetAlias: (i) => ({ method: 'DELETE', path: `${model(i)}/aliases/${seg(i.alias)}` }),
  CreateDeployment: (body) => ({ method: 'POST', path: '/deployments', body }),
  GetDeployment: (i) => ({ method: 'GET', path: deployment(i.deployment) }),
  ListDeployments: (i) => ({ method: 'GET', path: '/deployments', query: pageQuery(i), list: 'deployments' }),
  UpdateDeployment: ({ deployment: d, ...body }) => ({ method: 'PATCH', path: deployment(d), body }),
  DeleteDeployment: (i) => ({ method: 'DELETE', path: deployment(i.deployment) }),
  BatchGetDeployments: (i) => ({ method: 'POST', path: '/deployments:batchGet', body: { names: i.names } }),
  GetOperation: (i) => ({ method: 'GET', path: operation(i.operation) }),
  ListAuditEvents: (i) => ({
    method: 'GET',
    path: '/audit/events',
    query: { ...auditFilter(i), order_by: i.order_by, ...pageQuery(i) },
    list: 'events',
  }),
  GetAuditPublicKey: () => ({ method: 'GET', path: '/audit/public-key' }),
  ListAuditCheckpoints: (i) => ({
    method: 'GET',
    path: '/audit/checkpoints',
    query: pageQuery(i),
    list: 'checkpoints',
  }),
  CreateAuditCheckpoint: () => ({ method: 'POST', path: '/audit:checkpoint', body: {} }),
  WhoAmI: () => ({ method: 'GET', path: '/whoami' }),
  GetAuthConfig: () => ({ method: 'GET', path: '/auth/config' }),
  CreatePrincipal: (i) => ({ method: 'POST', path: '/principals', body: i }),
  GetPrincipal: (i) => ({ method: 'GET', path: principal(i.principal) }),
  ListPrincipals: (i) => ({ method: 'GET', path: '/principals', query: pageQuery(i), list: 'principals' }),
  UpdatePrincipal: ({ principal: p, ...body }) => ({ method: 'PATCH', path: principal(p), body }),
  CreateToken: ({ principal: p, ...body }) => ({ method: 'POST', path: `${principal(p)}/tokens`, body }),
  ListTokens: (i) => ({
    method: 'GET',
    path: `${principal(i.principal)}/tokens`,
    query: pageQuery(i),
    list: 'tokens',
  }),
  RevokeToken: (i) => ({
    method: 'POST',
    path: `${principal(i.principal)}/tokens/${seg(i.token)}:revoke`,
    body: {},
  }),
  ListRoles: () => ({ method: 'GET', path: '/roles', list: 'roles' }),
  GetRole: (i) => ({ method: 'GET', path: `/roles/${seg(i.role.replace(/^roles\//, ''))}` }),
  CreateRole: (i) => ({ method: 'POST', path: '/roles', body: i }),
  UpdateRole: ({ role, ...body }) => ({
    method: 'PATCH',
    path: `/roles/${seg(role.replace(/^roles\//, ''))}`,
    body,
  }),
  DeleteRole: (i) => ({ method: 'DELETE', path: `/roles/${seg(i.role.replace(/^roles\//, ''))}` }),
  CreateRoleBinding: (i) => ({ method: 'POST', path: '/roleBindings', body: i }),
  ListRoleBindings: (i) => ({
    method: 'GET',
    path: '/roleBindings',
    query: { member: i.member, scope: i.scope, role: i.role, ...pageQuery(i) },
    list: 'role_bindings',
  }),
  DeleteRoleBinding: (i) => ({
    method: 'DELETE',
    path: `/roleBindings/${seg(i.binding.replace(/^roleBindings\//, ''))}`,
  }),
  GetNamespacePolicy: (i) => ({ method: 'GET', path: `${ns(i.namespace)}/policy` }),
  UpdateNamespacePolicy: ({ namespace, ...body }) => ({
    method: 'PATCH',
    path: `${ns(namespace)}/policy`,
    body,
  }),
  CreateDataset: ({ namespace, ...body }) => ({ method: 'POST', path: `${ns(namespace)}/datasets`, body }),
  GetDataset: (i) => ({ method: 'GET', path: dataset(i) }),
  ListDatasets: (i) => ({
    method: 'GET',
    path: `${ns(i.namespace)}/datasets`,
    query: listQuery(i),
    list: 'datasets',
  }),
  CreateDatasetVersion: ({ namespace, dataset: d, ...body }) => ({
    method: 'POST',
    path: `${dataset({ namespace, dataset: d })}/versions`,
    body,
  }),
  GetDatasetVersion: (i) => ({ method: 'GET', path: `${dataset(i)}/versions/${seg(i.version)}` }),
  ListDatasetVersions: (i) => ({
    method: 'GET',
    path: `${dataset(i)}/versions`,
    query: pageQuery(i),
    list: 'versions',
  }),
  GetDatasetLineage: (i) => ({
    method: 'GET',
    path: `${dataset(i)}/versions/${seg(i.version)}/lineage`,
    query: { direction: i.direction, depth: i.depth },
  }),
  CreateRun: ({ namespace, ...body }) => ({ method: 'POST', path: `${ns(namespace)}/runs`, body }),
  GetRun: (i) => ({ method: 'GET', path: run(i) }),
  ListRuns: (i) => ({ method: 'GET', path: `${ns(i.namespace)}/runs`, query: listQuery(i), list: 'runs' }),
  UpdateRun: ({ namespace, run: r, ...body }) => ({
    method: 'PATCH',
    path: run({ namespace, run: r }),
    body,
  }),
  RecordLineage: ({ namespace, model: m, version: v, ...body }) => ({
    method: 'POST',
    path: `${version({ namespace, model: m, version: v })}:recordLineage`,
    body,
  }),
  GetLineage: (i) => ({
    method: 'GET',
    path: `${version(i)}/lineage`,
    query: { direction: i.direction, depth: i.depth },
  }),
  ExportOpenLineage: (i) => ({ method: 'GET', path: `${version(i)}/lineage:openlineage` }),
  GetVersionTimeline: (i) => ({
    method: 'GET',
    path: `${version(i)}/timeline`,
    query: pageQuery(i),
    list: 'entries',
  }),
  ModelInfer: (i) => ({
    method: 'POST',
    root: true,
    path: `/v2/models/${seg(i.deployment.replace(/^deployments\//, ''))}${i.version === undefined ? '' : `/versions/${seg(i.version)}`}/infer`,
    body: inferRequestJson(i),
    decode: inferResponseFromJson,
  }),
};

/**
 * The REST transport: one `fetch` per attempt against the `/v1` API (and `/v2` for inference).
 * It uses only `fetch` and Web Streams, so it runs in Node ≥ 20, browsers, Deno, Bun and workers.
 *
 * @example
 * ```ts
 * const client = createClient({ transport: restTransport({ baseUrl: 'http://127.0.0.1:8080' }) });
 * ```
 */
export function restTransport(options: RestTransportOptions): Transport {
  const root = options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  const api = `${root}/v1`;
  const doFetch: FetchLike =
    options.fetch ?? ((url, init) => globalThis.fetch(url, init as RequestInit) as Promise<ResponseLike>);

  const headersFor = (
    attempt: AttemptOptions,
    accept: string,
    token: string | undefined,
  ): Record<string, string> => {
    const headers: Record<string, string> = { accept, ...options.headers };
    if (options.userAgent) headers['user-agent'] = options.userAgent;
    if (token) headers.authorization = `Bearer ${token}`;
    if (attempt.idempotencyKey) headers['idempotency-key'] = attempt.idempotencyKey;
    if (attempt.ifMatch) headers['if-match'] = attempt.ifMatch;
    return headers;
  };

  /** One fetch; a failure without an answer becomes `UNAVAILABLE` (unless the attempt was aborted). */
  const send = async (url: string, init: FetchInit): Promise<ResponseLike> => {
    init.signal.throwIfAborted(); // aborted while the token was read: send nothing
    try {
      return await doFetch(url, init);
    } catch (err) {
      if (init.signal.aborted) throw err;
      // A request body stream that failed (a wrong size, a file that could not be read) is the cause.
      const cause = (err as { cause?: unknown } | undefined)?.cause;
      if (cause instanceof QuiverError) throw cause;
      throw networkError(root, err);
    }
  };

  /** The body text of an answer; a connection lost while reading it is `UNAVAILABLE`. */
  const read = async (res: ResponseLike, signal: AbortSignal): Promise<string> => {
    try {
      return await res.text();
    } catch (err) {
      if (signal.aborted) throw err;
      throw networkError(root, err);
    }
  };

  /** Throws the error of a non-2xx answer. */
  const check = async (res: ResponseLike, signal: AbortSignal): Promise<void> => {
    if (res.status >= 200 && res.status <= 299) return;
    throw errorFromResponse(res.status, await read(res, signal), res.headers.get('x-request-id'));
  };

  const json = (method: string, res: ResponseLike, text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw malformed(method, res, 'invalid JSON', err);
    }
  };

  /** A byte stream whose failed reads surface as QuiverErrors. */
  const guarded = (body: ReadableStream<Uint8Array>, signal: AbortSignal) =>
    relay(body, { mapError: (err) => (signal.aborted ? err : networkError(root, err)) });

  const bodyOf = (method: string, res: ResponseLike): ReadableStream<Uint8Array> => {
    if (!res.body) throw malformed(method, res, 'no body stream (the fetch in use does not expose one)');
    return res.body;
  };

  const exportAuditEvents = async (
    input: MethodInput<'ExportAuditEvents'>,
    attempt: AttemptOptions,
  ): Promise<AsyncIterable<AuditEvent>> => {
    const token = typeof options.token === 'function' ? await options.token() : options.token;
    const headers = headersFor(attempt, 'application/x-ndjson', token);
    const url = `${api}/audit/events:export${queryString(auditFilter(input))}`;
    const res = await send(url, { method: 'GET', headers, signal: attempt.signal });
    await check(res, attempt.signal);
    const lines = textLines(guarded(bodyOf('ExportAuditEvents', res), attempt.signal));
    return (async function* () {
      for await (const line of lines) {
        try {
          yield JSON.parse(line) as AuditEvent;
        } catch (err) {
          throw malformed('ExportAuditEvents', res, 'a line that is not JSON', err);
        }
      }
    })();
  };

  const verifyAuditLog = async (
    input: MethodInput<'VerifyAuditLog'>,
    attempt: AttemptOptions,
  ): Promise<AuditVerification> => {
    const token = typeof options.token === 'function' ? await options.token() : options.token;
    const headers = headersFor(attempt, 'text/event-stream', token);
    const res = await send(`${api}/audit:verify`, { method: 'GET', headers, signal: attempt.signal });
    await check(res, attempt.signal);
    const requestId = res.headers.get('x-request-id') ?? undefined;
    try {
      for await (const e of serverSentEvents(bodyOf('VerifyAuditLog', res))) {
        const payload = JSON.parse(e.data) as unknown;
        if (e.event === 'progress') {
          const p = payload as { events_checked: number; total: number };
          input.onProgress?.(p.events_checked, p.total);
        } else if (e.event === 'result') return payload as AuditVerification;
        else if (e.event === 'error') throw errorFromEnvelope(payload, requestId);
      }
    } catch (err) {
      if (err instanceof QuiverError || attempt.signal.aborted) throw err;
      if (err instanceof SyntaxError)
        throw malformed('VerifyAuditLog', res, 'an event that is not JSON', err);
      throw networkError(root, err);
    }
    throw malformed('VerifyAuditLog', res, 'a stream that ended without a result');
  };

  const special: {
    [M in StreamMethod]: (input: MethodInput<M>, attempt: AttemptOptions) => Promise<MethodOutput<M>>;
  } = {
    async UploadArtifact(input, attempt) {
      const token = typeof options.token === 'function' ? await options.token() : options.token;
      const headers = headersFor(attempt, 'application/json', token);
      headers['content-type'] = input.media_type || 'application/octet-stream';
      if (input.digest) headers['x-quiver-digest'] = input.digest;
      const init: FetchInit = { method: 'POST', headers, signal: attempt.signal };
      const upload = await uploadBody(input, options.streamingUploads ?? requestStreamsSupported());
      init.body = upload.body;
      if (upload.stream) {
        init.duplex = 'half';
        init.redirect = 'error';
        if (upload.total !== undefined) headers['content-length'] = String(upload.total);
      }
      const res = await send(`${api}/artifacts`, init);
      await check(res, attempt.signal);
      const stored = json('UploadArtifact', res, await read(res, attempt.signal)) as Artifact;
      upload.finished(stored.size_bytes);
      return stored;
    },

    async GetArtifact(input, attempt) {
      const url = api + artifact(input.digest);
      const token = typeof options.token === 'function' ? await options.token() : options.token;
      const headers = headersFor(attempt, '*/*', token);
      const head = await send(url, { method: 'HEAD', headers, signal: attempt.signal });
      if (head.status === 200) return artifactFrom(head, input.digest, 'GetArtifact');
      // A HEAD answer has no body, so no error envelope: ask again with GET to hear why.
      headers.accept = 'application/json';
      headers.range = 'bytes=0-0';
      const res = await send(url, { method: 'GET', headers, signal: attempt.signal });
      await check(res, attempt.signal);
      await res.body?.cancel().catch(() => {});
      const sized = /\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
      return {
        ...artifactFrom(res, input.digest, 'GetArtifact'),
        ...(sized ? { size_bytes: Number(sized[1]) } : {}),
      };
    },

    async DownloadArtifact(input, attempt) {
      const token = typeof options.token === 'function' ? await options.token() : options.token;
      const headers = headersFor(attempt, '*/*', token);
      if (input.range) headers.range = rangeHeader(input.range);
      const res = await send(api + artifact(input.digest), {
        method: 'GET',
        headers,
        signal: attempt.signal,
      });
      await check(res, attempt.signal);
      const body = guarded(bodyOf('DownloadArtifact', res), attempt.signal);
      const described = artifactFrom(res, input.digest, 'DownloadArtifact');
      const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
      const download: ArtifactDownload =
        res.status === 206 && range
          ? {
              ...described,
              size_bytes: Number(range[3]),
              start: Number(range[1]),
              end: Number(range[2]),
              partial: true,
              body,
            }
          : { ...described, start: 0, end: described.size_bytes - 1, partial: false, body };
      return download;
    },

    async WatchOperation(input, attempt) {
      const token = typeof options.token === 'function' ? await options.token() : options.token;
      const headers = headersFor(attempt, 'text/event-stream', token);
      const res = await send(`${api}${operation(input.operation)}:watch`, {
        method: 'GET',
        headers,
        signal: attempt.signal,
      });
      await check(res, attempt.signal);
      const requestId = res.headers.get('x-request-id') ?? undefined;
      const events = serverSentEvents(bodyOf('WatchOperation', res));
      const signal = attempt.signal;
      return (async function* () {
        try {
          for await (const e of events) {
            if (e.event === 'operation') {
              let op: Operation;
              try {
                op = JSON.parse(e.data) as Operation;
              } catch (err) {
                throw malformed('WatchOperation', res, 'an event that is not JSON', err);
              }
              yield op;
            } else if (e.event === 'error') {
              let payload: unknown;
              try {
                payload = JSON.parse(e.data);
              } catch {
                payload = e.data;
              }
              throw errorFromEnvelope(payload, requestId);
            }
          }
        } catch (err) {
          if (err instanceof QuiverError || signal.aborted) throw err;
          throw networkError(root, err);
        }
      })();
    },

    ExportAuditEvents: exportAuditEvents,
    VerifyAuditLog: verifyAuditLog,
  };

  return {
    async call<M extends MethodName>(
      method: M,
      input: MethodInput<M>,
      attempt: AttemptOptions,
    ): Promise<MethodOutput<M>> {
      if (method in special) {
        const handler = special[method as StreamMethod] as (
          input: MethodInput<M>,
          attempt: AttemptOptions,
        ) => Promise<MethodOutput<M>>;
        return handler(input, attempt);
      }
      const route = (ROUTES[method as JsonMethod] as (input: MethodInput<M>) => HttpCall)(input);
      // Awaited only when the token comes from a function, so a call with a fixed token is sent at once.
      const token = typeof options.token === 'function' ? await options.token() : options.token;
      const headers = headersFor(attempt, 'application/json', token);
      const init: FetchInit = { method: route.method, headers, signal: attempt.signal };
      if (route.body !== undefined) {
        headers['content-type'] = 'application/json';
        init.body = JSON.stringify(route.body);
      }
      const url = (route.root ? root : api) + route.path + queryString(route.query);
      const res = await send(url, init);
      await check(res, attempt.signal);
      const text = await read(res, attempt.signal);
      if (res.status === 204 || text === '') return undefined as MethodOutput<M>;
      const body = json(method, res, text);
      if (route.decode) return route.decode(body) as MethodOutput<M>;
      if (route.list === undefined) return body as MethodOutput<M>;
      const page = body as Record<string, unknown>;
      return {
        items: (page[route.list] ?? []) as unknown[],
        next_page_token: typeof page.next_page_token === 'string' ? page.next_page_token : '',
      } as MethodOutput<M>;
    },
  };
}

/**
 * What an upload sends: a stream with progress when the runtime can send one, else the bytes
 * as they are (a stream read into a Blob first). `finished` reports the last progress.
 */
async function uploadBody(
  input: UploadArtifactRequest,
  canStream: boolean,
): Promise<{
  body: Blob | Uint8Array | ReadableStream<Uint8Array>;
  stream: boolean;
  total: number | undefined;
  finished: (size: number) => void;
}> {
  const { body, onProgress } = input;
  const sized = body instanceof Blob ? body.size : body instanceof Uint8Array ? body.byteLength : undefined;
  const total = sized ?? input.size;
  let sent = 0;
  let last = -1;
  const report = (bytes: number) => {
    if (bytes === last) return;
    last = bytes;
    onProgress?.(bytes, total);
  };
  // Counts what the consumer takes, and holds a stream to its announced size: a sent
  // Content-Length the body does not match would leave the server waiting for bytes.
  const counted = (stream: ReadableStream<Uint8Array>) =>
    relay(stream, {
      onChunk: (chunk) => {
        sent += chunk.byteLength;
        if (total !== undefined && sent > total) throw wrongSize(`more than size (${total})`);
        report(sent);
      },
      onEnd: () => {
        if (total !== undefined && sent !== total) throw wrongSize(`${sent} bytes, not size (${total})`);
      },
      mapError: (err) =>
        new QuiverError('INVALID_ARGUMENT', `upload: reading the body failed: ${messageOf(err)}`, {
          details: { field: 'body' },
          cause: err,
        }),
    });
  const finished = (size: number) => report(size);
  report(0);
  if (body instanceof Blob || body instanceof Uint8Array) {
    if (!onProgress || !canStream) return { body, stream: false, total, finished };
    const stream = body instanceof Blob ? body.stream() : bytesStream(body);
    return { body: counted(stream), stream: true, total, finished };
  }
  const stream = counted(body);
  if (canStream) return { body: stream, stream: true, total, finished };
  try {
    return { body: await new Response(stream).blob(), stream: false, total, finished };
  } catch (err) {
    const cause = (err as { cause?: unknown } | undefined)?.cause;
    throw err instanceof QuiverError ? err : cause instanceof QuiverError ? cause : err;
  }
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

function wrongSize(what: string): QuiverError {
  return new QuiverError('INVALID_ARGUMENT', `upload: the body holds ${what}; nothing was stored.`, {
    details: { field: 'size' },
  });
}

function rangeHeader(range: ByteRange): string {
  const valid = (n: number | undefined) => n === undefined || (Number.isSafeInteger(n) && n >= 0);
  if (!valid(range.start) || !valid(range.end) || (range.end !== undefined && range.end < range.start)) {
    throw new QuiverError('INVALID_ARGUMENT', 'range: start and end are byte offsets, start ≤ end.', {
      details: { field: 'range' },
    });
  }
  return `bytes=${range.start}-${range.end ?? ''}`;
}

/** An artifact's description from the headers of its download: ETag is the quoted digest. */
function artifactFrom(res: ResponseLike, digest: string, method: string): Artifact {
  const etag = res.headers.get('etag')?.replace(/^W\//, '').replace(/"/g, '');
  const length = Number(res.headers.get('content-length'));
  if (!Number.isSafeInteger(length)) throw malformed(method, res, 'no Content-Length');
  return {
    digest: etag || digest,
    size_bytes: length,
    media_type: res.headers.get('content-type') ?? 'application/octet-stream',
  };
}

function malformed(method: string, res: ResponseLike, what: string, cause?: unknown): QuiverError {
  return new QuiverError('INTERNAL', `${method}: the server answered with ${what}.`, {
    details: { reason: CLIENT_REASONS.MALFORMED_RESPONSE },
    requestId: res.headers.get('x-request-id') ?? undefined,
    httpStatus: res.status,
    cause,
  });
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
