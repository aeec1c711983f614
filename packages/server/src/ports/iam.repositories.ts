import type { Permission } from '../domain/permissions.js';
import type { PrincipalKind } from '../domain/resources.js';

/** Times are epoch milliseconds, as everywhere in the store. */
export interface PrincipalRecord {
  id: string;
  kind: PrincipalKind;
  display_name: string;
  disabled: boolean;
  /** `issuer|sub` of the OIDC identity mapped to this principal, or null. */
  external_subject: string | null;
  create_time: number;
  update_time: number;
}

export interface TokenRecord {
  id: string;
  principal_id: string;
  /** The first characters of the secret, enough to recognise a token in a list; never enough to use it. */
  prefix: string;
  description: string;
  create_time: number;
  expire_time: number | null;
  revoke_time: number | null;
  last_used_time: number | null;
}

/** A custom role (the built-in ones are in domain/permissions.ts). */
export interface RoleRecord {
  id: string;
  description: string;
  permissions: Permission[];
  create_time: number;
  update_time: number;
}

export interface BindingRecord {
  id: string;
  role_id: string;
  /** `principals/{id}` or `groups/{name}`. */
  member: string;
  /** `global`, `namespaces/{ns}` or `namespaces/{ns}/models/{model}`. */
  scope: string;
  created_by: string;
  create_time: number;
}

export interface NamespacePolicyRecord {
  namespace_id: string;
  /** The creator of a version may not approve it. */
  separation_of_duties: boolean;
  /** Only `approved` versions may be deployed. */
  require_approval_for_deploy: boolean;
  update_time: number;
}

export interface PrincipalRepository {
  /** Throws PRINCIPAL_EXISTS when the id (or the external subject) is taken. */
  create(record: PrincipalRecord): Promise<void>;
  get(id: string): Promise<PrincipalRecord | undefined>;
  bySubject(externalSubject: string): Promise<PrincipalRecord | undefined>;
  /** Ordered by id, after `after` (exclusive). */
  list(after: string | null, limit: number): Promise<PrincipalRecord[]>;
  update(
    id: string,
    patch: { display_name?: string; disabled?: boolean; external_subject?: string | null },
    time: number,
  ): Promise<boolean>;
}

export interface TokenRepository {
  create(record: TokenRecord & { hash: string }): Promise<void>;
  /** The token with this secret hash and its principal, in one statement (the authentication lookup). */
  byHash(hash: string): Promise<{ token: TokenRecord; principal: PrincipalRecord } | undefined>;
  get(id: string): Promise<TokenRecord | undefined>;
  list(principalId: string, after: string | null, limit: number): Promise<TokenRecord[]>;
  /** Sets revoke_time once; false when the token was already revoked or does not exist. */
  revoke(id: string, time: number): Promise<boolean>;
  /** Records a use (callers write this at most about once a minute per token). */
  touch(id: string, time: number): Promise<void>;
}

export interface RoleRepository {
  /** Throws ROLE_EXISTS when the id is taken. */
  create(record: RoleRecord): Promise<void>;
  get(id: string): Promise<RoleRecord | undefined>;
  getMany(ids: readonly string[]): Promise<RoleRecord[]>;
  list(): Promise<RoleRecord[]>;
  update(
    id: string,
    patch: { description?: string; permissions?: Permission[] },
    time: number,
  ): Promise<boolean>;
  delete(id: string): Promise<boolean>;
}

export interface BindingQuery {
  member?: string | undefined;
  scope?: string | undefined;
  role_id?: string | undefined;
}

export interface BindingRepository {
  /** Throws BINDING_EXISTS when the same role is already bound to the member at the scope. */
  create(record: BindingRecord): Promise<void>;
  get(id: string): Promise<BindingRecord | undefined>;
  /** Ordered by id, after `after` (exclusive). */
  list(query: BindingQuery, after: string | null, limit: number): Promise<BindingRecord[]>;
  /** Every binding of these members (a principal and its groups): the authentication lookup. */
  forMembers(members: readonly string[]): Promise<BindingRecord[]>;
  countForRole(roleId: string): Promise<number>;
  delete(id: string): Promise<boolean>;
}

export interface PolicyRepository {
  get(namespaceId: string): Promise<NamespacePolicyRecord | undefined>;
  put(record: NamespacePolicyRecord): Promise<void>;
}
