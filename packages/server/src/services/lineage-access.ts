import type { LineageGraph, LineageNode, LineageRequest } from '../domain/lineage.js';
import type { Permission, Scope } from '../domain/permissions.js';
import type { CallContext } from './context.js';
import { permissionDenied } from './iam/access.js';

/**
 * Lineage crosses namespaces: a version may be trained on another team's dataset or derived
 * from another team's model. The route checks the caller's permission on the version it names;
 * these checks cover what the lineage itself names, so that lineage never becomes a way to
 * learn about (or attach to) resources the caller may not read.
 */
const READ: Permission = 'lineage.read';

function allows(ctx: CallContext, scope: Scope): boolean {
  // No grants: the server's own calls (and every call with authentication off).
  return ctx.actor.grants === undefined || ctx.actor.grants.allows(READ, scope);
}

/** Refuses lineage that names a dataset, run or parent version the caller may not read. */
export function assertMayReference(ctx: CallContext, request: LineageRequest): void {
  const scopes: Scope[] = [
    ...[...request.trained_on, ...request.evaluated_on].map(
      (d): Scope => ({ kind: 'namespace', namespace: d.namespace }),
    ),
    ...(request.produced_by
      ? [{ kind: 'namespace', namespace: request.produced_by.namespace } as Scope]
      : []),
    ...request.derived_from.map((v): Scope => ({ kind: 'model', namespace: v.namespace, model: v.model })),
  ];
  for (const scope of scopes) if (!allows(ctx, scope)) throw permissionDenied(READ, scope);
}

/** The scope a graph node belongs to, read from its name (deployments: from the model they serve). */
function scopeOf(node: LineageNode): Scope | undefined {
  const source = node.type === 'deployment' ? node.model : node.name;
  const parts = (source ?? '').split('/');
  if (parts[0] !== 'namespaces' || !parts[1]) return undefined;
  if (parts[2] === 'models' && parts[3]) return { kind: 'model', namespace: parts[1], model: parts[3] };
  return { kind: 'namespace', namespace: parts[1] };
}

/**
 * The graph as the caller may see it: nodes outside the caller's read permission are left out
 * with the edges that touch them, and counted in `hidden`, so the caller knows the graph goes on
 * without learning what it holds. The root (checked by the route) always stays.
 */
export function visibleGraph(ctx: CallContext, graph: LineageGraph): LineageGraph & { hidden: number } {
  if (ctx.actor.grants === undefined) return { ...graph, hidden: 0 };
  const hidden = new Set<string>();
  for (const node of graph.nodes) {
    if (node.name === graph.root) continue;
    const scope = scopeOf(node);
    if (!scope || !allows(ctx, scope)) hidden.add(node.name);
  }
  return {
    ...graph,
    nodes: graph.nodes.filter((n) => !hidden.has(n.name)),
    edges: graph.edges.filter((e) => !hidden.has(e.source) && !hidden.has(e.target)),
    hidden: hidden.size,
  };
}
