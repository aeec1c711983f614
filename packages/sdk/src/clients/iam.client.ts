import type {
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
import type { Page, PageRequest } from '../types.js';

/**
 * Identity and access: principals (users, service accounts), their API tokens, roles, role
 * bindings and namespace policies. Everything but `whoami` needs the `iam.manage` permission.
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

  getPrincipal(principal: string, options?: CallOptions): Promise<Principal> {
    return this.invoker.call('GetPrincipal', { principal }, options);
  }

  listPrincipals(request: PageRequest = {}, options?: CallOptions): Promise<Page<Principal>> {
    return this.invoker.call('ListPrincipals', request, options);
  }

  /** Renames, disables (its tokens stop working) or re-enables a principal. */
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

  listTokens(principal: string, request: PageRequest = {}, options?: CallOptions): Promise<Page<Token>> {
    return this.invoker.call('ListTokens', { principal, ...request }, options);
  }

  revokeToken(principal: string, token: string, options?: CallOptions): Promise<Token> {
    return this.invoker.call('RevokeToken', { principal, token }, options);
  }

  /** Built-in roles first, then custom ones. */
  listRoles(options?: CallOptions): Promise<Page<Role>> {
    return this.invoker.call('ListRoles', {}, options);
  }

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

  updateRole(role: string, patch: UpdateRoleRequest, options?: CallOptions): Promise<Role> {
    return this.invoker.call('UpdateRole', { role, ...patch }, options);
  }

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

  listBindings(request: ListRoleBindingsRequest = {}, options?: CallOptions): Promise<Page<RoleBinding>> {
    return this.invoker.call('ListRoleBindings', request, options);
  }

  deleteBinding(binding: string, options?: CallOptions): Promise<undefined> {
    return this.invoker.call('DeleteRoleBinding', { binding }, options);
  }

  getPolicy(namespace: string, options?: CallOptions): Promise<NamespacePolicy> {
    return this.invoker.call('GetNamespacePolicy', { namespace }, options);
  }

  /**
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
