import { GLOBAL, type Scope } from '../../domain/permissions.js';
import type { UnitOfWork } from '../../ports/unit-of-work.js';

/**
 * The model a deployment (or an operation on one) belongs to: the scope its permissions are
 * checked at. Cached for a short time, so repeated calls on a deployment (inference!) cost no
 * query; a deployment's model never changes, only a deleted and re-created one could differ.
 */
export class ScopeResolver {
  readonly #deployments = new Map<string, { scope: Scope | undefined; until: number }>();

  constructor(
    private readonly store: UnitOfWork,
    private readonly now: () => number,
    private readonly ttlMs: number,
  ) {}

  /** The deployment's model scope; undefined when no such deployment exists. */
  async deployment(id: string): Promise<Scope | undefined> {
    const hit = this.#deployments.get(id);
    if (hit && hit.until > this.now()) return hit.scope;
    const record = await this.store.read((repos) => repos.deployments.get(id));
    const scope = record ? modelScope(record.model) : undefined;
    this.#remember(id, scope);
    return scope;
  }

  /** Many at once, in one query for those not cached. */
  async deployments(ids: readonly string[]): Promise<Map<string, Scope | undefined>> {
    const out = new Map<string, Scope | undefined>();
    const missing: string[] = [];
    const now = this.now();
    for (const id of ids) {
      const hit = this.#deployments.get(id);
      if (hit && hit.until > now) out.set(id, hit.scope);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const found = await this.store.read((repos) => repos.deployments.getMany(missing));
      const byId = new Map(found.map((d) => [d.deployment_id, modelScope(d.model)]));
      for (const id of missing) {
        out.set(id, byId.get(id));
        this.#remember(id, byId.get(id));
      }
    }
    return out;
  }

  /** An operation is on a deployment: its scope is that deployment's model. */
  async operation(id: string): Promise<Scope | undefined> {
    const op = await this.store.read((repos) => repos.operations.get(id));
    if (!op) return undefined;
    const deployment = op.target.replace(/^deployments\//, '');
    return (await this.deployment(deployment)) ?? GLOBAL;
  }

  /** The models whose versions use an artifact (a few; enough to find one the caller may read). */
  async artifact(digest: string): Promise<Scope[]> {
    const models = await this.store.read((repos) => repos.artifacts.usedBy(digest, 100));
    return models.map((m) => ({ kind: 'model', namespace: m.namespace, model: m.model }));
  }

  #remember(id: string, scope: Scope | undefined): void {
    if (this.#deployments.size >= 10_000) this.#deployments.clear();
    this.#deployments.set(id, { scope, until: this.now() + this.ttlMs });
  }
}

/** `namespaces/a/models/b` → the model scope. */
export function modelScope(name: string): Scope {
  const [, namespace, , model] = name.split('/');
  return { kind: 'model', namespace: namespace!, model: model! };
}
