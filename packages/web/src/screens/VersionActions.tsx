import type { Version, VersionStatus } from '@quiver/sdk';
import { useState } from 'react';
import { ErrorNotice } from '../components/common.js';
import { isDenied, modelParts } from '../format.js';
import { href, navigate } from '../router.js';
import { useSession } from '../session.js';

/** The lifecycle's legal next steps (the server enforces them; this only picks the buttons). */
const NEXT: Record<VersionStatus, VersionStatus[]> = {
  registered: ['validated', 'rejected'],
  validated: ['approved', 'rejected'],
  approved: ['deprecated'],
  deprecated: ['archived'],
  archived: [],
  rejected: [],
};

/** Approval needs its own permission on top of `versions.transition`. */
const permissionFor = (to: VersionStatus) => (to === 'approved' ? 'versions.approve' : 'versions.transition');
const labelFor = (to: VersionStatus) => (to === 'approved' ? 'Approve' : `Mark ${to}`);

/**
 * Transition and deploy actions, each shown only when whoami's grants allow it on this model
 * (and hidden for the session should the server still refuse it).
 */
export function VersionActions({ version, onChanged }: { version: Version; onChanged: () => void }) {
  const { client, deny, may } = useSession();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [ns, model] = modelParts(version.model) ?? ['', ''];
  const scope = version.model;
  const allowed = (permission: string) => may(permission, scope);
  const steps = NEXT[version.status].filter((to) => allowed(permissionFor(to)));

  const transition = async (to: VersionStatus) => {
    setBusy(true);
    setError(undefined);
    try {
      await client.versions.transition(ns, model, version.version, {
        status: to,
        reason: reason || undefined,
      });
      setReason('');
      onChanged();
    } catch (err) {
      if (isDenied(err)) deny(permissionFor(to), scope);
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card">
      <h2>Actions</h2>
      {steps.length > 0 ? (
        <fieldset disabled={busy}>
          <legend>Lifecycle</legend>
          <label htmlFor="reason">Reason (recorded in the history)</label>
          <input id="reason" value={reason} onChange={(e) => setReason(e.target.value)} />
          <div className="buttons">
            {steps.map((to) => (
              <button
                key={to}
                type="button"
                className={to === 'rejected' ? 'danger' : to === 'approved' ? 'primary' : ''}
                onClick={() => transition(to)}
              >
                {labelFor(to)}
              </button>
            ))}
          </div>
        </fieldset>
      ) : (
        <p className="muted">No lifecycle step available to you from {version.status}.</p>
      )}
      {allowed('deployments.create') && version.artifact ? (
        <DeployForm version={version} onDenied={() => deny('deployments.create', scope)} />
      ) : null}
      <ErrorNotice error={error} />
    </div>
  );
}

function DeployForm({ version, onDenied }: { version: Version; onDenied: () => void }) {
  const { client } = useSession();
  const [, model] = modelParts(version.model) ?? ['', ''];
  const [id, setId] = useState(`${model}-v${version.version}`.slice(0, 63));
  const [replicas, setReplicas] = useState(1);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const op = await client.deployments.create({
        deployment_id: id,
        model: version.model,
        version: version.version,
        replicas,
      });
      navigate(href(['deployments', id], { op: op.name }));
    } catch (err) {
      if (isDenied(err)) onDenied();
      setError(err);
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit}>
      <fieldset disabled={busy}>
        <legend>Deploy this version</legend>
        <label htmlFor="deployment-id">Deployment name</label>
        <input
          id="deployment-id"
          value={id}
          onChange={(e) => setId(e.target.value)}
          pattern="[a-z0-9]([-a-z0-9]*[a-z0-9])?"
          required
        />
        <label htmlFor="replicas">Replicas</label>
        <input
          id="replicas"
          type="number"
          min={1}
          max={64}
          value={replicas}
          onChange={(e) => setReplicas(Number(e.target.value))}
        />
        <button type="submit">Deploy</button>
      </fieldset>
      <ErrorNotice error={error} />
    </form>
  );
}
