import type { CallOptions, Invoker } from '../invoker.js';
import { type Listing, listing, paginate } from '../paging.js';
import type {
  BatchGetResponse,
  BatchGetStatusResponse,
  CreateVersionRequest,
  HistoryEntry,
  ListRequest,
  PageRequest,
  TransitionRequest,
  UpdateRequest,
  Version,
  VersionRef,
} from '../types.js';

/**
 * The resource name of a version, as `batchGet` takes it.
 *
 * @example
 * ```ts
 * versionName('fraud', 'scorer', '@champion'); // 'namespaces/fraud/models/scorer/versions/@champion'
 * ```
 */
export function versionName(namespace: string, model: string, version: VersionRef): string {
  return `namespaces/${namespace}/models/${model}/versions/${version}`;
}

/**
 * Versions: immutable, numbered 1, 2, 3… per model. Wherever a version is named, a number
 * or an alias prefixed with `@` (`'@champion'`) is accepted.
 */
export class VersionsClient {
  /** @internal */
  constructor(private readonly invoker: Invoker) {}

  /**
   * Registers the next version of a model (status `registered`). Safe to retry: the SDK
   * sends one idempotency key for the call and all its retries.
   *
   * @example
   * ```ts
   * const v = await client.versions.create('fraud', 'scorer', {
   *   source_uri: 's3://models/scorer/7',
   *   metadata: { framework: 'onnx', auc: 0.93 },
   * });
   * console.log(v.version);
   * ```
   */
  create(
    namespace: string,
    model: string,
    request: CreateVersionRequest = {},
    options?: CallOptions,
  ): Promise<Version> {
    return this.invoker.call('CreateVersion', { namespace, model, ...request }, options);
  }

  /**
   * Reads a version by number or `@alias`.
   *
   * @example
   * ```ts
   * const champion = await client.versions.get('fraud', 'scorer', '@champion');
   * const third = await client.versions.get('fraud', 'scorer', 3);
   * ```
   */
  get(namespace: string, model: string, version: VersionRef, options?: CallOptions): Promise<Version> {
    return this.invoker.call('GetVersion', { namespace, model, version }, options);
  }

  /**
   * Reads one page of the versions of a model, newest first unless `order_by` says otherwise.
   *
   * @example
   * ```ts
   * const page = await client.versions.list('fraud', 'scorer', { filter: 'status = approved' });
   * ```
   */
  list(namespace: string, model: string, request: ListRequest = {}, options?: CallOptions): Listing<Version> {
    return listing(
      (page_token) =>
        this.invoker.call('ListVersions', { namespace, model, ...request, page_token }, options),
      request.page_token,
    );
  }

  /**
   * Iterates over every version matching the request, fetching pages as needed (from
   * `page_token` when given).
   *
   * @example
   * ```ts
   * for await (const v of client.versions.iterate('fraud', 'scorer', { filter: 'labels.stage = "candidate"' })) {
   *   console.log(v.version, v.status);
   * }
   * ```
   */
  iterate(
    namespace: string,
    model: string,
    request: ListRequest = {},
    options?: CallOptions,
  ): AsyncGenerator<Version> {
    return paginate(
      (page_token) => this.list(namespace, model, { ...request, page_token }, options),
      request.page_token,
    );
  }

  /**
   * Changes what may change after creation: description and labels. Honours `ifMatch`.
   *
   * @example
   * ```ts
   * await client.versions.update('fraud', 'scorer', 3, { description: 'retrained on May data' });
   * ```
   */
  update(
    namespace: string,
    model: string,
    version: VersionRef,
    patch: UpdateRequest,
    options?: CallOptions,
  ): Promise<Version> {
    return this.invoker.call('UpdateVersion', { namespace, model, version, ...patch }, options);
  }

  /**
   * Moves a version along its lifecycle. An illegal step fails with `FAILED_PRECONDITION`,
   * whose `details.allowed` lists the legal targets.
   *
   * @example
   * ```ts
   * await client.versions.transition('fraud', 'scorer', 3, { status: 'validated', reason: 'offline eval ok' });
   * ```
   */
  transition(
    namespace: string,
    model: string,
    version: VersionRef,
    request: TransitionRequest,
    options?: CallOptions,
  ): Promise<Version> {
    return this.invoker.call('TransitionVersion', { namespace, model, version, ...request }, options);
  }

  /**
   * Reads one page of a version's lifecycle history (creation, transitions, alias moves, edits).
   *
   * @example
   * ```ts
   * const { items } = await client.versions.history('fraud', 'scorer', '@champion');
   * ```
   */
  history(
    namespace: string,
    model: string,
    version: VersionRef,
    request: PageRequest = {},
    options?: CallOptions,
  ): Listing<HistoryEntry> {
    return listing(
      (page_token) =>
        this.invoker.call(
          'GetVersionHistory',
          { namespace, model, version, ...request, page_token },
          options,
        ),
      request.page_token,
    );
  }

  /**
   * Iterates over a version's whole lifecycle history, oldest first.
   *
   * @example
   * ```ts
   * for await (const e of client.versions.iterateHistory('fraud', 'scorer', 3)) console.log(e.kind, e.actor);
   * ```
   */
  iterateHistory(
    namespace: string,
    model: string,
    version: VersionRef,
    request: PageRequest = {},
    options?: CallOptions,
  ): AsyncGenerator<HistoryEntry> {
    return paginate(
      (page_token) => this.history(namespace, model, version, { ...request, page_token }, options),
      request.page_token,
    );
  }

  /**
   * Reads up to 1000 versions by resource name in one call; names that do not exist come
   * back in `missing` instead of failing the call.
   *
   * @example
   * ```ts
   * const { versions, missing } = await client.versions.batchGet([
   *   versionName('fraud', 'scorer', 3),
   *   'namespaces/fraud/models/scorer/versions/@champion',
   * ]);
   * ```
   */
  batchGet(names: readonly string[], options?: CallOptions): Promise<BatchGetResponse> {
    return this.invoker.call('BatchGetVersions', { names }, options);
  }

  /**
   * Reads the status of up to 1000 versions by resource name in one call: only name,
   * number, status, update time and ETag, which is what a dashboard polling many versions
   * needs (much cheaper than `batchGet`). Names that do not exist come back in `missing`.
   *
   * @example
   * ```ts
   * const { versions } = await client.versions.batchGetStatus([versionName('fraud', 'scorer', 3)]);
   * for (const v of versions) console.log(v.name, v.status);
   * ```
   */
  batchGetStatus(names: readonly string[], options?: CallOptions): Promise<BatchGetStatusResponse> {
    return this.invoker.call('BatchGetVersionStatus', { names }, options);
  }
}
