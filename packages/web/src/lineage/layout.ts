import type { LineageEdge, LineageNode } from '@quiver/sdk';

export interface PlacedNode {
  node: LineageNode;
  x: number;
  y: number;
  layer: number;
}

export interface PlacedEdge {
  edge: LineageEdge;
  /** From the upstream node's right side to the downstream node's left side. */
  path: string;
  labelX: number;
  labelY: number;
}

export interface Layout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 46;
const COLUMN_GAP = 90;
const ROW_GAP = 22;
const MARGIN = 12;
const TYPE_ORDER: LineageNode['type'][] = ['dataset_version', 'run', 'model_version', 'deployment'];

/**
 * A layered left-to-right layout: every edge points from a node to what it came from
 * (`version trained_on dataset`, `deployment serves version`), so the target goes one column
 * left of its source. Columns are found by a breadth-first walk from the root in both
 * directions; a node reached twice keeps its first column, which is enough for lineage
 * (shallow, nearly a tree) and never loops on a cycle.
 */
export function layoutLineage(
  root: string,
  nodes: readonly LineageNode[],
  edges: readonly LineageEdge[],
): Layout {
  const layer = new Map<string, number>();
  const known = new Set(nodes.map((n) => n.name));
  const start = known.has(root) ? root : nodes[0]?.name;
  if (start === undefined) return { nodes: [], edges: [], width: 0, height: 0 };
  layer.set(start, 0);
  const queue = [start];
  while (queue.length > 0) {
    const at = queue.shift()!;
    const here = layer.get(at)!;
    for (const e of edges) {
      const next =
        e.source === at ? [e.target, here - 1] : e.target === at ? [e.source, here + 1] : undefined;
      if (next && known.has(next[0] as string) && !layer.has(next[0] as string)) {
        layer.set(next[0] as string, next[1] as number);
        queue.push(next[0] as string);
      }
    }
  }
  // Nodes not connected to the root (should not happen) go to a column of their own on the right.
  const max = Math.max(...layer.values());
  for (const n of nodes) if (!layer.has(n.name)) layer.set(n.name, max + 1);
  const min = Math.min(...layer.values());

  const columns = new Map<number, LineageNode[]>();
  for (const n of nodes) {
    const col = layer.get(n.name)! - min;
    columns.set(col, [...(columns.get(col) ?? []), n]);
  }
  const placed = new Map<string, PlacedNode>();
  let rows = 0;
  for (const [col, members] of columns) {
    members.sort(
      (a, b) => TYPE_ORDER.indexOf(a.type) - TYPE_ORDER.indexOf(b.type) || a.name.localeCompare(b.name),
    );
    rows = Math.max(rows, members.length);
    members.forEach((node, row) => {
      placed.set(node.name, {
        node,
        layer: col,
        x: MARGIN + col * (NODE_WIDTH + COLUMN_GAP),
        y: MARGIN + row * (NODE_HEIGHT + ROW_GAP),
      });
    });
  }
  const placedEdges: PlacedEdge[] = [];
  for (const edge of edges) {
    const from = placed.get(edge.target);
    const to = placed.get(edge.source);
    if (!from || !to) continue;
    const x1 = from.x + NODE_WIDTH;
    const y1 = from.y + NODE_HEIGHT / 2;
    const x2 = to.x;
    const y2 = to.y + NODE_HEIGHT / 2;
    const bend = Math.max(30, Math.abs(x2 - x1) / 2);
    placedEdges.push({
      edge,
      path: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`,
      labelX: (x1 + x2) / 2,
      labelY: (y1 + y2) / 2 - 4,
    });
  }
  const columnsUsed = Math.max(...[...placed.values()].map((p) => p.layer)) + 1;
  return {
    nodes: [...placed.values()],
    edges: placedEdges,
    width: MARGIN * 2 + columnsUsed * NODE_WIDTH + (columnsUsed - 1) * COLUMN_GAP,
    height: MARGIN * 2 + rows * NODE_HEIGHT + (rows - 1) * ROW_GAP,
  };
}

/** The short label a node is drawn with. */
export function nodeLabel(node: LineageNode): { title: string; subtitle: string } {
  const tail = node.name.split('/');
  switch (node.type) {
    case 'model_version':
      return {
        title: `${tail[3] ?? node.name} v${node.version ?? tail[5]}`,
        subtitle: node.status ?? 'version',
      };
    case 'dataset_version':
      return { title: `${tail[3] ?? node.name} v${tail[5] ?? ''}`, subtitle: 'dataset' };
    case 'run':
      return { title: tail[3] ?? node.name, subtitle: `run${node.run_kind ? ` · ${node.run_kind}` : ''}` };
    case 'deployment':
      return {
        title: tail[1] ?? node.name,
        subtitle: `deployment${node.serving ? ` · ${node.serving.map((s) => `v${s.version} ${s.percent}%`).join(', ')}` : ''}`,
      };
  }
}
