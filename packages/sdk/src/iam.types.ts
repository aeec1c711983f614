/** IAM resources and requests, with the server's field names (snake_case). */

export type PrincipalKind = 'user' | 'service_account';

export interface Principal {
  /** `principals/{principal_id}` */
  name: string;
  principal_id: string;
  kind: PrincipalKind;
  display_name: string;
  disabled: boolean;
  /** `issuer|sub` of the OIDC identity mapped to this principal, or null. */
  external_subject: string | null;
  create_time: string;
  update_time: string;
}

export interface CreatePrincipalRequest {
  principal_id: string;
  kind?: PrincipalKind | undefined;
  display_name?: string | undefined;
  external_subject?: string | undefined;
}

export interface UpdatePrincipalRequest {
  display_name?: string | undefined;
  disabled?: boolean | undefined;
  external_subject?: string | null | undefined;
}

export interface Token {
  /** `principals/{principal_id}/tokens/{token_id}` */
  name: string;
  token_id: string;
  principal: string;
  /** The first characters of the secret, to recognise it. */
  prefix: string;
  description: string;
  state: 'active' | 'expired' | 'revoked';
  create_time: string;
  expire_time: string | null;
  revoke_time: string | null;
  last_used_time: string | null;
}

/** A new token: the only answer that ever carries its secret. */
export interface CreatedToken extends Token {
  secret: string;
}

export interface CreateTokenRequest {
  description?: string | undefined;
  /** Lifetime in seconds; none: until revoked. */
  ttl_seconds?: number | undefined;
}

export interface Role {
  /** `roles/{role_id}` */
  name: string;
  role_id: string;
  description: string;
  permissions: string[];
  built_in: boolean;
}

export interface CreateRoleRequest {
  role_id: string;
  description?: string | undefined;
  permissions: string[];
}

export interface UpdateRoleRequest {
  description?: string | undefined;
  permissions?: string[] | undefined;
}

export interface RoleBinding {
  /** `roleBindings/{binding_id}` */
  name: string;
  binding_id: string;
  role: string;
  /** `principals/{id}` or `groups/{name}` */
  member: string;
  /** `global`, `namespaces/{ns}` or `namespaces/{ns}/models/{model}` */
  scope: string;
  created_by: string;
  create_time: string;
}

export interface CreateRoleBindingRequest {
  /** `viewer` or `roles/viewer` */
  role: string;
  member: string;
  /** Default `global`. */
  scope?: string | undefined;
}

export interface ListRoleBindingsRequest {
  member?: string | undefined;
  scope?: string | undefined;
  role?: string | undefined;
  page_size?: number | undefined;
  page_token?: string | undefined;
}

export interface NamespacePolicy {
  /** `namespaces/{ns}/policy` */
  name: string;
  separation_of_duties: boolean;
  require_approval_for_deploy: boolean;
  update_time: string | null;
}

export interface UpdateNamespacePolicyRequest {
  separation_of_duties?: boolean | undefined;
  require_approval_for_deploy?: boolean | undefined;
}

export interface WhoAmI {
  principal: string;
  kind: PrincipalKind | 'anonymous';
  groups: string[];
  authentication: 'on' | 'off';
}
