import type { Deployment, UpdateDeploymentRequest } from '@quiver/sdk';
import { useCallback, useEffect, useState } from 'react';
import { ErrorNotice, Loading, StatusBadge } from '../components/common.js';
import { isDenied, modelParts, when } from '../format.js';
import { useAsync } from '../hooks.js';
import { href, navigate } from '../router.js';
import { useSession } from '../session.js';
import { OperationProgress } from './OperationProgress.js';
import { TrafficEditor } from './TrafficEditor.js';

const SETTLING = new Set(['pending', 'loading', 'deleting']);

/** A deployment: live rollout status, what it serves, canary split, promote and roll back. */
export function DeploymentDetail({ id, operation }: { id: string; operation: string | undefined }) {
  const { client, deny, may } = useSession();
  const [error, setError] = useState<unknown>();
  const deployment = useAsync((signal) => client.deployments.get(id, { signal }), [client, id]);
  const reload = deployment.reload;
  const onDone = useCallback(() => reload(), [reload]);
  const d = deployment.data;
  // Permissions on a deployment are those on the model it serves.
  const scope = d?.model ?? `deployments/${id}`;
  const canUpdate = may('deployments.update', scope);
  // Opened without its operation (from the list, a link): no stream to follow, so re-read
  // the deployment (a new object each time, which re-runs this) until its rollout settles.
  useEffect(() => {
    if (operation || !d || !SETTLING.has(d.status)) return;
    const timer = setTimeout(reload, 1_000);
    return () => clearTimeout(timer);
  }, [operation, d, reload]);

  const update = async (patch: UpdateDeploymentRequest) => {
    setError(undefined);
    try {
      const op = await client.deployments.update(id, patch);
      navigate(href(['deployments', id], { op: op.name }));
    } catch (err) {
      if (isDenied(err)) deny('deployments.update', scope);
      setError(err);
    }
  };

  return (
    <section aria-labelledby="deployment-title">
      <p className="crumbs">
        <a href="#/deployments">Deployments</a>
      </p>
      <h1 id="deployment-title">
        {id} {d ? <StatusBadge status={d.status} /> : null}
      </h1>
      {operation ? <OperationProgress key={operation} name={operation} onDone={onDone} /> : null}
      <ErrorNotice error={deployment.error} />
      {deployment.loading && !d ? <Loading what="deployment" /> : null}
      {d ? (
        <div className="columns">
          <div>
            <Facts d={d} />
            <p>
              <a className="button" href={href(['playground'], { deployment: id })}>
                Try it in the playground
              </a>
            </p>
          </div>
          <div>
            {canUpdate ? (
              <>
                {/* Keyed by generation: a new spec starts the forms over from what is deployed. */}
                <Promotion key={`p${d.generation}`} d={d} onUpdate={update} />
                <TrafficEditor
                  key={`t${d.generation}`}
                  deployment={d}
                  onApply={(traffic) => update({ traffic })}
                />
              </>
            ) : (
              <p className="muted">Changing this deployment needs the deployments.update permission.</p>
            )}
            <ErrorNotice error={error} />
          </div>
        </div>
      ) : null}
    </section>
  );
}

function Facts({ d }: { d: Deployment }) {
  const [ns, model] = modelParts(d.model) ?? ['', ''];
  return (
    <dl className="facts">
      <dt>Model</dt>
      <dd>
        <a href={href(['models', ns, model])}>
          {ns}/{model}
        </a>
      </dd>
      <dt>Serving</dt>
      <dd data-testid="serving">
        {d.serving.length === 0 ? <span className="muted">nothing yet</span> : null}
        {d.serving.map((s) => (
          <div key={s.version}>
            <a href={href(['models', ns, model, 'versions', s.version])}>v{s.version}</a> {s.percent}%{' '}
            <code className="small">{s.artifact_digest.slice(0, 19)}…</code>
          </div>
        ))}
      </dd>
      <dt>Status</dt>
      <dd data-testid="deployment-status">
        {d.status} · {d.status_message}
      </dd>
      <dt>Replicas</dt>
      <dd>{d.replicas}</dd>
      <dt>Generation</dt>
      <dd>
        {d.observed_generation} of {d.generation}
      </dd>
      <dt>Updated</dt>
      <dd>{when(d.update_time)}</dd>
    </dl>
  );
}

/**
 * Promote makes a canary the only version; roll back returns all traffic to the version that
 * carried the most (the stable one), or to an earlier version when nothing is split.
 */
function Promotion({ d, onUpdate }: { d: Deployment; onUpdate: (p: UpdateDeploymentRequest) => void }) {
  const serving = [...d.serving].sort((a, b) => b.percent - a.percent);
  const stable = serving[0];
  const canaries = serving.slice(1);
  const [target, setTarget] = useState(() => Math.max(1, (stable?.version ?? 2) - 1));
  if (!stable) return null;
  return (
    <div className="card">
      <h2>Promote or roll back</h2>
      {canaries.length > 0 ? (
        <div className="buttons">
          {canaries.map((c) => (
            <button
              key={c.version}
              type="button"
              className="primary"
              onClick={() => onUpdate({ version: c.version })}
            >
              Promote v{c.version} to 100%
            </button>
          ))}
          <button type="button" className="danger" onClick={() => onUpdate({ version: stable.version })}>
            Roll back to v{stable.version}
          </button>
        </div>
      ) : (
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            onUpdate({ version: target });
          }}
        >
          <label htmlFor="rollback-version">Roll back to version</label>
          <input
            id="rollback-version"
            type="number"
            min={1}
            value={target}
            onChange={(e) => setTarget(Number(e.target.value))}
          />
          <button type="submit" className="danger">
            Roll back
          </button>
        </form>
      )}
    </div>
  );
}
