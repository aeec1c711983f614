import type { CallOptions, Invoker } from '../invoker.js';
import type { CreateRunRequest, ListRequest, Page, Run, UpdateRunRequest } from '../types.js';

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
  list(namespace: string, request: ListRequest = {}, options?: CallOptions): Promise<Page<Run>> {
    return this.invoker.call('ListRuns', { namespace, ...request }, options);
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
