import type { CallOptions, Invoker } from '../invoker.js';
import { type Listing, listing, paginate } from '../paging.js';
import type { CreateNamespaceRequest, ListRequest, Namespace } from '../types.js';

/** Namespaces: teams or projects, the usual scope of permissions. */
export class NamespacesClient {
  /** @internal */
  constructor(private readonly invoker: Invoker) {}

  /**
   * Creates a namespace. Fails with `ALREADY_EXISTS` when the id is taken.
   *
   * @example
   * ```ts
   * const ns = await client.namespaces.create({ namespace_id: 'fraud', description: 'Fraud team' });
   * ```
   */
  create(request: CreateNamespaceRequest, options?: CallOptions): Promise<Namespace> {
    return this.invoker.call('CreateNamespace', request, options);
  }

  /**
   * Reads a namespace by id. Fails with `NOT_FOUND` when it does not exist.
   *
   * @example
   * ```ts
   * const ns = await client.namespaces.get('fraud');
   * ```
   */
  get(namespace: string, options?: CallOptions): Promise<Namespace> {
    return this.invoker.call('GetNamespace', { namespace }, options);
  }

  /**
   * Reads one page of namespaces (by name unless `order_by` says otherwise).
   *
   * @example
   * ```ts
   * const page = await client.namespaces.list({ page_size: 20 });
   * const next = await client.namespaces.list({ page_size: 20, page_token: page.next_page_token });
   * ```
   */
  list(request: ListRequest = {}, options?: CallOptions): Listing<Namespace> {
    return listing(
      (page_token) => this.invoker.call('ListNamespaces', { ...request, page_token }, options),
      request.page_token,
    );
  }

  /**
   * Iterates over every namespace matching the request, fetching pages as needed (from
   * `page_token` when given).
   *
   * @example
   * ```ts
   * for await (const ns of client.namespaces.iterate({ order_by: 'create_time desc' })) console.log(ns.name);
   * ```
   */
  iterate(request: ListRequest = {}, options?: CallOptions): AsyncGenerator<Namespace> {
    return paginate((page_token) => this.list({ ...request, page_token }, options), request.page_token);
  }
}
