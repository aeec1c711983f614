import { QuiverError } from '../domain/errors.js';
import {
  RUN_KINDS,
  RUN_STATUSES,
  type Run,
  type RunKind,
  type RunStatus,
  runName,
} from '../domain/lineage.js';
import { assertId, preview } from '../domain/names.js';
import type { PageTokenCodec } from '../domain/page-token.js';
import { etagOf, type JsonObject, type Labels, type Page } from '../domain/resources.js';
import { checkLabels, checkMetadata, checkText, LIMITS } from '../domain/validation.js';
import type { Clock, Ids } from '../ports/clock.js';
import type { RunPatch } from '../ports/lineage.repositories.js';
import type { Repositories } from '../ports/repositories.js';
import type { UnitOfWork } from '../ports/unit-of-work.js';
import type { CallContext, ListRequest } from './context.js';
import { listPage } from './listing.js';
import { checkEtag, staleEtag } from './lookups.js';
import type { Mutations } from './mutations.js';
import { namespaceNotFound } from './namespace.service.js';

export interface RunServiceDeps {
  store: UnitOfWork;
  /** Every change goes through here: idempotency, the audit log, cache invalidation. */
  mutations: Mutations;
  clock: Clock;
  ids: Ids;
  tokens: PageTokenCodec;
}

export interface NewRunInput {
  run_id: string;
  kind: string;
  status?: string | undefined;
  description?: string | undefined;
  labels?: Labels | undefined;
  code_commit?: string | undefined;
  parameters?: JsonObject | undefined;
  metrics?: JsonObject | undefined;
  environment?: JsonObject | undefined;
  start_time?: string | undefined;
  end_time?: string | undefined;
}

export interface RunPatchInput {
  status?: string | undefined;
  description?: string | undefined;
  labels?: Labels | undefined;
  metrics?: JsonObject | undefined;
  end_time?: string | undefined;
}

/** Training and evaluation runs (`namespaces/{ns}/runs/{run}`): code commit, parameters, metrics, environment. */
export class RunService {
  constructor(private readonly deps: RunServiceDeps) {}

  async create(ctx: CallContext, namespace: string, input: NewRunInput): Promise<Run> {
    assertId('namespace', namespace);
    const run_id = assertId('run', input.run_id);
    const kind = oneOf(input.kind, RUN_KINDS, 'kind') as RunKind;
    const status = oneOf(input.status ?? 'succeeded', RUN_STATUSES, 'status') as RunStatus;
    const clean = {
      run_id,
      kind,
      status,
      description: checkText(input.description, 'description', LIMITS.description),
      labels: checkLabels(input.labels),
      code_commit: checkText(input.code_commit, 'code_commit', 256),
      parameters: checkMetadata(input.parameters, 'parameters'),
      metrics: checkMetadata(input.metrics, 'metrics'),
      environment: checkMetadata(input.environment, 'environment'),
      start_time: time(input.start_time, 'start_time'),
      end_time: time(input.end_time, 'end_time'),
    };
    if (clean.start_time !== null && clean.end_time !== null && clean.end_time < clean.start_time) {
      throw new QuiverError('INVALID_ARGUMENT', 'end_time must not be before start_time.', {
        details: { field: 'end_time' },
      });
    }
    const { clock, ids } = this.deps;
    return this.deps.mutations.run(
      ctx,
      { action: 'CreateRun', resource: runName(namespace, run_id), request: { namespace, ...clean } },
      async (repos) => {
        const namespace_pk = await repos.namespaces.pkOf(namespace);
        if (namespace_pk === undefined) throw namespaceNotFound(namespace);
        await repos.runs.create({
          ...clean,
          uid: ids.uid(),
          namespace_pk,
          created_by: ctx.actor.principal,
          time: clock.now(),
        });
        return (await repos.runs.get(namespace, run_id))!;
      },
    );
  }

  async get(_ctx: CallContext, namespace: string, run: string): Promise<Run> {
    return this.deps.store.read(async (repos) => {
      await requireRun(repos, namespace, run);
      return (await repos.runs.get(namespace, run))!;
    });
  }

  async list(_ctx: CallContext, namespace: string, request: ListRequest): Promise<Page<Run>> {
    assertId('namespace', namespace);
    return this.deps.store.read(async (repos) => {
      const pk = await repos.namespaces.pkOf(namespace);
      if (pk === undefined) throw namespaceNotFound(namespace);
      return listPage(this.deps.tokens, 'runs', namespace, request, (query) => repos.runs.list(pk, query));
    });
  }

  /** Finishes a run or corrects it: status, end time, metrics, description, labels. Honours If-Match. */
  async update(
    ctx: CallContext,
    namespace: string,
    run: string,
    input: RunPatchInput,
    ifMatch?: string,
  ): Promise<Run> {
    const patch: RunPatch = {};
    if (input.status !== undefined) patch.status = oneOf(input.status, RUN_STATUSES, 'status') as RunStatus;
    if (input.description !== undefined)
      patch.description = checkText(input.description, 'description', LIMITS.description);
    if (input.labels !== undefined) patch.labels = checkLabels(input.labels);
    if (input.metrics !== undefined) patch.metrics = checkMetadata(input.metrics, 'metrics');
    if (input.end_time !== undefined) patch.end_time = time(input.end_time, 'end_time');
    const { clock } = this.deps;
    return this.deps.mutations.run(
      ctx,
      { action: 'UpdateRun', resource: runName(namespace, run), request: { namespace, run, patch, ifMatch } },
      async (repos) => {
        const key = await requireRun(repos, namespace, run);
        checkEtag(ifMatch, etagOf(key.revision, key.uid));
        if (!(await repos.runs.update(key.pk, key.revision, patch, clock.now()))) {
          if (ifMatch !== undefined) throw staleEtag();
          throw new QuiverError(
            'CONCURRENT_UPDATE',
            `Run '${run}' changed while it was being updated; retry.`,
          );
        }
        return (await repos.runs.get(namespace, run))!;
      },
    );
  }
}

export async function requireRun(repos: Repositories, namespace: string, run: string) {
  assertId('namespace', namespace);
  assertId('run', run);
  const key = await repos.runs.key(namespace, run);
  if (key) return key;
  if ((await repos.namespaces.pkOf(namespace)) === undefined) throw namespaceNotFound(namespace);
  throw new QuiverError('RUN_NOT_FOUND', `Run '${run}' does not exist in namespace '${namespace}'.`, {
    details: { resource: runName(namespace, run) },
  });
}

function oneOf(value: unknown, allowed: readonly string[], field: string): string {
  if (typeof value === 'string' && allowed.includes(value)) return value;
  throw new QuiverError(
    'INVALID_ARGUMENT',
    `${field} must be one of ${allowed.join(', ')}; got ${preview(value)}.`,
    {
      details: { field, allowed: [...allowed] },
    },
  );
}

/** RFC 3339 time → epoch ms (null when absent). */
function time(value: string | undefined, field: string): number | null {
  if (value === undefined) return null;
  const ms = Date.parse(value);
  if (typeof value !== 'string' || Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw new QuiverError('INVALID_ARGUMENT', `${field} must be an RFC 3339 time; got ${preview(value)}.`, {
      details: { field },
    });
  }
  return ms;
}
