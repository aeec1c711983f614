import { QuiverError } from '../domain/errors.js';
import { assertId, namespaceName } from '../domain/names.js';
import type { PageTokenCodec } from '../domain/page-token.js';
import { GLOBAL, visibleTo } from '../domain/permissions.js';
import type { Namespace, Page } from '../domain/resources.js';
import { checkText, LIMITS } from '../domain/validation.js';
import type { Clock, Ids } from '../ports/clock.js';
import type { UnitOfWork } from '../ports/unit-of-work.js';
import type { CallContext, ListRequest } from './context.js';
import { listPage } from './listing.js';
import type { Mutations } from './mutations.js';

export interface NamespaceServiceDeps {
  store: UnitOfWork;
  /** Every change goes through here: idempotency, the audit log, cache invalidation. */
  mutations: Mutations;
  clock: Clock;
  ids: Ids;
  tokens: PageTokenCodec;
}

export class NamespaceService {
  constructor(private readonly deps: NamespaceServiceDeps) {}

  async create(
    ctx: CallContext,
    input: { namespace_id: string; description?: string | undefined },
  ): Promise<Namespace> {
    const namespace_id = assertId('namespace', input.namespace_id);
    const description = checkText(input.description, 'description', LIMITS.description);
    const { clock, ids } = this.deps;
    return this.deps.mutations.run(
      ctx,
      {
        action: 'CreateNamespace',
        resource: `namespaces/${namespace_id}`,
        request: { namespace_id, description },
      },
      (repos) => repos.namespaces.create({ uid: ids.uid(), namespace_id, description, time: clock.now() }),
    );
  }

  async get(_ctx: CallContext, namespace: string): Promise<Namespace> {
    assertId('namespace', namespace);
    const found = await this.deps.store.read((repos) => repos.namespaces.get(namespace));
    if (!found) throw namespaceNotFound(namespace);
    return found;
  }

  async list(ctx: CallContext, request: ListRequest): Promise<Page<Namespace>> {
    const visible = visibleTo(ctx.actor, 'namespaces.list', GLOBAL);
    return this.deps.store.read((repos) =>
      listPage(this.deps.tokens, 'namespaces', '', request, (query) =>
        repos.namespaces.list({ ...query, visible }),
      ),
    );
  }
}

export function namespaceNotFound(namespace: string): QuiverError {
  return new QuiverError('NAMESPACE_NOT_FOUND', `Namespace '${namespace}' does not exist.`, {
    details: { resource: namespaceName(namespace) },
  });
}
