import { ErrorNotice, Loading } from '../components/common.js';
import { useAsync } from '../hooks.js';
import { href } from '../router.js';
import { useSession } from '../session.js';
import { layoutLineage, NODE_HEIGHT, NODE_WIDTH, nodeLabel, type PlacedNode } from './layout.js';

/** Upstream (datasets, runs, parents) on the left, downstream (derived versions, deployments) on the right. */
export function LineageGraph(props: { namespace: string; model: string; version: number; etag: string }) {
  const { namespace, model, version, etag } = props;
  const { client } = useSession();
  const graph = useAsync(
    (signal) => client.lineage.get(namespace, model, version, { direction: 'both', depth: 3 }, { signal }),
    // The etag changes with the version's status, which the root node shows.
    [client, namespace, model, version, etag],
  );
  if (graph.error) return <ErrorNotice error={graph.error} />;
  if (!graph.data) return <Loading what="lineage" />;
  const { root, nodes, edges, truncated } = graph.data;
  const layout = layoutLineage(root, nodes, edges);
  return (
    <figure className="lineage">
      <div className="scroll">
        <svg
          width={layout.width}
          height={layout.height}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          role="img"
          aria-labelledby="lineage-caption"
          data-testid="lineage-graph"
        >
          <title>Lineage graph of version {version}</title>
          <defs>
            <marker
              id="arrow"
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="7"
              markerHeight="7"
              orient="auto"
            >
              <path d="M0,0 L10,5 L0,10 z" fill="#5b6573" />
            </marker>
          </defs>
          {layout.edges.map((e) => (
            <g key={`${e.edge.source}-${e.edge.kind}-${e.edge.target}`} className="edge">
              <path d={e.path} markerEnd="url(#arrow)" />
              <text x={e.labelX} y={e.labelY} textAnchor="middle">
                {e.edge.kind.replace('_', ' ')}
              </text>
            </g>
          ))}
          {layout.nodes.map((p) => (
            <Node key={p.node.name} placed={p} root={p.node.name === root} />
          ))}
        </svg>
      </div>
      <figcaption id="lineage-caption">
        Lineage of v{version}: {nodes.length} nodes, {edges.length} edges{truncated ? ' (truncated)' : ''}.
      </figcaption>
      <details>
        <summary>Lineage as a list</summary>
        <ul>
          {edges.map((e) => (
            <li key={`${e.source}-${e.kind}-${e.target}`}>
              {e.source} <em>{e.kind.replace('_', ' ')}</em> {e.target}
            </li>
          ))}
        </ul>
      </details>
    </figure>
  );
}

function Node({ placed, root }: { placed: PlacedNode; root: boolean }) {
  const { node, x, y } = placed;
  const { title, subtitle } = nodeLabel(node);
  const body = (
    <g className={`node node-${node.type}${root ? ' node-root' : ''}`} transform={`translate(${x},${y})`}>
      <title>{node.name}</title>
      <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx={6} />
      <text x={10} y={19} className="node-title">
        {title.length > 24 ? `${title.slice(0, 23)}…` : title}
      </text>
      <text x={10} y={36} className="node-sub">
        {subtitle.length > 30 ? `${subtitle.slice(0, 29)}…` : subtitle}
      </text>
    </g>
  );
  const link = linkOf(node.name);
  return link && !root ? <a href={link}>{body}</a> : body;
}

function linkOf(name: string): string | undefined {
  const v = /^namespaces\/([^/]+)\/models\/([^/]+)\/versions\/(\d+)$/.exec(name);
  if (v) return href(['models', v[1]!, v[2]!, 'versions', v[3]!]);
  const d = /^deployments\/([^/]+)$/.exec(name);
  return d ? href(['deployments', d[1]!]) : undefined;
}
