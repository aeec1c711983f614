import { deploymentName } from '../domain/deployments.js';
import type { Repositories } from '../ports/repositories.js';
import type { DeploymentRecord, ResolvedTarget } from '../ports/serving.repositories.js';

/**
 * Writes what a rollout or an undeploy changed into the lifecycle history of each version it
 * touched, in the transaction of that change: `deployed` for a version that starts serving (or
 * whose share changed), `undeployed` for one that stops. The timeline reads them from there;
 * deriving them later from the deployments table would lose them when a deployment is deleted.
 */
export async function recordServingChanges(
  repos: Repositories,
  d: DeploymentRecord,
  before: readonly ResolvedTarget[],
  after: readonly ResolvedTarget[],
  actor: string,
  time: number,
  reason: string,
): Promise<void> {
  const was = new Map(before.map((t) => [t.version, t]));
  const now = new Map(after.map((t) => [t.version, t]));
  const entry = (version: number, kind: 'deployed' | 'undeployed', details: Record<string, unknown>) =>
    repos.history.append({
      model_pk: d.model_pk,
      version,
      kind,
      from_status: null,
      to_status: null,
      alias: null,
      actor,
      reason,
      time,
      details: { deployment: deploymentName(d.deployment_id), generation: d.generation, ...details },
    });
  for (const t of after) {
    const previous = was.get(t.version);
    if (previous?.percent === t.percent) continue;
    await entry(t.version, 'deployed', {
      percent: t.percent,
      previous_percent: previous?.percent ?? 0,
      artifact_digest: t.artifact_digest,
    });
  }
  for (const t of before) {
    if (!now.has(t.version)) await entry(t.version, 'undeployed', { previous_percent: t.percent });
  }
}

/** Who asked for the rollout (older jobs, enqueued before the payload carried it, say `system`). */
export function actorOf(payload: Record<string, unknown>): string {
  return typeof payload.actor === 'string' && payload.actor ? payload.actor : 'system';
}
