import type { Tracer } from '@opentelemetry/api';
import { deploymentName } from '../domain/deployments.js';
import { QuiverError } from '../domain/errors.js';
import { parseVersionRef } from '../domain/names.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { Clock } from '../ports/clock.js';
import type { ServingMetrics } from '../ports/metrics.js';
import type { ModelRuntime } from '../ports/model-runtime.js';
import type { DeploymentRecord, Job, ResolvedTarget } from '../ports/serving.repositories.js';
import type { UnitOfWork } from '../ports/unit-of-work.js';
import { ROLLOUT_JOB, toDeployment, UNDEPLOY_JOB } from '../services/deployment.service.js';
import { withSpan } from '../telemetry/tracing.js';
import { actorOf, recordServingChanges } from './serving-history.js';
import { type JobHandler, type JobRun, PermanentJobError } from './worker.js';

export interface RolloutDeps {
  store: UnitOfWork;
  clock: Clock;
  runtime: ModelRuntime;
  artifacts: ArtifactStore;
  /** Tells in-process inference that a deployment changed (other processes poll). */
  changed: (deploymentId: string) => void;
  /** Model load times. */
  metrics?: Pick<ServingMetrics, 'modelLoad'>;
  /** When tracing: a `model.load` span per model loaded. */
  tracer?: Tracer | undefined;
}

interface Payload {
  deployment_pk: number;
  deployment_id: string;
  generation: number;
  operation: string;
}

/**
 * Rolls a deployment out: resolves its versions (aliases as they are now), loads and warms up
 * each model, and only then reports `ready`. Each job works for one generation of the spec: a
 * newer change supersedes it, and a crashed worker's job is resumed by another after its lease.
 */
export function rolloutHandler(deps: RolloutDeps): JobHandler {
  const { store, clock } = deps;
  const progress = (op: string, pct: number, message: string) =>
    store.write((repos) => repos.operations.progress(op, pct, message, clock.now()));
  /** The operation's progress and the deployment's status move together, in one transaction. */
  const step = (op: string, d: DeploymentRecord, pct: number, message: string) =>
    store.write(async (repos) => {
      const time = clock.now();
      await repos.operations.progress(op, pct, message, time);
      await repos.deployments.setStatus(d.pk, d.generation, 'loading', message, null, time);
    });

  return {
    kind: ROLLOUT_JOB,
    async run({ job, lastAttempt }: JobRun) {
      const p = job.payload as unknown as Payload;
      const current = await store.read((repos) => repos.deployments.get(p.deployment_id));
      if (
        !current ||
        current.pk !== p.deployment_pk ||
        current.generation !== p.generation ||
        current.status === 'deleting'
      ) {
        await supersede(deps, p);
        return;
      }
      try {
        await step(p.operation, current, 5, 'resolving versions');
        const resolved = await resolveTargets(deps, current);
        for (const [i, target] of resolved.entries()) {
          const message = `loading version ${target.version} (${target.artifact_digest.slice(0, 19)}…)`;
          await step(p.operation, current, 10 + Math.round((80 * i) / resolved.length), message);
          const bytes = await deps.artifacts.read(target.artifact_digest);
          try {
            const held = deps.runtime.loaded().some((m) => m.key === target.artifact_digest);
            const started = performance.now();
            await withSpan(
              deps.tracer,
              'model.load',
              { 'quiver.artifact.digest': target.artifact_digest, 'quiver.model.held': held },
              () => deps.runtime.load(target.artifact_digest, bytes, { warmup: true }),
            );
            if (!held) deps.metrics?.modelLoad((performance.now() - started) / 1000);
          } catch (err) {
            const e = QuiverError.from(err);
            throw e.reason === 'INVALID_MODEL' || e.reason === 'MODEL_TOO_LARGE'
              ? new PermanentJobError(e)
              : err;
          }
        }
        const summary = resolved.map((t) => `v${t.version} ${t.percent}%`).join(', ');
        // Ready and the operation's result commit together: no reader sees one without the other.
        const finished = await store.write(async (repos) => {
          const time = clock.now();
          if (
            !(await repos.deployments.setStatus(
              current.pk,
              current.generation,
              'ready',
              `serving ${summary}`,
              resolved,
              time,
            ))
          ) {
            return false;
          }
          const by = actorOf(job.payload);
          await recordServingChanges(
            repos,
            current,
            current.resolved,
            resolved,
            by,
            time,
            `rollout ${summary}`,
          );
          const after = await repos.deployments.get(p.deployment_id);
          const result = toDeployment(after ?? current) as unknown as Record<string, unknown>;
          await repos.operations.finish(p.operation, { result }, time);
          return true;
        });
        if (!finished) {
          await supersede(deps, p);
          return;
        }
        deps.changed(p.deployment_id);
      } catch (err) {
        if (!lastAttempt && !(err instanceof PermanentJobError)) {
          await progress(
            p.operation,
            5,
            `attempt ${job.attempts} failed: ${(err as Error).message}; retrying`,
          ).catch(() => {});
        }
        throw err;
      }
    },
    async giveUp(job: Job, error: QuiverError) {
      const p = job.payload as unknown as Payload;
      const current = await store.read((repos) => repos.deployments.get(p.deployment_id));
      if (current && current.generation === p.generation)
        await setStatus(deps, current, 'failed', error.message, null);
      await store.write((repos) =>
        repos.operations.finish(
          p.operation,
          { error: { code: error.code, message: error.message, details: error.details } },
          clock.now(),
        ),
      );
      deps.changed(p.deployment_id);
    },
  };
}

/** Removes a deployment; models no other deployment serves are unloaded from this process. */
export function undeployHandler(deps: RolloutDeps): JobHandler {
  const { store, clock } = deps;
  return {
    kind: UNDEPLOY_JOB,
    async run({ job }: JobRun) {
      const p = job.payload as unknown as Payload;
      const current = await store.read((repos) => repos.deployments.get(p.deployment_id));
      if (current && current.pk === p.deployment_pk) {
        await store.write(async (repos) => {
          await repos.operations.progress(p.operation, 50, 'removing', clock.now());
          await repos.deployments.delete(current.pk);
          const by = actorOf(job.payload);
          await recordServingChanges(repos, current, current.resolved, [], by, clock.now(), 'undeployed');
          await repos.operations.finish(
            p.operation,
            { result: { name: deploymentName(p.deployment_id), deleted: true } },
            clock.now(),
          );
        });
        for (const digest of await unusedDigests(store, current.resolved)) await deps.runtime.unload(digest);
      } else {
        await store.write((repos) =>
          repos.operations.finish(
            p.operation,
            { result: { name: deploymentName(p.deployment_id), deleted: true } },
            clock.now(),
          ),
        );
      }
      deps.changed(p.deployment_id);
    },
    async giveUp(job: Job, error: QuiverError) {
      const p = job.payload as unknown as Payload;
      await store.write((repos) =>
        repos.operations.finish(
          p.operation,
          { error: { code: error.code, message: error.message, details: error.details } },
          clock.now(),
        ),
      );
    },
  };
}

async function resolveTargets(deps: RolloutDeps, d: DeploymentRecord): Promise<ResolvedTarget[]> {
  const [namespace, model] = d.model.replace(/^namespaces\//, '').split('/models/') as [string, string];
  return deps.store.read(async (repos) => {
    const out: ResolvedTarget[] = [];
    for (const t of d.traffic) {
      const ref = parseVersionRef(t.version);
      const number = ref.kind === 'number' ? ref.version : await repos.aliases.resolve(d.model_pk, ref.alias);
      if (number === undefined) {
        throw new PermanentJobError(
          new QuiverError(
            'ALIAS_NOT_FOUND',
            `Model '${namespace}/${model}' has no alias '${t.version}' any more.`,
          ),
        );
      }
      const version = await repos.versions.get(d.model_pk, number);
      if (!version)
        throw new PermanentJobError(
          new QuiverError('VERSION_NOT_FOUND', `Model '${namespace}/${model}' has no version ${number}.`),
        );
      if (version.artifact?.format !== 'onnx') {
        throw new PermanentJobError(
          new QuiverError(
            'INVALID_MODEL',
            `Version ${number} of '${namespace}/${model}' has no ONNX artifact to serve; register one with artifact.format onnx.`,
          ),
        );
      }
      out.push({ version: number, percent: t.percent, artifact_digest: version.artifact.digest });
    }
    return out;
  });
}

function setStatus(
  deps: RolloutDeps,
  d: DeploymentRecord,
  status: DeploymentRecord['status'],
  message: string,
  resolved: ResolvedTarget[] | null,
) {
  return deps.store.write((repos) =>
    repos.deployments.setStatus(d.pk, d.generation, status, message, resolved, deps.clock.now()),
  );
}

async function supersede(deps: RolloutDeps, p: Payload): Promise<void> {
  await deps.store.write((repos) =>
    repos.operations.finish(
      p.operation,
      {
        error: {
          code: 'ABORTED',
          message: 'Superseded by a newer change to the deployment.',
          details: { reason: 'CONCURRENT_UPDATE' },
        },
      },
      deps.clock.now(),
    ),
  );
}

/** Of `targets`' models, those no remaining deployment serves (the table read in pages, all of it). */
async function unusedDigests(store: UnitOfWork, targets: readonly ResolvedTarget[]): Promise<string[]> {
  const unused = new Set(targets.map((t) => t.artifact_digest));
  const page = 1_000;
  for (let after: number | null = null; unused.size > 0; ) {
    const rows = await store.read((repos) => repos.deployments.list(after, page));
    for (const d of rows) for (const t of d.resolved) unused.delete(t.artifact_digest);
    if (rows.length < page) break;
    after = rows.at(-1)!.pk;
  }
  return [...unused];
}
