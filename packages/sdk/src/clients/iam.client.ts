import type {
  AuthConfig,
  CreatedToken,
  CreatePrincipalRequest,
  CreateRoleBindingRequest,
  CreateRoleRequest,
  CreateTokenRequest,
  ListRoleBindingsRequest,
  NamespacePolicy,
  Principal,
  Role,
  RoleBinding,
  Token,
  UpdateNamespacePolicyRequest,
  UpdatePrincipalRequest,
  UpdateRoleRequest,
  WhoAmI,
} from '../iam.types.js';
import type { CallOptions, Invoker } from '../invoker.js';
import { type Listing, listing } from '../paging.js';
import type { PageRequest } from '../types.js';

/**
 * Identity and access: principals (users, service accounts), their API tokens, roles, role
 * bindings and namespace policies. Everything but `whoami` and `getAuthConfig` needs the
 * `iam.manage` permission.
 */
export class IamClient {
  /** @internal */
  constructor(private readonly invoker: Invoker) {}

  /**
   * The caller, as the server authenticated it.
   *
   * @example
   * ```ts
   * const me = await client.iam.whoami(); // { principal: 'principals/admin', … }
   * ```
   */
  whoami(options?: CallOptions): Promise<WhoAmI> {
    return this.invoker.call('WhoAmI', {}, options);
  }

  /**
   * How to sign in to this server, asked before having a token: the OIDC issuer, the console's
   * public client id and the scopes to request, or `oidc: null` when only API tokens are offered.
   *
   * @example
   * ```ts
   * const { oidc } = await createClient({ baseUrl }).iam.getAuthConfig();
   * if (oidc) console.log(`sign in at ${oidc.issuer} as client ${oidc.client_id}`);
   * ```
   */
  getAuthConfig(options?: CallOptions): Promise<AuthConfig> {
    return this.invoker.call('GetAuthConfig', {}, options);
  }

  /**
   * Creates a principal.
   *
   * @example
   * ```ts
   * await client.iam.createPrincipal({ principal_id: 'ci-bot', kind: 'service_account' });
   * ```
   */
  createPrincipal(request: CreatePrincipalRequest, options?: CallOptions): Promise<Principal> {
    return this.invoker.call('CreatePrincipal', request, options);
  }

  /**
   * Reads a principal (`ci-bot` or `principals/ci-bot`).
   *
   * @example
   * ```ts
   * const bot = await client.iam.getPrincipal('ci-bot');
   * console.log(bot.kind, bot.disabled);
   * ```
   */
  getPrincipal(principal: string, options?: CallOptions): Promise<Principal> {
    return this.invoker.call('GetPrincipal', { principal }, options);
  }

  /**
   * Lists principals: awaited, one page; iterated, all of them.
   *
   * @example
   * ```ts
   * for await (const p of client.iam.listPrincipals()) console.log(p.name, p.kind);
   * ```
   */
  listPrincipals(request: PageRequest = {}, options?: CallOptions): Listing<Principal> {
    return listing(
      (page_token) => this.invoker.call('ListPrincipals', { ...request, page_token }, options),
      request.page_token,
    );
  }

  /**
   * Renames, disables (its tokens stop working) or re-enables a principal.
   *
   * @example
   * ```ts
   * await client.iam.updatePrincipal('ci-bot', { disabled: true });
   * ```
   */
  updatePrincipal(
    principal: string,
    patch: UpdatePrincipalRequest,
    options?: CallOptions,
  ): Promise<Principal> {
    return this.invoker.call('UpdatePrincipal', { principal, ...patch }, options);
  }

  /**
   * Creates an API token. The answer's `secret` is shown only here; store it now.
   *
   * @example
   * ```ts
   * const { secret } = await client.iam.createToken('ci-bot', { ttl_seconds: 90 * 86_400 });
   * ```
   */
  createToken(
    principal: string,
    request: CreateTokenRequest = {},
    options?: CallOptions,
  ): Promise<CreatedToken> {
    return this.invoker.call('CreateToken', { principal, ...request }, options);
  }

  /**
   * Lists a principal's tokens (never their secrets): awaited, one page; iterated, all.
   *
   * @example
   * ```ts
   * for await (const t of client.iam.listTokens('ci-bot')) console.log(t.token_id, t.state, t.last_used_time);
   * ```
   */
  listTokens(principal: string, request: PageRequest = {}, options?: CallOptions): Listing<Token> {
    return listing(
      (page_token) => this.invoker.call('ListTokens', { principal, ...request, page_token }, options),
      request.page_token,
    );
  }

  /**
   * Revokes a token at once; requests carrying it fail with `UNAUTHENTICATED`.
   *
   * @example
   * ```ts
   * const revoked = await client.iam.revokeToken('ci-bot', 'tok_0193…');
   * console.log(revoked.state); // 'revoked'
   * ```
   */
  revokeToken(principal: string, token: string, options?: CallOptions): Promise<Token> {
    return this.invoker.call('RevokeToken', { principal, token }, options);
  }

  /**
   * Lists roles: built-in ones first, then custom ones (one page holds them all).
   *
   * @example
   * ```ts
   * const { items } = await client.iam.listRoles();
   * console.log(items.map((r) => r.role_id)); // ['viewer', 'contributor', …]
   * ```
   */
  listRoles(options?: CallOptions): Listing<Role> {
    return listing(() => this.invoker.call('ListRoles', {}, options), undefined);
  }

  /**
   * Reads a role (`deployer` or `roles/deployer`) with its permissions.
   *
   * @example
   * ```ts
   * const { permissions } = await client.iam.getRole('deployer');
   * ```
   */
  getRole(role: string, options?: CallOptions): Promise<Role> {
    return this.invoker.call('GetRole', { role }, options);
  }

  /**
   * Creates a custom role.
   *
   * @example
   * ```ts
   * await client.iam.createRole({ role_id: 'caller', permissions: ['inference.call'] });
   * ```
   */
  createRole(request: CreateRoleRequest, options?: CallOptions): Promise<Role> {
    return this.invoker.call('CreateRole', request, options);
  }

  /**
   * Changes a custom role's description or permissions (built-in roles are fixed).
   *
   * @example
   * ```ts
   * await client.iam.updateRole('caller', { permissions: ['inference.call', 'deployments.get'] });
   * ```
   */
  updateRole(role: string, patch: UpdateRoleRequest, options?: CallOptions): Promise<Role> {
    return this.invoker.call('UpdateRole', { role, ...patch }, options);
  }

  /**
   * Deletes a custom role that no binding uses.
   *
   * @example
   * ```ts
   * await client.iam.deleteRole('caller');
   * ```
   */
  deleteRole(role: string, options?: CallOptions): Promise<undefined> {
    return this.invoker.call('DeleteRole', { role }, options);
  }

  /**
   * Grants a role to a principal or group at a scope.
   *
   * @example
   * ```ts
   * await client.iam.createBinding({ role: 'contributor', member: 'principals/ci-bot', scope: 'namespaces/fraud' });
   * ```
   */
  createBinding(request: CreateRoleBindingRequest, options?: CallOptions): Promise<RoleBinding> {
    return this.invoker.call('CreateRoleBinding', request, options);
  }

  /**
   * Lists role bindings, optionally by member, scope or role: awaited, one page; iterated, all.
   *
   * @example
   * ```ts
   * for await (const b of client.iam.listBindings({ member: 'principals/ci-bot' })) console.log(b.role, b.scope);
   * ```
   */
  listBindings(request: ListRoleBindingsRequest = {}, options?: CallOptions): Listing<RoleBinding> {
    return listing(
      (page_token) => this.invoker.call('ListRoleBindings', { ...request, page_token }, options),
      request.page_token,
    );
  }

  /**
   * Removes a role binding (`roleBindings/{id}` or its id); the grant ends at once.
   *
   * @example
   * ```ts
   * await client.iam.deleteBinding(binding.name);
   * ```
   */
  deleteBinding(binding: string, options?: CallOptions): Promise<undefined> {
    return this.invoker.call('DeleteRoleBinding', { binding }, options);
  }

  /**
   * Reads a namespace's policy: separation of duties and approval before deploy.
   *
   * @example
   * ```ts
   * const policy = await client.iam.getPolicy('fraud');
   * if (policy.require_approval_for_deploy) console.log('approve before deploying');
   * ```
   */
  getPolicy(namespace: string, options?: CallOptions): Promise<NamespacePolicy> {
    return this.invoker.call('GetNamespacePolicy', { namespace }, options);
  }

  /**
   * Turns separation of duties and approval-before-deploy on or off for a namespace.
   *
   * @example
   * ```ts
   * await client.iam.updatePolicy('fraud', { separation_of_duties: true, require_approval_for_deploy: true });
   * ```
   */
  updatePolicy(
    namespace: string,
    patch: UpdateNamespacePolicyRequest,
    options?: CallOptions,
  ): Promise<NamespacePolicy> {
    return this.invoker.call('UpdateNamespacePolicy', { namespace, ...patch }, options);
  }
}
