import { deploymentName } from '../domain/deployments.js';
import {
  datasetVersionName,
  type EdgeKind,
  type LineageDirection,
  type LineageEdge,
  type LineageGraph,
  type LineageNode,
  type NodeType,
  runName,
} from '../domain/lineage.js';
import { modelName, versionName } from '../domain/names.js';
import { LIMITS } from '../domain/validation.js';
import type { VersionNodeRow } from '../ports/lineage.repositories.js';
import type { Repositories } from '../ports/repositories.js';

/** A node while the walk runs: `v:12` (model version), `d:7` (dataset version), `r:3` (run), `x:prod` (deployment). */
interface Pending {
  type: NodeType;
  depth: number;
}

/**
 * The graph a walk builds: nodes capped at `max` (further nodes set `truncated`), edges kept only
 * between nodes that made it in, both de-duplicated.
 */
class Builder {
  readonly nodes = new Map<string, Pending>();
  readonly edges = new Map<string, { source: string; target: string; kind: EdgeKind }>();
  /** Deployment nodes are described as they are found (their rows come with the walk). */
  readonly deployments = new Map<string, LineageNode>();
  truncated = false;

  constructor(private readonly max: number) {}

  /** Adds a node (or keeps the existing one); false when the cap refused it. */
  add(key: string, type: NodeType, depth: number): boolean {
    if (this.nodes.has(key)) return true;
    if (this.nodes.size >= this.max) {
      this.truncated = true;
      return false;
    }
    this.nodes.set(key, { type, depth });
    return true;
  }

  edge(source: string, target: string, kind: EdgeKind): void {
    if (this.nodes.has(source) && this.nodes.has(target))
      this.edges.set(`${source}|${target}|${kind}`, { source, target, kind });
  }

  pks(prefix: 'v' | 'd' | 'r'): number[] {
    const out: number[] = [];
    for (const key of this.nodes.keys()) if (key.startsWith(`${prefix}:`)) out.push(Number(key.slice(2)));
    return out;
  }
}

export type LineageRoot = { kind: 'version'; pk: number } | { kind: 'dataset_version'; pk: number };

/**
 * Walks lineage from a model version or a dataset version, one query per level and direction,
 * then describes every node found with one query per node type (and one for the deployments).
 * The cost is bounded by depth (≤ LIMITS.lineageDepth), never by the number of nodes.
 */
export async function walkLineage(
  repos: Repositories,
  root: LineageRoot,
  direction: LineageDirection,
  depth: number,
  maxNodes: number = LIMITS.lineageNodes,
): Promise<LineageGraph & { rootKey: string }> {
  const g = new Builder(maxNodes);
  const rootKey = root.kind === 'version' ? `v:${root.pk}` : `d:${root.pk}`;
  g.add(rootKey, root.kind === 'version' ? 'model_version' : 'dataset_version', 0);
  const up = direction !== 'downstream';
  const down = direction !== 'upstream';

  if (root.kind === 'version' && up) await walkUp(repos, g, [root.pk], depth);
  if (down) {
    let start: number[] = [];
    let startDepth = 0;
    if (root.kind === 'version') start = [root.pk];
    else {
      // Level 1: the versions trained or evaluated on this dataset version.
      for (const e of await repos.lineage.consumersOf([root.pk])) {
        const key = `v:${e.version_pk}`;
        if (!g.add(key, 'model_version', 1)) continue;
        g.edge(key, rootKey, e.role);
        start.push(e.version_pk);
      }
      startDepth = 1;
    }
    await walkDown(repos, g, start, startDepth, depth);
  }

  const versions = await repos.lineage.describeVersions(g.pks('v'));
  if (down) await addDeployments(repos, g, versions);
  const datasets = await repos.lineage.describeDatasetVersions(g.pks('d'));
  const runs = await repos.lineage.describeRuns(g.pks('r'));

  const names = new Map<string, LineageNode>();
  const depthOf = (key: string) => g.nodes.get(key)!.depth;
  for (const v of versions) {
    names.set(`v:${v.pk}`, {
      name: versionName(v.namespace, v.model_id, v.version),
      type: 'model_version',
      depth: depthOf(`v:${v.pk}`),
      status: v.status,
      model: modelName(v.namespace, v.model_id),
      version: v.version,
      artifact_digest: v.artifact_digest,
    });
  }
  for (const d of datasets) {
    names.set(`d:${d.pk}`, {
      name: datasetVersionName(d.namespace, d.dataset_id, d.version),
      type: 'dataset_version',
      depth: depthOf(`d:${d.pk}`),
      dataset: `namespaces/${d.namespace}/datasets/${d.dataset_id}`,
      version: d.version,
      uri: d.uri,
      digest: d.digest,
    });
  }
  for (const r of runs) {
    names.set(`r:${r.pk}`, {
      name: runName(r.namespace, r.run_id),
      type: 'run',
      depth: depthOf(`r:${r.pk}`),
      status: r.status,
      run_kind: r.kind,
      code_commit: r.code_commit,
    });
  }
  for (const [key, node] of g.deployments) names.set(key, { ...node, depth: depthOf(key) });

  const nodes = [...names.values()].sort((a, b) => a.depth - b.depth || (a.name < b.name ? -1 : 1));
  const edges: LineageEdge[] = [];
  for (const e of g.edges.values()) {
    const source = names.get(e.source);
    const target = names.get(e.target);
    if (source && target) edges.push({ source: source.name, target: target.name, kind: e.kind });
  }
  edges.sort((a, b) => (a.source + a.target + a.kind < b.source + b.target + b.kind ? -1 : 1));
  return {
    root: names.get(rootKey)?.name ?? '',
    rootKey,
    direction,
    depth,
    nodes,
    edges,
    truncated: g.truncated,
  };
}

async function walkUp(repos: Repositories, g: Builder, start: number[], depth: number) {
  let frontier = start;
  for (let level = 1; level <= depth && frontier.length; level++) {
    const next: number[] = [];
    for (const e of await repos.lineage.upstreamOf(frontier)) {
      const [prefix, type]: ['v' | 'r' | 'd', NodeType] =
        e.kind === 'derived_from'
          ? ['v', 'model_version']
          : e.kind === 'produced_by'
            ? ['r', 'run']
            : ['d', 'dataset_version'];
      const key = `${prefix}:${e.target_pk}`;
      const fresh = !g.nodes.has(key);
      if (!g.add(key, type, level)) continue;
      g.edge(`v:${e.version_pk}`, key, e.kind);
      if (fresh && prefix === 'v') next.push(e.target_pk);
    }
    frontier = next;
  }
}

async function walkDown(repos: Repositories, g: Builder, start: number[], startDepth: number, depth: number) {
  let frontier = start;
  for (let level = startDepth + 1; level <= depth && frontier.length; level++) {
    const next: number[] = [];
    for (const e of await repos.lineage.childrenOf(frontier)) {
      const key = `v:${e.version_pk}`;
      const fresh = !g.nodes.has(key);
      if (!g.add(key, 'model_version', level)) continue;
      g.edge(key, `v:${e.parent_pk}`, 'derived_from');
      if (fresh) next.push(e.version_pk);
    }
    frontier = next;
  }
}

/**
 * Deployments serving any version in the graph, one query for all their models. A deployment
 * serves what its last rollout resolved (`serving`) and any version its traffic names by number;
 * an alias counts once a rollout has resolved it. Deployments sit one level below what they serve.
 */
async function addDeployments(repos: Repositories, g: Builder, versions: VersionNodeRow[]) {
  const byVersion = new Map(versions.map((v) => [`${v.model_pk}/${v.version}`, v]));
  const deployments = await repos.lineage.deploymentsOf([...new Set(versions.map((v) => v.model_pk))]);
  for (const d of deployments) {
    const served = new Map<number, number>();
    for (const t of d.traffic) if (/^[0-9]+$/.test(t.version)) served.set(Number(t.version), t.percent);
    for (const t of d.resolved) served.set(t.version, t.percent);
    const key = `x:${d.deployment_id}`;
    for (const [number] of served) {
      const v = byVersion.get(`${d.model_pk}/${number}`);
      if (!v) continue;
      if (!g.add(key, 'deployment', g.nodes.get(`v:${v.pk}`)!.depth + 1)) break;
      g.edge(key, `v:${v.pk}`, 'serves');
    }
    if (g.nodes.has(key)) {
      const first = versions.find((v) => v.model_pk === d.model_pk)!;
      g.deployments.set(key, {
        name: deploymentName(d.deployment_id),
        type: 'deployment',
        depth: 0,
        status: d.status,
        model: modelName(first.namespace, first.model_id),
        serving: d.resolved.map((t) => ({ version: t.version, percent: t.percent })),
      });
    }
  }
}
