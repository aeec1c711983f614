import type { CallOptions, Invoker } from '../invoker.js';
import { type Listing, listing, paginate } from '../paging.js';
import type {
  LineageGraph,
  LineageInput,
  LineageRequest,
  OpenLineageRunEvent,
  PageRequest,
  TimelineEntry,
  VersionLineage,
  VersionRef,
} from '../types.js';

/**
 * Lineage of model versions: what they were trained and evaluated on, the run that produced
 * them, the versions they derive from, what derives from them and where they are deployed;
 * and the timeline of everything that happened to a version.
 */
export class LineageClient {
  /** @internal */
  constructor(private readonly invoker: Invoker) {}

  /**
   * Adds lineage to a version. Edges already recorded are kept; once the version is approved
   * its lineage is frozen and this fails with `FAILED_PRECONDITION` (`LINEAGE_FROZEN`).
   *
   * @example
   * ```ts
   * await client.lineage.record('fraud', 'scorer', 3, {
   *   trained_on: ['namespaces/fraud/datasets/transactions/versions/1'],
   *   produced_by: 'namespaces/fraud/runs/train-0412',
   * });
   * ```
   */
  record(
    namespace: string,
    model: string,
    version: VersionRef,
    lineage: LineageInput,
    options?: CallOptions,
  ): Promise<VersionLineage> {
    return this.invoker.call('RecordLineage', { namespace, model, version, ...lineage }, options);
  }

  /**
   * Reads the lineage graph around a version (`upstream` by default; `downstream` or `both`).
   *
   * @example
   * ```ts
   * const { nodes, edges } = await client.lineage.get('fraud', 'scorer', '@champion', { direction: 'both', depth: 5 });
   * ```
   */
  get(
    namespace: string,
    model: string,
    version: VersionRef,
    request: LineageRequest = {},
    options?: CallOptions,
  ): Promise<LineageGraph> {
    return this.invoker.call('GetLineage', { namespace, model, version, ...request }, options);
  }

  /**
   * What was built from a dataset version: the versions trained or evaluated on it, the versions
   * derived from those, and the deployments serving any of them.
   *
   * @example
   * ```ts
   * const graph = await client.lineage.ofDataset('fraud', 'transactions', 1, { depth: 5 });
   * const deployed = graph.nodes.filter((n) => n.type === 'deployment');
   * ```
   */
  ofDataset(
    namespace: string,
    dataset: string,
    version: number,
    request: LineageRequest = {},
    options?: CallOptions,
  ): Promise<LineageGraph> {
    return this.invoker.call('GetDatasetLineage', { namespace, dataset, version, ...request }, options);
  }

  /**
   * The version's lineage as OpenLineage RunEvents, ready to post to an OpenLineage endpoint.
   *
   * @example
   * ```ts
   * const { events } = await client.lineage.openLineage('fraud', 'scorer', 3);
   * ```
   */
  openLineage(
    namespace: string,
    model: string,
    version: VersionRef,
    options?: CallOptions,
  ): Promise<{ events: OpenLineageRunEvent[] }> {
    return this.invoker.call('ExportOpenLineage', { namespace, model, version }, options);
  }

  /**
   * Reads one page of a version's timeline, oldest first: creation, transitions, approvals,
   * alias moves, lineage recorded, deployments and undeployments.
   *
   * @example
   * ```ts
   * const { items } = await client.lineage.timeline('fraud', 'scorer', 3);
   * for (const e of items) console.log(e.time, e.kind, e.actor, e.summary);
   * ```
   */
  timeline(
    namespace: string,
    model: string,
    version: VersionRef,
    request: PageRequest = {},
    options?: CallOptions,
  ): Listing<TimelineEntry> {
    return listing(
      (page_token) =>
        this.invoker.call(
          'GetVersionTimeline',
          { namespace, model, version, ...request, page_token },
          options,
        ),
      request.page_token,
    );
  }

  /**
   * Iterates over a version's whole timeline, oldest first.
   *
   * @example
   * ```ts
   * for await (const e of client.lineage.iterateTimeline('fraud', 'scorer', 3)) console.log(e.summary);
   * ```
   */
  iterateTimeline(
    namespace: string,
    model: string,
    version: VersionRef,
    request: PageRequest = {},
    options?: CallOptions,
  ): AsyncGenerator<TimelineEntry> {
    return paginate(
      (page_token) => this.timeline(namespace, model, version, { ...request, page_token }, options),
      request.page_token,
    );
  }
}
