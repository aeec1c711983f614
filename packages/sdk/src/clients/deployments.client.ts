import type { CallOptions, Invoker } from '../invoker.js';
import { type Listing, listing, paginate } from '../paging.js';
import type {
  BatchGetDeploymentsResponse,
  CreateDeploymentRequest,
  DeletedDeployment,
  Deployment,
  PageRequest,
  UpdateDeploymentRequest,
} from '../types.js';
import { OperationHandle, type OperationsClient } from './operations.client.js';

/**
 * Deployments: a model version (or a traffic split over versions) served for inference under
 * a name. Changes answer at once with an operation that a worker carries out: wait for it,
 * or watch its progress.
 */
export class DeploymentsClient {
  /** @internal */
  constructor(
    private readonly invoker: Invoker,
    private readonly operations: OperationsClient,
  ) {}

  /**
   * Deploys one version (`version`) or a split (`traffic`) of a model. Resolves as soon as
   * the server accepted it, with the rollout operation.
   *
   * @example
   * ```ts
   * const op = await client.deployments.create({
   *   deployment_id: 'fraud-prod',
   *   model: 'namespaces/fraud/models/scorer',
   *   version: '@champion',
   *   batching: { max_batch_size: 16, max_queue_delay_us: 2000 },
   * });
   * const done = await op.wait({ onProgress: (o) => console.log(o.metadata.message) });
   * console.log(done.result?.serving); // [{ version: 3, percent: 100, artifact_digest: 'sha256:…' }]
   * ```
   */
  async create(
    request: CreateDeploymentRequest,
    options?: CallOptions,
  ): Promise<OperationHandle<Deployment>> {
    const op = await this.invoker.call('CreateDeployment', request, options);
    return new OperationHandle(this.operations, op);
  }

  /**
   * Reads a deployment (`fraud-prod` or `deployments/fraud-prod`) and its status.
   *
   * @example
   * ```ts
   * const d = await client.deployments.get('fraud-prod');
   * console.log(d.status, d.status_message);
   * ```
   */
  get(name: string, options?: CallOptions): Promise<Deployment> {
    return this.invoker.call('GetDeployment', { deployment: name }, options);
  }

  /**
   * Reads one page of deployments, oldest first.
   *
   * @example
   * ```ts
   * const { items, next_page_token } = await client.deployments.list({ page_size: 100 });
   * ```
   */
  list(request: PageRequest = {}, options?: CallOptions): Listing<Deployment> {
    return listing(
      (page_token) => this.invoker.call('ListDeployments', { ...request, page_token }, options),
      request.page_token,
    );
  }

  /**
   * Iterates over every deployment, fetching pages as needed.
   *
   * @example
   * ```ts
   * for await (const d of client.deployments.iterate()) console.log(d.deployment_id, d.status);
   * ```
   */
  iterate(request: PageRequest = {}, options?: CallOptions): AsyncGenerator<Deployment> {
    return paginate((page_token) => this.list({ ...request, page_token }, options), request.page_token);
  }

  /**
   * Changes what a deployment serves (promote a canary, roll back), its replicas or batching:
   * a new rollout, answered at once with its operation. Honours `ifMatch`.
   *
   * @example
   * ```ts
   * // Canary: 10 % to version 4, then promote it
   * await (await client.deployments.update('fraud-prod', {
   *   traffic: [{ version: 3, percent: 90 }, { version: 4, percent: 10 }],
   * })).wait();
   * await (await client.deployments.update('fraud-prod', { version: 4 })).wait();
   * ```
   */
  async update(
    name: string,
    patch: UpdateDeploymentRequest,
    options?: CallOptions,
  ): Promise<OperationHandle<Deployment>> {
    const op = await this.invoker.call('UpdateDeployment', { deployment: name, ...patch }, options);
    return new OperationHandle(this.operations, op);
  }

  /**
   * Undeploys: answered at once with the operation that removes the deployment.
   *
   * @example
   * ```ts
   * await (await client.deployments.delete('fraud-canary')).wait();
   * ```
   */
  async delete(name: string, options?: CallOptions): Promise<OperationHandle<DeletedDeployment>> {
    const op = await this.invoker.call('DeleteDeployment', { deployment: name }, options);
    return new OperationHandle(this.operations, op);
  }

  /**
   * Reads up to 1000 deployments by name in one call; names that do not exist come back in
   * `missing`.
   *
   * @example
   * ```ts
   * const { deployments, missing } = await client.deployments.batchGet(['fraud-prod', 'deployments/canary']);
   * ```
   */
  batchGet(names: readonly string[], options?: CallOptions): Promise<BatchGetDeploymentsResponse> {
    return this.invoker.call('BatchGetDeployments', { names }, options);
  }
}
