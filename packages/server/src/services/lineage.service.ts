import { QuiverError } from '../domain/errors.js';
import {
  checkDepth,
  checkLineageRequest,
  datasetVersionName,
  LINEAGE_DIRECTIONS,
  type LineageDirection,
  type LineageGraph,
  runName,
} from '../domain/lineage.js';
import type { VersionRef } from '../domain/names.js';
import { versionName } from '../domain/names.js';
import { type RunEvent, toRunEvent } from '../domain/openlineage.js';
import { type PageTokenCodec, pageSize } from '../domain/page-token.js';
import { type JsonObject, type Page, rfc3339 } from '../domain/resources.js';
import type { Clock } from '../ports/clock.js';
import type { TimelineRow } from '../ports/lineage.repositories.js';
import type { UnitOfWork } from '../ports/unit-of-work.js';
import type { CallContext } from './context.js';
import { datasetVersionNotFound, requireDataset } from './dataset.service.js';
import { assertMayReference, visibleGraph } from './lineage-access.js';
import { walkLineage } from './lineage-graph.js';
import { lineageResource, recordLineage, type VersionLineage, versionLineage } from './lineage-record.js';
import { requireModel, requireVersion } from './lookups.js';
import type { Mutations } from './mutations.js';

export interface LineageServiceDeps {
  store: UnitOfWork;
  /** Every change goes through here: idempotency, the audit log, cache invalidation. */
  mutations: Mutations;
  clock: Clock;
  tokens: PageTokenCodec;
  /** The OpenLineage `producer` URI of this server. */
  producer: string;
}

export const TIMELINE_KINDS = [
  'created',
  'transition',
  'approval',
  'alias_set',
  'alias_unset',
  'updated',
  'lineage_recorded',
  'deployed',
  'undeployed',
] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

/** One entry of a version's lifecycle, as auditors read it. */
export interface TimelineEntry {
  time: string;
  kind: TimelineKind;
  actor: string;
  /** One line for people (`validated → approved: offline eval ok`). */
  summary: string;
  details: JsonObject;
}

export interface GraphRequest {
  direction?: string | undefined;
  depth?: number | undefined;
}

/** Lineage of model versions: recording it (until approval), reading the graph, the timeline, OpenLineage. */
export class LineageService {
  constructor(private readonly deps: LineageServiceDeps) {}

  /** Adds lineage to a version that is not approved yet; edges already recorded stay as they are. */
  async record(
    ctx: CallContext,
    namespace: string,
    model: string,
    ref: VersionRef,
    input: unknown,
  ): Promise<VersionLineage> {
    const request = checkLineageRequest(input, 'lineage');
    assertMayReference(ctx, request);
    return this.deps.mutations.run(
      ctx,
      {
        action: 'RecordLineage',
        resource: lineageResource(namespace, model, ref),
        request: { namespace, model, ref, request },
      },
      async (repos) => {
        const key = await requireModel(repos, namespace, model);
        const vkey = await requireVersion(repos, key, ref);
        await recordLineage(repos, ctx, key, vkey, request, this.deps.clock.now());
        return versionLineage(repos, key, vkey);
      },
    );
  }

  async graph(
    ctx: CallContext,
    namespace: string,
    model: string,
    ref: VersionRef,
    request: GraphRequest,
  ): Promise<LineageGraph> {
    const { direction, depth } = checkGraphRequest(request, 'upstream');
    return this.deps.store.read(async (repos) => {
      const key = await requireModel(repos, namespace, model);
      const vkey = await requireVersion(repos, key, ref);
      const { rootKey: _, ...graph } = await walkLineage(
        repos,
        { kind: 'version', pk: vkey.pk },
        direction,
        depth,
      );
      return visibleGraph(ctx, graph);
    });
  }

  /** Downstream of a dataset version: the versions trained or evaluated on it, their descendants, their deployments. */
  async datasetGraph(
    ctx: CallContext,
    namespace: string,
    dataset: string,
    version: number,
    request: GraphRequest,
  ): Promise<LineageGraph> {
    const { direction, depth } = checkGraphRequest(request, 'downstream');
    return this.deps.store.read(async (repos) => {
      const key = await requireDataset(repos, namespace, dataset);
      const [found] = await repos.datasets.resolveVersions([{ namespace, dataset, version }]);
      if (!found) throw datasetVersionNotFound(namespace, dataset, version, key);
      const { rootKey: _, ...graph } = await walkLineage(
        repos,
        { kind: 'dataset_version', pk: found.pk },
        direction,
        depth,
      );
      return visibleGraph(ctx, graph);
    });
  }

  /** The version as OpenLineage RunEvents (one COMPLETE event: its run, inputs and the version as output). */
  async openLineage(
    _ctx: CallContext,
    namespace: string,
    model: string,
    ref: VersionRef,
  ): Promise<{ events: RunEvent[] }> {
    return this.deps.store.read(async (repos) => {
      const key = await requireModel(repos, namespace, model);
      const vkey = await requireVersion(repos, key, ref);
      const edges = await repos.lineage.upstreamOf([vkey.pk]);
      const of = (kind: string) => edges.filter((e) => e.kind === kind).map((e) => e.target_pk);
      const [self] = await repos.lineage.describeVersions([vkey.pk]);
      const parents = await repos.lineage.describeVersions(of('derived_from'));
      const datasets = await repos.lineage.describeDatasetVersions([
        ...of('trained_on'),
        ...of('evaluated_on'),
      ]);
      const runPk = of('produced_by')[0];
      const run = runPk === undefined ? undefined : (await repos.lineage.describeRuns([runPk]))[0];
      const full = run ? await repos.runs.get(run.namespace, run.run_id) : undefined;
      const byPk = new Map(datasets.map((d) => [d.pk, d]));
      const event = toRunEvent({
        producer: this.deps.producer,
        version: {
          name: versionName(namespace, model, vkey.version),
          uid: vkey.uid,
          namespace,
          model_id: model,
          version: vkey.version,
          status: vkey.status,
          artifact_digest: self?.artifact_digest ?? null,
          create_time: self?.create_time ?? 0,
        },
        run:
          run && full
            ? {
                name: runName(run.namespace, run.run_id),
                uid: run.uid,
                kind: run.kind,
                status: run.status,
                code_commit: run.code_commit,
                parameters: full.parameters,
                metrics: full.metrics,
                start_time: run.start_time,
                end_time: run.end_time,
              }
            : null,
        datasets: edges
          .filter((e) => e.kind === 'trained_on' || e.kind === 'evaluated_on')
          .map((e) => {
            const d = byPk.get(e.target_pk)!;
            return {
              name: datasetVersionName(d.namespace, d.dataset_id, d.version),
              role: e.kind as 'trained_on' | 'evaluated_on',
              uri: d.uri,
              digest: d.digest,
              size_bytes: d.size_bytes === null ? null : Number(d.size_bytes),
              format: d.format,
            };
          }),
        parents: parents.map((p) => ({
          name: versionName(p.namespace, p.model_id, p.version),
          namespace: p.namespace,
          model_id: p.model_id,
          version: p.version,
          artifact_digest: p.artifact_digest,
        })),
      });
      return { events: [event] };
    });
  }

  /** Everything that happened to a version, oldest first: creation, transitions, approvals, aliases, lineage, deployments. */
  async timeline(
    _ctx: CallContext,
    namespace: string,
    model: string,
    ref: VersionRef,
    request: { page_size?: number | undefined; page_token?: string | undefined },
  ): Promise<Page<TimelineEntry>> {
    return this.deps.store.read(async (repos) => {
      const key = await requireModel(repos, namespace, model);
      const vkey = await requireVersion(repos, key, ref);
      const limit = pageSize(request.page_size);
      const query = `timeline ${namespace}/${model}/${vkey.version}`;
      const after = request.page_token ? Number(this.deps.tokens.decode(query, request.page_token)[0]) : null;
      const rows = await repos.lineage.timeline(key.pk, vkey.version, after, limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((r) => toTimelineEntry(r.item)),
        next_page_token: rows.length > limit && last ? this.deps.tokens.encode(query, last.keyset) : '',
      };
    });
  }
}

function checkGraphRequest(request: GraphRequest, fallback: LineageDirection) {
  const direction = request.direction ?? fallback;
  if (!(LINEAGE_DIRECTIONS as readonly string[]).includes(direction)) {
    throw new QuiverError('INVALID_ARGUMENT', `direction must be one of ${LINEAGE_DIRECTIONS.join(', ')}.`, {
      details: { field: 'direction', allowed: [...LINEAGE_DIRECTIONS] },
    });
  }
  return { direction: direction as LineageDirection, depth: checkDepth(request.depth) };
}

export function toTimelineEntry(row: TimelineRow): TimelineEntry {
  const base = { time: rfc3339(row.time), actor: row.actor };
  const reason = row.reason ? `: ${row.reason}` : '';
  switch (row.kind) {
    case 'created':
      return {
        ...base,
        kind: 'created',
        summary: `registered as ${row.to_status}`,
        details: { status: row.to_status },
      };
    case 'transition': {
      const details = { from: row.from_status, to: row.to_status, reason: row.reason };
      const kind = row.to_status === 'approved' ? 'approval' : 'transition';
      return { ...base, kind, summary: `${row.from_status} → ${row.to_status}${reason}`, details };
    }
    case 'alias_set':
    case 'alias_unset':
      return {
        ...base,
        kind: row.kind,
        summary: `${row.kind === 'alias_set' ? 'alias set' : 'alias removed'}: @${row.alias}`,
        details: { alias: row.alias, ...(row.details ?? {}) },
      };
    case 'lineage_recorded': {
      const d = row.details ?? {};
      const count = ['trained_on', 'evaluated_on', 'derived_from'].reduce(
        (n, k) => n + (Array.isArray(d[k]) ? (d[k] as unknown[]).length : 0),
        d.produced_by ? 1 : 0,
      );
      return { ...base, kind: 'lineage_recorded', summary: `lineage recorded (${count} edges)`, details: d };
    }
    case 'deployed':
    case 'undeployed': {
      const d = row.details ?? {};
      const verb = row.kind === 'deployed' ? 'serving on' : 'no longer served by';
      return {
        ...base,
        kind: row.kind,
        summary: `${verb} ${String(d.deployment ?? '')}${reason}`,
        details: d,
      };
    }
    default:
      return { ...base, kind: 'updated', summary: row.reason || 'updated', details: { reason: row.reason } };
  }
}
