import { QuiverError } from '../../domain/errors.js';
import { assertId } from '../../domain/names.js';
import {
  BUILT_IN_ROLES,
  isBuiltInRole,
  type Permission,
  parseScope,
  scopeName,
} from '../../domain/permissions.js';
import { checkText, LIMITS } from '../../domain/validation.js';
import type { BindingRecord, RoleRecord } from '../../ports/iam.repositories.js';
import type { CallContext } from '../context.js';
import {
  builtIn,
  change,
  checkMember,
  checkPermissions,
  type IamServiceDeps,
  pageById,
  requirePrincipal,
  requireRole,
  shortId,
} from './iam.checks.js';
import {
  type Binding,
  type NamespacePolicy,
  type Role,
  toBinding,
  toPolicy,
  toRole,
} from './iam.resources.js';

/** Roles (built-in and custom), role bindings, and the per-namespace policy. */
export class RoleService {
  constructor(private readonly deps: IamServiceDeps) {}

  async listRoles(_ctx: CallContext): Promise<{ roles: Role[] }> {
    const custom = await this.deps.store.read((r) => r.roles.list());
    const builtIn = Object.entries(BUILT_IN_ROLES).map(([id, r]) =>
      toRole(
        { id, description: r.description, permissions: [...r.permissions], create_time: 0, update_time: 0 },
        true,
      ),
    );
    return { roles: [...builtIn, ...custom.map((r) => toRole(r, false))] };
  }

  async getRole(_ctx: CallContext, id: string): Promise<Role> {
    if (isBuiltInRole(id)) {
      const r = BUILT_IN_ROLES[id];
      return toRole(
        { id, description: r.description, permissions: [...r.permissions], create_time: 0, update_time: 0 },
        true,
      );
    }
    return toRole(await this.deps.store.read((r) => requireRole(r, id)), false);
  }

  createRole(
    ctx: CallContext,
    input: { role_id: string; description?: string | undefined; permissions: unknown },
  ): Promise<Role> {
    const id = assertId('role', input.role_id);
    if (isBuiltInRole(id))
      throw new QuiverError('ROLE_EXISTS', `'${id}' is a built-in role.`, {
        details: { resource: `roles/${id}` },
      });
    const time = this.deps.clock.now();
    const record: RoleRecord = {
      id,
      description: checkText(input.description, 'description', LIMITS.description),
      permissions: checkPermissions(input.permissions),
      create_time: time,
      update_time: time,
    };
    return change(this.deps, ctx, 'CreateRole', `roles/${id}`, record, async (repos) => {
      await repos.roles.create(record);
      return toRole(record, false);
    });
  }

  updateRole(
    ctx: CallContext,
    id: string,
    patch: { description?: string | undefined; permissions?: unknown },
  ): Promise<Role> {
    if (isBuiltInRole(id)) throw builtIn(id);
    const clean: { description?: string; permissions?: Permission[] } = {};
    if (patch.description !== undefined)
      clean.description = checkText(patch.description, 'description', LIMITS.description);
    if (patch.permissions !== undefined) clean.permissions = checkPermissions(patch.permissions);
    return change(this.deps, ctx, 'UpdateRole', `roles/${id}`, { id, clean }, async (repos) => {
      await requireRole(repos, id);
      await repos.roles.update(id, clean, this.deps.clock.now());
      return toRole((await repos.roles.get(id))!, false);
    });
  }

  async deleteRole(ctx: CallContext, id: string): Promise<void> {
    if (isBuiltInRole(id)) throw builtIn(id);
    await change(this.deps, ctx, 'DeleteRole', `roles/${id}`, { id }, async (repos) => {
      await requireRole(repos, id);
      const bound = await repos.bindings.countForRole(id);
      if (bound > 0)
        throw new QuiverError(
          'ROLE_IN_USE',
          `Role '${id}' is still bound ${bound} time(s); delete those bindings first.`,
          { details: { resource: `roles/${id}`, bindings: bound } },
        );
      await repos.roles.delete(id);
      return { deleted: `roles/${id}` };
    });
  }

  createBinding(
    ctx: CallContext,
    input: { role: string; member: string; scope?: string | undefined },
  ): Promise<Binding> {
    const roleId = String(input.role ?? '').replace(/^roles\//, '');
    assertId('role', roleId, 'role');
    const member = checkMember(input.member);
    const scope = scopeName(parseScope(input.scope ?? 'global'));
    const record: BindingRecord = {
      id: shortId(),
      role_id: roleId,
      member,
      scope,
      created_by: ctx.actor.principal,
      create_time: this.deps.clock.now(),
    };
    return change(
      this.deps,
      ctx,
      'CreateRoleBinding',
      `roleBindings/${record.id}`,
      { role: roleId, member, scope },
      async (repos) => {
        if (!isBuiltInRole(roleId)) await requireRole(repos, roleId);
        if (member.startsWith('principals/'))
          await requirePrincipal(repos, member.slice('principals/'.length));
        await repos.bindings.create(record);
        return toBinding(record);
      },
    );
  }

  listBindings(
    _ctx: CallContext,
    request: {
      member?: string | undefined;
      scope?: string | undefined;
      role?: string | undefined;
      page_size?: number | undefined;
      page_token?: string | undefined;
    },
  ) {
    const query = {
      member: request.member === undefined ? undefined : checkMember(request.member),
      scope: request.scope === undefined ? undefined : scopeName(parseScope(request.scope)),
      role_id: request.role?.replace(/^roles\//, ''),
    };
    return pageById(
      this.deps.tokens,
      `bindings ${JSON.stringify(query)}`,
      request,
      (after, limit) => this.deps.store.read((r) => r.bindings.list(query, after, limit)),
      (b) => b.id,
      toBinding,
    );
  }

  async deleteBinding(ctx: CallContext, id: string): Promise<void> {
    await change(this.deps, ctx, 'DeleteRoleBinding', `roleBindings/${id}`, { id }, async (repos) => {
      if (!(await repos.bindings.delete(id)))
        throw new QuiverError('BINDING_NOT_FOUND', `No role binding '${id}'.`, {
          details: { resource: `roleBindings/${id}` },
        });
      return { deleted: `roleBindings/${id}` };
    });
  }

  async getPolicy(_ctx: CallContext, namespace: string): Promise<NamespacePolicy> {
    assertId('namespace', namespace);
    return toPolicy(namespace, await this.deps.store.read((r) => r.policies.get(namespace)));
  }

  updatePolicy(
    ctx: CallContext,
    namespace: string,
    patch: { separation_of_duties?: boolean | undefined; require_approval_for_deploy?: boolean | undefined },
  ): Promise<NamespacePolicy> {
    assertId('namespace', namespace);
    return change(
      this.deps,
      ctx,
      'UpdateNamespacePolicy',
      `namespaces/${namespace}/policy`,
      { namespace, patch },
      async (repos) => {
        if ((await repos.namespaces.pkOf(namespace)) === undefined)
          throw new QuiverError('NAMESPACE_NOT_FOUND', `Namespace '${namespace}' does not exist.`, {
            details: { resource: `namespaces/${namespace}` },
          });
        const current = await repos.policies.get(namespace);
        const next = {
          namespace_id: namespace,
          separation_of_duties: patch.separation_of_duties ?? current?.separation_of_duties ?? false,
          require_approval_for_deploy:
            patch.require_approval_for_deploy ?? current?.require_approval_for_deploy ?? false,
          update_time: this.deps.clock.now(),
        };
        await repos.policies.put(next);
        return toPolicy(namespace, next);
      },
    );
  }

  /** Keyset pages by id, with signed page tokens bound to the query. */
}
