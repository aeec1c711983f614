import {
  BUILT_IN_ROLES,
  type Grant,
  Grants,
  isBuiltInRole,
  type Permission,
  parseScope,
} from '../../domain/permissions.js';
import type { Repositories } from '../../ports/repositories.js';

/** The members a principal acts as: itself and its groups, as bindings name them. */
export function membersOf(principal: string, groups: readonly string[] = []): string[] {
  return [`principals/${principal}`, ...groups.map((g) => `groups/${g}`)];
}

/** Loads a principal's bindings (its own and its groups') and their roles: two queries at most. */
export async function loadGrants(
  repos: Repositories,
  principal: string,
  groups: readonly string[] = [],
): Promise<Grants> {
  const bindings = await repos.bindings.forMembers(membersOf(principal, groups));
  const custom = [...new Set(bindings.map((b) => b.role_id).filter((id) => !isBuiltInRole(id)))];
  const roles = new Map<string, readonly Permission[]>(
    (await repos.roles.getMany(custom)).map((r) => [r.id, r.permissions]),
  );
  const grants: Grant[] = [];
  for (const b of bindings) {
    const permissions = isBuiltInRole(b.role_id)
      ? BUILT_IN_ROLES[b.role_id].permissions
      : roles.get(b.role_id);
    // A binding to a deleted custom role grants nothing (deleting a bound role is refused anyway).
    if (permissions) grants.push({ scope: parseScope(b.scope), permissions });
  }
  return Grants.of(grants);
}
