import { QuiverError } from '../domain/errors.js';
import { assertAlias, modelName, parseVersionRef } from '../domain/names.js';
import { rfc3339 } from '../domain/resources.js';
import type { Clock } from '../ports/clock.js';
import type { UnitOfWork } from '../ports/unit-of-work.js';
import type { CallContext } from './context.js';
import { requireModel, requireVersion } from './lookups.js';
import type { Mutations } from './mutations.js';

export interface Alias {
  name: string;
  model: string;
  alias: string;
  version: number;
  previous_version: number | null;
  update_time: string;
}

export interface AliasServiceDeps {
  store: UnitOfWork;
  /** Every change goes through here: idempotency, the audit log, cache invalidation. */
  mutations: Mutations;
  clock: Clock;
}

export class AliasService {
  constructor(private readonly deps: AliasServiceDeps) {}

  /** Points an alias at a version of the same model, in one atomic step recorded in the version's history. */
  async set(
    ctx: CallContext,
    namespace: string,
    model: string,
    alias: string,
    input: { version: string | number },
  ): Promise<Alias> {
    assertAlias(alias);
    const ref = parseVersionRef(String(input.version), 'version');
    const { clock } = this.deps;
    return this.deps.mutations.run(
      ctx,
      {
        action: 'SetAlias',
        resource: `${modelName(namespace, model)}/aliases/${alias}`,
        request: { namespace, model, alias, ref },
      },
      async (repos) => {
        const key = await requireModel(repos, namespace, model);
        const target = await requireVersion(repos, key, ref);
        const time = clock.now();
        const previous = await repos.aliases.set(key.pk, alias, target.version, time);
        if (previous !== target.version) {
          await repos.history.append({
            model_pk: key.pk,
            version: target.version,
            kind: 'alias_set',
            from_status: null,
            to_status: null,
            alias,
            actor: ctx.actor.principal,
            reason: previous === undefined ? '' : `moved from version ${previous}`,
            time,
          });
          await repos.models.touch(key.pk, time);
        }
        return {
          name: `${modelName(namespace, model)}/aliases/${alias}`,
          model: modelName(namespace, model),
          alias,
          version: target.version,
          previous_version: previous ?? null,
          update_time: rfc3339(time),
        };
      },
    );
  }

  async unset(ctx: CallContext, namespace: string, model: string, alias: string): Promise<void> {
    assertAlias(alias);
    const { clock } = this.deps;
    await this.deps.mutations.run(
      ctx,
      {
        action: 'DeleteAlias',
        resource: `${modelName(namespace, model)}/aliases/${alias}`,
        request: { namespace, model, alias },
      },
      async (repos) => {
        const key = await requireModel(repos, namespace, model);
        const previous = await repos.aliases.unset(key.pk, alias);
        if (previous === undefined) {
          throw new QuiverError('ALIAS_NOT_FOUND', `Model '${model}' has no alias '${alias}'.`, {
            details: { resource: `${modelName(namespace, model)}/aliases/${alias}` },
          });
        }
        const time = clock.now();
        await repos.history.append({
          model_pk: key.pk,
          version: previous,
          kind: 'alias_unset',
          from_status: null,
          to_status: null,
          alias,
          actor: ctx.actor.principal,
          reason: '',
          time,
        });
        await repos.models.touch(key.pk, time);
        return { deleted: alias, version: previous };
      },
    );
  }
}
