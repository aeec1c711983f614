import type { CallOptions, Invoker } from '../invoker.js';
import { type Listing, listing, paginate } from '../paging.js';
import type {
  CreateDatasetRequest,
  CreateDatasetVersionRequest,
  Dataset,
  DatasetVersion,
  ListRequest,
  PageRequest,
} from '../types.js';

/**
 * Datasets and their versions: what the data was (URI + digest) when a model was trained or
 * evaluated on it. Record lineage to them with `client.lineage.record`.
 */
export class DatasetsClient {
  /** @internal */
  constructor(private readonly invoker: Invoker) {}

  /**
   * Registers a dataset in a namespace.
   *
   * @example
   * ```ts
   * await client.datasets.create('fraud', { dataset_id: 'transactions', labels: { pii: 'yes' } });
   * ```
   */
  create(namespace: string, request: CreateDatasetRequest, options?: CallOptions): Promise<Dataset> {
    return this.invoker.call('CreateDataset', { namespace, ...request }, options);
  }

  /**
   * Reads a dataset.
   *
   * @example
   * ```ts
   * const ds = await client.datasets.get('fraud', 'transactions');
   * ```
   */
  get(namespace: string, dataset: string, options?: CallOptions): Promise<Dataset> {
    return this.invoker.call('GetDataset', { namespace, dataset }, options);
  }

  /**
   * Reads one page of the datasets of a namespace.
   *
   * @example
   * ```ts
   * const { items } = await client.datasets.list('fraud', { order_by: 'create_time desc' });
   * ```
   */
  list(namespace: string, request: ListRequest = {}, options?: CallOptions): Listing<Dataset> {
    return listing(
      (page_token) => this.invoker.call('ListDatasets', { namespace, ...request, page_token }, options),
      request.page_token,
    );
  }

  /**
   * Records the next version of a dataset. Recording the same URI and digest twice fails with
   * `ALREADY_EXISTS` (`DATASET_VERSION_EXISTS`), naming the version that has them.
   *
   * @example
   * ```ts
   * const v = await client.datasets.createVersion('fraud', 'transactions', {
   *   uri: 's3://lake/transactions/2024-04/',
   *   digest: 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
   *   format: 'parquet',
   * });
   * console.log(v.name); // namespaces/fraud/datasets/transactions/versions/1
   * ```
   */
  createVersion(
    namespace: string,
    dataset: string,
    request: CreateDatasetVersionRequest,
    options?: CallOptions,
  ): Promise<DatasetVersion> {
    return this.invoker.call('CreateDatasetVersion', { namespace, dataset, ...request }, options);
  }

  /**
   * Reads a dataset version by number.
   *
   * @example
   * ```ts
   * const v = await client.datasets.getVersion('fraud', 'transactions', 1);
   * ```
   */
  getVersion(
    namespace: string,
    dataset: string,
    version: number,
    options?: CallOptions,
  ): Promise<DatasetVersion> {
    return this.invoker.call('GetDatasetVersion', { namespace, dataset, version }, options);
  }

  /**
   * Reads one page of the versions of a dataset, newest first.
   *
   * @example
   * ```ts
   * const { items } = await client.datasets.listVersions('fraud', 'transactions');
   * ```
   */
  listVersions(
    namespace: string,
    dataset: string,
    request: PageRequest = {},
    options?: CallOptions,
  ): Listing<DatasetVersion> {
    return listing(
      (page_token) =>
        this.invoker.call('ListDatasetVersions', { namespace, dataset, ...request, page_token }, options),
      request.page_token,
    );
  }

  /**
   * Iterates over every version of a dataset, newest first.
   *
   * @example
   * ```ts
   * for await (const v of client.datasets.iterateVersions('fraud', 'transactions')) console.log(v.uri);
   * ```
   */
  iterateVersions(
    namespace: string,
    dataset: string,
    request: PageRequest = {},
    options?: CallOptions,
  ): AsyncGenerator<DatasetVersion> {
    return paginate(
      (page_token) => this.listVersions(namespace, dataset, { ...request, page_token }, options),
      request.page_token,
    );
  }
}
