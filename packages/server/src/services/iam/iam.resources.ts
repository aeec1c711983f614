import { rfc3339 } from '../../domain/resources.js';
import type {
  BindingRecord,
  NamespacePolicyRecord,
  PrincipalRecord,
  RoleRecord,
  TokenRecord,
} from '../../ports/iam.repositories.js';

/** IAM resources as the API shows them (snake_case, AIP-122 names). */
export interface Principal {
  name: string;
  principal_id: string;
  kind: PrincipalRecord['kind'];
  display_name: string;
  disabled: boolean;
  external_subject: string | null;
  create_time: string;
  update_time: string;
}

export interface Token {
  name: string;
  token_id: string;
  principal: string;
  prefix: string;
  description: string;
  state: 'active' | 'expired' | 'revoked';
  create_time: string;
  expire_time: string | null;
  revoke_time: string | null;
  last_used_time: string | null;
}

export interface Role {
  name: string;
  role_id: string;
  description: string;
  permissions: string[];
  built_in: boolean;
}

export interface Binding {
  name: string;
  binding_id: string;
  role: string;
  member: string;
  scope: string;
  created_by: string;
  create_time: string;
}

export interface NamespacePolicy {
  name: string;
  separation_of_duties: boolean;
  require_approval_for_deploy: boolean;
  update_time: string | null;
}

const time = (ms: number | null) => (ms === null ? null : rfc3339(ms));

export function toPrincipal(p: PrincipalRecord): Principal {
  return {
    name: `principals/${p.id}`,
    principal_id: p.id,
    kind: p.kind,
    display_name: p.display_name,
    disabled: p.disabled,
    external_subject: p.external_subject,
    create_time: rfc3339(p.create_time),
    update_time: rfc3339(p.update_time),
  };
}

export function toToken(t: TokenRecord, now: number): Token {
  const state =
    t.revoke_time !== null
      ? 'revoked'
      : t.expire_time !== null && t.expire_time <= now
        ? 'expired'
        : 'active';
  return {
    name: `principals/${t.principal_id}/tokens/${t.id}`,
    token_id: t.id,
    principal: `principals/${t.principal_id}`,
    prefix: t.prefix,
    description: t.description,
    state,
    create_time: rfc3339(t.create_time),
    expire_time: time(t.expire_time),
    revoke_time: time(t.revoke_time),
    last_used_time: time(t.last_used_time),
  };
}

export function toRole(r: RoleRecord, builtIn: boolean): Role {
  return {
    name: `roles/${r.id}`,
    role_id: r.id,
    description: r.description,
    permissions: [...r.permissions],
    built_in: builtIn,
  };
}

export function toBinding(b: BindingRecord): Binding {
  return {
    name: `roleBindings/${b.id}`,
    binding_id: b.id,
    role: `roles/${b.role_id}`,
    member: b.member,
    scope: b.scope,
    created_by: b.created_by,
    create_time: rfc3339(b.create_time),
  };
}

export function toPolicy(namespace: string, p: NamespacePolicyRecord | undefined): NamespacePolicy {
  return {
    name: `namespaces/${namespace}/policy`,
    separation_of_duties: p?.separation_of_duties ?? false,
    require_approval_for_deploy: p?.require_approval_for_deploy ?? false,
    update_time: p ? rfc3339(p.update_time) : null,
  };
}
