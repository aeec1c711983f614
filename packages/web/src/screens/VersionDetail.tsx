import type { Signature, TensorSpec, VersionRef } from '@quiver/sdk';
import { ErrorNotice, Labels, Loading, StatusBadge } from '../components/common.js';
import { bytes, when } from '../format.js';
import { useAsync } from '../hooks.js';
import { LineageGraph } from '../lineage/LineageGraph.js';
import { href } from '../router.js';
import { useSession } from '../session.js';
import { Timeline } from './Timeline.js';
import { VersionActions } from './VersionActions.js';

/** One version: what it is (signature, artifact, metadata), what happened to it, where it came from. */
export function VersionDetail(props: { namespace: string; model: string; version: string }) {
  const { namespace, model, version } = props;
  const { client } = useSession();
  const ref: VersionRef = /^\d+$/.test(version)
    ? Number(version)
    : (`@${version.replace(/^@/, '')}` as const);
  const v = useAsync(
    (signal) => client.versions.get(namespace, model, ref, { signal }),
    [client, namespace, model, version],
  );
  const data = v.data;

  return (
    <section aria-labelledby="version-title">
      <p className="crumbs">
        <a href="#/models">Models</a> / {namespace} / <a href={href(['models', namespace, model])}>{model}</a>
      </p>
      <h1 id="version-title">
        {model} v{data?.version ?? version} {data ? <StatusBadge status={data.status} /> : null}
      </h1>
      <ErrorNotice error={v.error} />
      {v.loading && !data ? <Loading what="version" /> : null}
      {data ? (
        <>
          <div className="columns">
            <div>
              <dl className="facts">
                <dt>Description</dt>
                <dd>{data.description || <span className="muted">none</span>}</dd>
                <dt>Aliases</dt>
                <dd>{data.aliases.map((a) => `@${a}`).join(', ') || <span className="muted">none</span>}</dd>
                <dt>Labels</dt>
                <dd>
                  <Labels labels={data.labels} />
                </dd>
                <dt>Artifact</dt>
                <dd>
                  {data.artifact ? (
                    <>
                      <code className="digest" data-testid="artifact-digest">
                        {data.artifact.digest}
                      </code>
                      <div className="muted small">
                        {bytes(data.artifact.size_bytes)} · {data.artifact.media_type}
                      </div>
                    </>
                  ) : (
                    <span className="muted">metadata only</span>
                  )}
                </dd>
                <dt>Source</dt>
                <dd>{data.source_uri || <span className="muted">none</span>}</dd>
                <dt>Created</dt>
                <dd>
                  {when(data.create_time)} by {data.created_by}
                </dd>
              </dl>
              <h2>Metadata</h2>
              <pre className="json">{JSON.stringify(data.metadata, null, 2)}</pre>
            </div>
            <div>
              <VersionActions version={data} onChanged={v.reload} />
              <SignatureView signature={data.signature} />
            </div>
          </div>
          <h2>Lineage</h2>
          <LineageGraph namespace={namespace} model={model} version={data.version} etag={data.etag} />
          <h2>Timeline</h2>
          <Timeline namespace={namespace} model={model} version={data.version} etag={data.etag} />
        </>
      ) : null}
    </section>
  );
}

function SignatureView({ signature }: { signature: Signature | null }) {
  if (!signature) return <p className="muted">No signature (not an ONNX model).</p>;
  return (
    <>
      <h2>Signature</h2>
      <p className="muted small">
        {signature.format} · opset {signature.opset ?? '?'} · {signature.producer || 'unknown producer'}
      </p>
      <TensorTable caption="Inputs" specs={signature.inputs} />
      <TensorTable caption="Outputs" specs={signature.outputs} />
    </>
  );
}

function TensorTable({ caption, specs }: { caption: string; specs: TensorSpec[] }) {
  return (
    <table className="compact">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Type</th>
          <th scope="col">Shape</th>
        </tr>
      </thead>
      <tbody>
        {specs.map((s) => (
          <tr key={s.name}>
            <td>
              <code>{s.name}</code>
            </td>
            <td>{s.datatype}</td>
            <td>[{s.shape.map((d) => (d < 0 ? '?' : d)).join(', ')}]</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
