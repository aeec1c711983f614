import type { LineageEdge, LineageNode } from '@quiver/sdk';
import { describe, expect, it } from 'vitest';
import { modelFilter } from '../src/filters.js';
import { layoutLineage, NODE_WIDTH } from '../src/lineage/layout.js';

const V = 'namespaces/fraud/models/scorer/versions';
const node = (name: string, type: LineageNode['type']): LineageNode => ({ name, type, depth: 0 });

describe('lineage layout', () => {
  const nodes = [
    node(`${V}/2`, 'model_version'),
    node(`${V}/1`, 'model_version'),
    node('namespaces/fraud/datasets/tx/versions/1', 'dataset_version'),
    node('namespaces/fraud/runs/train-1', 'run'),
    node('deployments/prod', 'deployment'),
  ];
  const edges: LineageEdge[] = [
    { source: `${V}/2`, target: `${V}/1`, kind: 'derived_from' },
    { source: `${V}/2`, target: 'namespaces/fraud/datasets/tx/versions/1', kind: 'trained_on' },
    { source: `${V}/2`, target: 'namespaces/fraud/runs/train-1', kind: 'produced_by' },
    { source: `${V}/1`, target: 'namespaces/fraud/datasets/tx/versions/1', kind: 'trained_on' },
    { source: 'deployments/prod', target: `${V}/2`, kind: 'serves' },
  ];

  it('puts what a node came from in the column to its left, and what serves it to its right', () => {
    const layout = layoutLineage(`${V}/2`, nodes, edges);
    const column = (name: string) => layout.nodes.find((p) => p.node.name === name)!.layer;
    expect(column(`${V}/2`)).toBe(1);
    expect(column(`${V}/1`)).toBe(0);
    expect(column('namespaces/fraud/runs/train-1')).toBe(0);
    expect(column('deployments/prod')).toBe(2);
    expect(layout.edges).toHaveLength(edges.length);
  });

  it('never overlaps two nodes and keeps every node inside the drawing', () => {
    const layout = layoutLineage(`${V}/2`, nodes, edges);
    const spots = new Set(layout.nodes.map((p) => `${p.x},${p.y}`));
    expect(spots.size).toBe(nodes.length);
    for (const p of layout.nodes) expect(p.x + NODE_WIDTH).toBeLessThanOrEqual(layout.width);
  });

  it('terminates on a cycle and draws an empty graph as nothing', () => {
    const cyclic: LineageEdge[] = [
      { source: `${V}/2`, target: `${V}/1`, kind: 'derived_from' },
      { source: `${V}/1`, target: `${V}/2`, kind: 'derived_from' },
    ];
    expect(layoutLineage(`${V}/2`, nodes.slice(0, 2), cyclic).nodes).toHaveLength(2);
    expect(layoutLineage('x', [], [])).toEqual({ nodes: [], edges: [], width: 0, height: 0 });
  });
});

describe('model search filter', () => {
  it('turns the search box into a prefix match on the model id, escaping quotes and stars', () => {
    expect(modelFilter('card', '')).toBe('model_id:"card*"');
    expect(modelFilter('a"b*', '')).toBe('model_id:"a\\"b\\**"');
    expect(modelFilter('card', 'labels.team = "risk"')).toBe('model_id:"card*" AND (labels.team = "risk")');
    expect(modelFilter('  ', '')).toBe('');
  });
});
