import { randomUUID } from 'node:crypto';
import {
  assertDeploymentId,
  deploymentName,
  MAX_BATCH_SIZE,
  MAX_QUEUE_DELAY_US,
  MAX_REPLICAS,
  normaliseTraffic,
  type TrafficInput,
} from '../domain/deployments.js';
import { QuiverError } from '../domain/errors.js';
import { modelName, parseModelName, versionName } from '../domain/names.js';
import { GLOBAL, visibleTo } from '../domain/permissions.js';
import { etagOf, rfc3339 } from '../domain/resources.js';
import type { Clock, Ids } from '../ports/clock.js';
import type { Repositories } from '../ports/repositories.js';
import type {
  BatchingConfig,
  DeploymentRecord,
  OperationRecord,
  TrafficTarget,
} from '../ports/serving.repositories.js';
import type { UnitOfWork } from '../ports/unit-of-work.js';
import type { CallContext } from './context.js';
import { requireModel, resolveRef, versionNotFound } from './lookups.js';
import type { Mutations } from './mutations.js';

export interface Deployment {
  name: string;
  uid: string;
  deployment_id: string;
  model: string;
  traffic: TrafficTarget[];
  /** What the last rollout serves: version numbers (aliases resolved) and their artifacts. */
  serving: { version: number; percent: number; artifact_digest: string }[];
  replicas: number;
  batching: BatchingConfig | null;
  status: DeploymentRecord['status'];
  status_message: string;
  generation: number;
  observed_generation: number;
  create_time: string;
  update_time: string;
  etag: string;
}

export interface Operation {
  name: string;
  done: boolean;
  metadata: {
    kind: OperationRecord['kind'];
    target: string;
    progress: number;
    message: string;
    create_time: string;
    update_time: string;
  };
  result?: Record<string, unknown>;
  error?: { code: string; message: string; details: Record<string, unknown> };
}

export interface DeploymentSpecInput {
  version?: string | number | undefined;
  traffic?: TrafficInput[] | undefined;
  replicas?: number | undefined;
  batching?: BatchingConfig | null | undefined;
}

/** Job kinds this service enqueues; the worker must have exactly one handler for each. */
export const ROLLOUT_JOB = 'deployment.rollout';
export const UNDEPLOY_JOB = 'deployment.undeploy';
export const ROLLOUT_ATTEMPTS = 5;

export interface DeploymentServiceDeps {
  store: UnitOfWork;
  /** Every change goes through here: idempotency, the audit log, cache invalidation. */
  mutations: Mutations;
  clock: Clock;
  ids: Ids;
  /** Wakes an in-process worker at once after a commit (other workers poll). */
  wake: () => void;
  /**
   * When tracing: starts the `job.enqueue` span of a job and gives its W3C traceparent, stored with
   * the job so that the worker (maybe in another process) continues the trace under it.
   */
  traceJob?: (kind: string) => { traceparent: string; end(): void };
}

export class DeploymentService {
  constructor(private readonly deps: DeploymentServiceDeps) {}

  /** Accepts a deployment and returns its rollout operation at once; a worker does the work. */
  async rollOut(
    ctx: CallContext,
    input: DeploymentSpecInput & { deployment_id: string; model: string },
  ): Promise<Operation> {
    const deployment_id = assertDeploymentId(input.deployment_id);
    const { namespace, model } = parseModelName(input.model);
    const spec = checkSpec(input);
    const { clock, ids } = this.deps;
    const op = await this.deps.mutations.run(
      ctx,
      {
        action: 'CreateDeployment',
        resource: `deployments/${deployment_id}`,
        request: { deployment_id, namespace, model, spec },
      },
      async (repos) => {
        const key = await requireModel(repos, namespace, model);
        const traffic = await checkTargets(repos, key, spec.traffic);
        const time = clock.now();
        const record = await repos.deployments.create({
          uid: ids.uid(),
          deployment_id,
          model_pk: key.pk,
          model: modelName(key.namespace, key.model_id),
          traffic,
          replicas: spec.replicas,
          batching: spec.batching,
          time,
        });
        return enqueue(repos, ROLLOUT_JOB, 'deploy', record, ctx, time, this.deps.traceJob);
      },
    );
    this.deps.wake();
    return op;
  }

  async get(_ctx: CallContext, deploymentId: string): Promise<Deployment> {
    assertDeploymentId(deploymentId, 'deployment');
    const record = await this.deps.store.read((repos) => repos.deployments.get(deploymentId));
    if (!record) throw deploymentNotFound(deploymentId);
    return toDeployment(record);
  }

  async list(ctx: CallContext, request: { page_size?: number | undefined; after?: number | undefined }) {
    const limit = Math.min(Math.max(request.page_size || 50, 1), 1000);
    const visible = visibleTo(ctx.actor, 'deployments.list', GLOBAL);
    const rows = await this.deps.store.read((repos) =>
      repos.deployments.list(request.after ?? null, limit + 1, visible),
    );
    const page = rows.slice(0, limit);
    return { deployments: page.map(toDeployment), next: rows.length > limit ? page.at(-1)!.pk : null };
  }

  async batchGet(
    _ctx: CallContext,
    names: readonly string[],
  ): Promise<{ deployments: Deployment[]; missing: string[] }> {
    if (names.length > 1000) {
      throw new QuiverError('TOO_MANY_ITEMS', `names may hold at most 1000 entries; got ${names.length}.`, {
        details: { field: 'names' },
      });
    }
    const ids = names.map((n, i) =>
      assertDeploymentId(String(n).replace(/^deployments\//, ''), `names[${i}]`),
    );
    const found = await this.deps.store.read((repos) => repos.deployments.getMany(ids));
    const byId = new Map(found.map((d) => [d.deployment_id, d]));
    return {
      deployments: ids.filter((id) => byId.has(id)).map((id) => toDeployment(byId.get(id)!)),
      missing: names.filter((_, i) => !byId.has(ids[i]!)),
    };
  }

  /** Changes what a deployment serves (promote a canary, roll back, resize): a new rollout. */
  async update(
    ctx: CallContext,
    deploymentId: string,
    input: DeploymentSpecInput,
    ifMatch?: string,
  ): Promise<Operation> {
    assertDeploymentId(deploymentId, 'deployment');
    const { clock } = this.deps;
    const op = await this.deps.mutations.run(
      ctx,
      {
        action: 'UpdateDeployment',
        resource: `deployments/${deploymentId}`,
        request: { deploymentId, input, ifMatch },
      },
      async (repos) => {
        const current = await repos.deployments.get(deploymentId);
        if (!current) throw deploymentNotFound(deploymentId);
        if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== etagOf(current.revision, current.uid)) {
          throw new QuiverError(
            'ETAG_MISMATCH',
            'The deployment changed since it was read; read it again and retry.',
            {
              details: { field: 'If-Match', etag: etagOf(current.revision, current.uid) },
            },
          );
        }
        if (current.status === 'deleting') throw deleting(deploymentId);
        const keepTraffic = input.version === undefined && input.traffic === undefined;
        const spec = checkSpec({
          ...(keepTraffic
            ? { traffic: current.traffic }
            : { version: input.version, traffic: input.traffic }),
          replicas: input.replicas ?? current.replicas,
          batching: input.batching === undefined ? current.batching : input.batching,
        });
        const [, nsModel] = current.model.split('namespaces/');
        const [namespace, , model] = nsModel!.split('/');
        const key = await requireModel(repos, namespace!, model!);
        const traffic = await checkTargets(repos, key, spec.traffic);
        const time = clock.now();
        const record = await repos.deployments.respec(
          current.pk,
          { traffic, replicas: spec.replicas, batching: spec.batching },
          time,
        );
        return enqueue(repos, ROLLOUT_JOB, 'update', record, ctx, time, this.deps.traceJob);
      },
    );
    this.deps.wake();
    return op;
  }

  async delete(ctx: CallContext, deploymentId: string): Promise<Operation> {
    assertDeploymentId(deploymentId, 'deployment');
    const { clock } = this.deps;
    const op = await this.deps.mutations.run(
      ctx,
      { action: 'DeleteDeployment', resource: `deployments/${deploymentId}`, request: { deploymentId } },
      async (repos) => {
        const current = await repos.deployments.get(deploymentId);
        if (!current) throw deploymentNotFound(deploymentId);
        if (current.status === 'deleting') throw deleting(deploymentId);
        const time = clock.now();
        const record = await repos.deployments.markDeleting(current.pk, time);
        return enqueue(repos, UNDEPLOY_JOB, 'undeploy', record, ctx, time, this.deps.traceJob);
      },
    );
    this.deps.wake();
    return op;
  }
}

function checkSpec(input: DeploymentSpecInput) {
  const traffic = normaliseTraffic(input);
  const replicas = input.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
    throw new QuiverError('INVALID_ARGUMENT', `replicas must be an integer from 1 to ${MAX_REPLICAS}.`, {
      details: { field: 'replicas' },
    });
  }
  const batching = input.batching ?? null;
  if (batching) {
    const { max_batch_size: size, max_queue_delay_us: delay } = batching;
    if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH_SIZE) {
      throw new QuiverError('INVALID_ARGUMENT', `batching.max_batch_size must be 1..${MAX_BATCH_SIZE}.`, {
        details: { field: 'batching.max_batch_size' },
      });
    }
    if (!Number.isInteger(delay) || delay < 0 || delay > MAX_QUEUE_DELAY_US) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `batching.max_queue_delay_us must be 0..${MAX_QUEUE_DELAY_US}.`,
        {
          details: { field: 'batching.max_queue_delay_us' },
        },
      );
    }
  }
  return { traffic, replicas, batching };
}

/** Every target must exist now (a typo fails at once, not in the worker); aliases are resolved again at rollout. */
async function checkTargets(
  repos: Repositories,
  key: Awaited<ReturnType<typeof requireModel>>,
  traffic: ReturnType<typeof normaliseTraffic>,
) {
  const policy = await repos.policies.get(key.namespace);
  for (const t of traffic) {
    const number = await resolveRef(repos, key, t.ref);
    const version = await repos.versions.key(key.pk, number);
    if (!version) throw versionNotFound(key, number);
    if (policy?.require_approval_for_deploy && version.status !== 'approved') {
      throw new QuiverError(
        'APPROVAL_REQUIRED',
        `Namespace '${key.namespace}' deploys only approved versions; version ${number} is ${version.status}.`,
        { details: { resource: versionName(key.namespace, key.model_id, number), status: version.status } },
      );
    }
  }
  return traffic.map((t) => ({ version: t.version, percent: t.percent }));
}

async function enqueue(
  repos: Repositories,
  kind: string,
  opKind: OperationRecord['kind'],
  record: DeploymentRecord,
  ctx: CallContext,
  time: number,
  traceJob: DeploymentServiceDeps['traceJob'],
) {
  const id = randomUUID();
  const op = await repos.operations.create({
    id,
    kind: opKind,
    target: deploymentName(record.deployment_id),
    create_time: time,
  });
  const traced = traceJob?.(kind);
  await repos.jobs.enqueue(
    {
      kind,
      payload: {
        deployment_pk: record.pk,
        deployment_id: record.deployment_id,
        generation: record.generation,
        operation: id,
        // The version timeline credits the deployment to whoever asked for it.
        actor: ctx.actor.principal,
      },
      maxAttempts: ROLLOUT_ATTEMPTS,
      runAfter: time,
      traceContext: traced?.traceparent ?? '',
    },
    time,
  );
  traced?.end();
  return toOperation(op);
}

export function toDeployment(r: DeploymentRecord): Deployment {
  return {
    name: deploymentName(r.deployment_id),
    uid: r.uid,
    deployment_id: r.deployment_id,
    model: r.model,
    traffic: r.traffic,
    serving: r.resolved,
    replicas: r.replicas,
    batching: r.batching,
    status: r.status,
    status_message: r.status_message,
    generation: r.generation,
    observed_generation: r.observed_generation,
    create_time: rfc3339(r.create_time),
    update_time: rfc3339(r.update_time),
    etag: etagOf(r.revision, r.uid),
  };
}

export function toOperation(r: OperationRecord): Operation {
  return {
    name: `operations/${r.id}`,
    done: r.done,
    metadata: {
      kind: r.kind,
      target: r.target,
      progress: r.progress,
      message: r.message,
      create_time: rfc3339(r.create_time),
      update_time: rfc3339(r.update_time),
    },
    ...(r.result ? { result: r.result } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

export function deploymentNotFound(id: string): QuiverError {
  return new QuiverError('DEPLOYMENT_NOT_FOUND', `Deployment '${id}' does not exist.`, {
    details: { resource: deploymentName(id) },
  });
}

function deleting(id: string): QuiverError {
  return new QuiverError('DEPLOYMENT_DELETING', `Deployment '${id}' is being deleted.`, {
    details: { resource: deploymentName(id) },
  });
}
