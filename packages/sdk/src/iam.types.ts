/** IAM resources and requests, named from the contract (docs/openapi/v1.json; see types.ts). */
import type { Answer, Body, Query } from './types.js';

export type PrincipalKind = Principal['kind'];

/** A user or service account: `principals/{principal_id}`. */
export type Principal = Answer<'/v1/principals/{principal}', 'get'>;

export type CreatePrincipalRequest = Body<'/v1/principals', 'post'>;

export type UpdatePrincipalRequest = Body<'/v1/principals/{principal}', 'patch'>;

/** An API token of a principal (its secret is shown once, by `CreatedToken`). */
export type Token = Answer<'/v1/principals/{principal}/tokens/{token}:revoke', 'post'>;

/** A new token: the only answer that ever carries its secret. */
export type CreatedToken = Answer<'/v1/principals/{principal}/tokens', 'post'>;

export type CreateTokenRequest = Body<'/v1/principals/{principal}/tokens', 'post'>;

/** A named set of permissions: `roles/{role_id}`. */
export type Role = Answer<'/v1/roles/{role}', 'get'>;

/**
 * Permissions are taken as plain strings: a permission a newer server adds can be granted
 * without a newer SDK, and the server refuses unknown ones (`INVALID_ARGUMENT`).
 */
export type CreateRoleRequest = Omit<Body<'/v1/roles', 'post'>, 'permissions'> & { permissions: string[] };

export type UpdateRoleRequest = Omit<Body<'/v1/roles/{role}', 'patch'>, 'permissions'> & {
  permissions?: string[] | undefined;
};

/** Grants a role to a member at a scope: `roleBindings/{binding_id}`. */
export type RoleBinding = Answer<'/v1/roleBindings', 'post'>;

export type CreateRoleBindingRequest = Body<'/v1/roleBindings', 'post'>;

export type ListRoleBindingsRequest = Query<'/v1/roleBindings', 'get'>;

/** `namespaces/{ns}/policy`: separation of duties and approval before deploy. */
export type NamespacePolicy = Answer<'/v1/namespaces/{namespace}/policy', 'get'>;

export type UpdateNamespacePolicyRequest = Body<'/v1/namespaces/{namespace}/policy', 'patch'>;

/** The caller, as authentication sees it. */
export type WhoAmI = Answer<'/v1/whoami', 'get'>;

/** How to sign in: the console's OIDC issuer, client id and scopes, or `oidc: null` (API tokens only). */
export type AuthConfig = Answer<'/v1/auth/config', 'get'>;
