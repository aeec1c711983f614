import type { CallOptions, Invoker } from '../invoker.js';
import { type Listing, listing, paginate } from '../paging.js';
import type { CreateModelRequest, ListRequest, Model, UpdateRequest } from '../types.js';

/** Options of `models.delete`. */
export interface DeleteModelOptions extends CallOptions {
  /** Delete even when versions that are not archived remain. */
  force?: boolean | undefined;
}

/** Models: registered models, each with numbered versions and aliases. */
export class ModelsClient {
  /** @internal */
  constructor(private readonly invoker: Invoker) {}

  /**
   * Registers a model in a namespace.
   *
   * @example
   * ```ts
   * const model = await client.models.create('fraud', {
   *   model_id: 'scorer',
   *   description: 'Card fraud scorer',
   *   labels: { team: 'risk' },
   * });
   * ```
   */
  create(namespace: string, request: CreateModelRequest, options?: CallOptions): Promise<Model> {
    return this.invoker.call('CreateModel', { namespace, ...request }, options);
  }

  /**
   * Reads a model with its latest version number and aliases.
   *
   * @example
   * ```ts
   * const model = await client.models.get('fraud', 'scorer');
   * console.log(model.latest_version, model.aliases.champion);
   * ```
   */
  get(namespace: string, model: string, options?: CallOptions): Promise<Model> {
    return this.invoker.call('GetModel', { namespace, model }, options);
  }

  /**
   * Reads one page of the models of a namespace; namespace `'-'` lists across all of them.
   *
   * @example
   * ```ts
   * const page = await client.models.list('fraud', { filter: 'labels.team = "risk"', page_size: 100 });
   * ```
   */
  list(namespace: string, request: ListRequest = {}, options?: CallOptions): Listing<Model> {
    return listing(
      (page_token) => this.invoker.call('ListModels', { namespace, ...request, page_token }, options),
      request.page_token,
    );
  }

  /**
   * Iterates over every model matching the request, fetching pages as needed (from
   * `page_token` when given).
   *
   * @example
   * ```ts
   * for await (const m of client.models.iterate('-', { filter: 'latest_version > 3' })) console.log(m.name);
   * ```
   */
  iterate(namespace: string, request: ListRequest = {}, options?: CallOptions): AsyncGenerator<Model> {
    return paginate(
      (page_token) => this.list(namespace, { ...request, page_token }, options),
      request.page_token,
    );
  }

  /**
   * Changes the description and/or labels (labels are replaced as a whole). Pass
   * `ifMatch: model.etag` to fail with `FAILED_PRECONDITION` if someone changed it meanwhile.
   *
   * @example
   * ```ts
   * const current = await client.models.get('fraud', 'scorer');
   * await client.models.update('fraud', 'scorer', { labels: { ...current.labels, tier: 'gold' } }, {
   *   ifMatch: current.etag,
   * });
   * ```
   */
  update(namespace: string, model: string, patch: UpdateRequest, options?: CallOptions): Promise<Model> {
    return this.invoker.call('UpdateModel', { namespace, model, ...patch }, options);
  }

  /**
   * Deletes a model. Refused (`FAILED_PRECONDITION`) while it has versions that are not
   * archived, unless `force` is set.
   *
   * @example
   * ```ts
   * await client.models.delete('fraud', 'old-scorer', { force: true });
   * ```
   */
  async delete(namespace: string, model: string, options: DeleteModelOptions = {}): Promise<void> {
    const { force, ...call } = options;
    await this.invoker.call('DeleteModel', { namespace, model, force }, call);
  }
}
