import type { CallOptions, Invoker } from '../invoker.js';
import { type Listing, listing } from '../paging.js';
import type { CreateRunRequest, ListRequest, Run, UpdateRunRequest } from '../types.js';

/** Training and evaluation runs: code commit, parameters, metrics, environment. */
export class RunsClient {
  /** @internal */
  constructor(private readonly invoker: Invoker) {}

  /**
   * Records a run (status `succeeded` unless given).
   *
   * @example
   * ```ts
   * await client.runs.create('fraud', {
   *   run_id: 'train-0412',
   *   kind: 'training',
   *   code_commit: '3f2a9c1',
   *   parameters: { lr: 0.01, epochs: 20 },
   *   metrics: { auc: 0.93 },
   * });
   * ```
   */
  create(namespace: string, request: CreateRunRequest, options?: CallOptions): Promise<Run> {
    return this.invoker.call('CreateRun', { namespace, ...request }, options);
  }

  /**
   * Reads a run.
   *
   * @example
   * ```ts
   * const run = await client.runs.get('fraud', 'train-0412');
   * ```
   */
  get(namespace: string, run: string, options?: CallOptions): Promise<Run> {
    return this.invoker.call('GetRun', { namespace, run }, options);
  }

  /**
   * Reads one page of the runs of a namespace, newest first unless `order_by` says otherwise.
   *
   * @example
   * ```ts
   * const { items } = await client.runs.list('fraud', { filter: 'kind = training AND status = failed' });
   * ```
   */
  list(namespace: string, request: ListRequest = {}, options?: CallOptions): Listing<Run> {
    return listing(
      (page_token) => this.invoker.call('ListRuns', { namespace, ...request, page_token }, options),
      request.page_token,
    );
  }

  /**
   * Finishes or corrects a run: status, end time, metrics, description, labels. Honours `ifMatch`.
   *
   * @example
   * ```ts
   * await client.runs.update('fraud', 'train-0412', { status: 'succeeded', end_time: new Date().toISOString() });
   * ```
   */
  update(namespace: string, run: string, request: UpdateRunRequest, options?: CallOptions): Promise<Run> {
    return this.invoker.call('UpdateRun', { namespace, run, ...request }, options);
  }
}
