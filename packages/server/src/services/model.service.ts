import { QuiverError } from '../domain/errors.js';
import { assertId, modelName } from '../domain/names.js';
import type { PageTokenCodec } from '../domain/page-token.js';
import { GLOBAL, type Scope, type Visibility, visibleTo } from '../domain/permissions.js';
import { etagOf, type Labels, type Model, type Page } from '../domain/resources.js';
import { checkLabels, checkText, LIMITS } from '../domain/validation.js';
import type { ReadCache } from '../ports/cache.js';
import type { Clock, Ids } from '../ports/clock.js';
import type { UnitOfWork } from '../ports/unit-of-work.js';
import { cachedRead, cacheKeys, cacheTags } from './cached-reads.js';
import type { CallContext, ListRequest } from './context.js';
import { listPage } from './listing.js';
import { checkEtag, modelNotFound, requireModel, staleEtag } from './lookups.js';
import type { Mutations } from './mutations.js';
import { namespaceNotFound } from './namespace.service.js';

export interface ModelServiceDeps {
  store: UnitOfWork;
  /** Every change goes through here: idempotency, the audit log, cache invalidation. */
  mutations: Mutations;
  clock: Clock;
  ids: Ids;
  tokens: PageTokenCodec;
  /** Model reads and lists are served from here while no change has touched them. */
  cache: ReadCache;
}

export interface ModelPatch {
  description?: string | undefined;
  labels?: Labels | undefined;
}

/** `-` stands for every namespace in list calls (AIP-159). */
export const ALL_NAMESPACES = '-';

export class ModelService {
  constructor(private readonly deps: ModelServiceDeps) {}

  async create(
    ctx: CallContext,
    namespace: string,
    input: { model_id: string; description?: string | undefined; labels?: Labels | undefined },
  ): Promise<Model> {
    assertId('namespace', namespace);
    const model_id = assertId('model', input.model_id);
    const description = checkText(input.description, 'description', LIMITS.description);
    const labels = checkLabels(input.labels);
    const { clock, ids } = this.deps;
    const request = { namespace, model_id, description, labels };
    return this.deps.mutations.run(
      ctx,
      { action: 'CreateModel', resource: `namespaces/${namespace}/models/${model_id}`, request: request },
      async (repos) => {
        const namespacePk = await repos.namespaces.pkOf(namespace);
        if (namespacePk === undefined) throw namespaceNotFound(namespace);
        await repos.models.create({
          uid: ids.uid(),
          namespace_pk: namespacePk,
          model_id,
          description,
          labels,
          time: clock.now(),
        });
        return (await repos.models.get(namespace, model_id))!;
      },
    );
  }

  async get(_ctx: CallContext, namespace: string, model: string): Promise<Model> {
    assertId('namespace', namespace);
    assertId('model', model);
    const tags = [cacheTags.namespace(namespace), cacheTags.model(namespace, model)];
    return cachedRead(this.deps.cache, cacheKeys.model(namespace, model), tags, () =>
      this.deps.store.read(async (repos) => {
        const found = await repos.models.get(namespace, model);
        if (found) return found;
        await requireModel(repos, namespace, model);
        throw modelNotFound(namespace, model);
      }),
    );
  }

  async list(ctx: CallContext, namespace: string, request: ListRequest): Promise<Page<Model>> {
    const scope: Scope = namespace === ALL_NAMESPACES ? GLOBAL : { kind: 'namespace', namespace };
    const visible = visibleTo(ctx.actor, 'models.list', scope);
    // A caller who sees only part of the list gets its own page, filtered in the query, never cached.
    if (visible !== 'all') return this.#list(namespace, request, visible);
    const { page_size, page_token, filter, order_by } = request;
    const key = cacheKeys.modelList(namespace, [page_size, page_token, filter, order_by]);
    const tags =
      namespace === ALL_NAMESPACES
        ? [cacheTags.allLists]
        : [cacheTags.namespace(namespace), cacheTags.lists(namespace)];
    return cachedRead(this.deps.cache, key, tags, () => this.#list(namespace, request));
  }

  #list(namespace: string, request: ListRequest, visible: Visibility = 'all'): Promise<Page<Model>> {
    return this.deps.store.read(async (repos) => {
      let namespacePk: number | null = null;
      if (namespace !== ALL_NAMESPACES) {
        assertId('namespace', namespace);
        const pk = await repos.namespaces.pkOf(namespace);
        if (pk === undefined) throw namespaceNotFound(namespace);
        namespacePk = pk;
      }
      return listPage(this.deps.tokens, 'models', namespace, request, (query) =>
        repos.models.list(namespacePk, { ...query, visible }),
      );
    });
  }

  async update(
    ctx: CallContext,
    namespace: string,
    model: string,
    patch: ModelPatch,
    ifMatch?: string,
  ): Promise<Model> {
    const clean: { description?: string; labels?: Labels } = {};
    if (patch.description !== undefined)
      clean.description = checkText(patch.description, 'description', LIMITS.description);
    if (patch.labels !== undefined) clean.labels = checkLabels(patch.labels);
    const { clock } = this.deps;
    return this.deps.mutations.run(
      ctx,
      {
        action: 'UpdateModel',
        resource: modelName(namespace, model),
        request: { namespace, model, clean, ifMatch },
      },
      async (repos) => {
        // One read gives both the ETag to check and the revision to compare-and-set on.
        const key = await requireModel(repos, namespace, model);
        checkEtag(ifMatch, etagOf(key.revision, key.uid));
        if (!(await repos.models.update(key.pk, key.revision, clean, clock.now()))) {
          throw ifMatch === undefined ? concurrentUpdate(namespace, model) : staleEtag();
        }
        return (await repos.models.get(namespace, model))!;
      },
    );
  }

  /**
   * Deletes a model. Versions that are not archived protect it unless `force` is set. With an
   * Idempotency-Key a retry after a lost answer succeeds again instead of answering NOT_FOUND.
   */
  async delete(
    ctx: CallContext,
    namespace: string,
    model: string,
    options: { force?: boolean; ifMatch?: string },
  ) {
    await this.deps.mutations.run(
      ctx,
      {
        action: 'DeleteModel',
        resource: modelName(namespace, model),
        request: { namespace, model, options },
      },
      async (repos) => {
        const key = await requireModel(repos, namespace, model);
        if (options.ifMatch !== undefined) checkEtag(options.ifMatch, etagOf(key.revision, key.uid));
        const live = await repos.models.countVersions(key.pk, 'archived');
        if (live > 0 && !options.force) {
          throw new QuiverError(
            'MODEL_HAS_VERSIONS',
            `Model '${model}' has ${live} version(s) that are not archived; archive them first or delete with force.`,
            { details: { resource: modelName(namespace, model), live_versions: live } },
          );
        }
        // Deployments name the model; deleting it under them would strand what they serve.
        const deployments = await repos.deployments.forModel(key.pk);
        if (deployments.length > 0) {
          const ids = deployments.map((d) => d.deployment_id);
          throw new QuiverError(
            'MODEL_HAS_DEPLOYMENTS',
            `Model '${model}' is deployed by ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}; delete those deployments first.`,
            { details: { resource: modelName(namespace, model), deployments: ids.slice(0, 50) } },
          );
        }
        // Lineage is a record: versions elsewhere derived from this model keep their parents.
        const descendants = await repos.lineage.descendantsOutside(key.pk, 50);
        if (descendants.length > 0) {
          throw new QuiverError(
            'MODEL_HAS_DESCENDANTS',
            `Model '${model}' has versions that ${descendants[0]}${descendants.length > 1 ? ' and others' : ''} derive from; their lineage would be lost.`,
            { details: { resource: modelName(namespace, model), descendants } },
          );
        }
        await repos.models.delete(key.pk);
        return { deleted: modelName(namespace, model) };
      },
    );
  }
}

function concurrentUpdate(namespace: string, model: string): QuiverError {
  return new QuiverError(
    'CONCURRENT_UPDATE',
    `Model '${namespace}/${model}' changed while it was being updated; retry.`,
    {
      details: { resource: modelName(namespace, model) },
    },
  );
}
