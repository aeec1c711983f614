import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { scopeName } from '../../../domain/permissions.js';
import type { PrincipalService } from '../../../services/iam/principal.service.js';
import type { RoleService } from '../../../services/iam/role.service.js';
import { callContext } from '../app.js';
import { errorResponses, listOf, NamespaceParams, PageQuery } from '../schemas.js';
import {
  BindingParams,
  CreateBindingBody,
  CreatedToken,
  CreatePrincipalBody,
  CreateRoleBody,
  CreateTokenBody,
  ListBindingsQuery,
  NamespacePolicy,
  Principal,
  PrincipalParams,
  Role,
  RoleBinding,
  RoleParams,
  Token,
  TokenParams,
  UpdatePolicyBody,
  UpdatePrincipalBody,
  UpdateRoleBody,
  WhoAmI,
} from './iam.schemas.js';

const tags = ['iam'];

/** Principals, tokens, roles, role bindings and namespace policies (all need `iam.manage`), and whoami. */
export function iamRoutes(
  { principals, roles }: { principals: PrincipalService; roles: RoleService },
  authEnabled: boolean,
): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const ok = (schema: object) => ({ 200: schema, ...errorResponses });

    app.get(
      '/whoami',
      { schema: { tags, summary: 'The caller, as authentication sees it', response: ok(WhoAmI) } },
      async (req) => {
        const { actor } = callContext(req);
        return {
          principal: `principals/${actor.principal}`,
          kind: actor.kind ?? 'anonymous',
          groups: [...(actor.groups ?? [])],
          authentication: authEnabled ? 'on' : 'off',
          grants: (actor.grants?.list ?? []).map((g) => ({
            scope: scopeName(g.scope),
            permissions: [...g.permissions],
          })),
        };
      },
    );

    app.post(
      '/principals',
      {
        schema: {
          tags,
          summary: 'Create a principal (a user or a service account)',
          body: CreatePrincipalBody,
          response: { 201: Principal, ...errorResponses },
        },
      },
      async (req, reply) =>
        reply.status(201).send(await principals.createPrincipal(callContext(req), req.body)),
    );
    app.get(
      '/principals',
      {
        schema: {
          tags,
          summary: 'List principals',
          querystring: PageQuery,
          response: ok(listOf('principals', Principal)),
        },
      },
      async (req) => {
        const page = await principals.listPrincipals(callContext(req), req.query);
        return { principals: page.items, next_page_token: page.next_page_token };
      },
    );
    app.get(
      '/principals/:principal',
      { schema: { tags, summary: 'Get a principal', params: PrincipalParams, response: ok(Principal) } },
      async (req) => principals.getPrincipal(callContext(req), req.params.principal),
    );
    app.patch(
      '/principals/:principal',
      {
        schema: {
          tags,
          summary: 'Rename, disable or enable a principal, or map it to an OIDC identity',
          params: PrincipalParams,
          body: UpdatePrincipalBody,
          response: ok(Principal),
        },
      },
      async (req) => principals.updatePrincipal(callContext(req), req.params.principal, req.body),
    );

    app.post(
      '/principals/:principal/tokens',
      {
        schema: {
          tags,
          summary: 'Create an API token; the answer shows its secret, once',
          params: PrincipalParams,
          body: CreateTokenBody,
          response: { 201: CreatedToken, ...errorResponses },
        },
      },
      async (req, reply) =>
        reply
          .status(201)
          .send(await principals.createToken(callContext(req), req.params.principal, req.body)),
    );
    app.get(
      '/principals/:principal/tokens',
      {
        schema: {
          tags,
          summary: 'List the API tokens of a principal (never their secrets)',
          params: PrincipalParams,
          querystring: PageQuery,
          response: ok(listOf('tokens', Token)),
        },
      },
      async (req) => {
        const page = await principals.listTokens(callContext(req), req.params.principal, req.query);
        return { tokens: page.items, next_page_token: page.next_page_token };
      },
    );
    app.post(
      '/principals/:principal/tokens/:token(^[^:/]+)::revoke',
      {
        schema: {
          tags,
          summary:
            'Revoke an API token (at once on this instance; within QUIVER_AUTH_CACHE_TTL_MS on others)',
          params: TokenParams,
          response: ok(Token),
        },
      },
      async (req) => principals.revokeToken(callContext(req), req.params.principal, req.params.token),
    );

    app.get(
      '/roles',
      {
        schema: {
          tags,
          summary: 'List roles, built-in and custom',
          response: ok(Type.Object({ roles: Type.Array(Role) })),
        },
      },
      async (req) => roles.listRoles(callContext(req)),
    );
    app.post(
      '/roles',
      {
        schema: {
          tags,
          summary: 'Create a custom role (a named set of permissions)',
          body: CreateRoleBody,
          response: { 201: Role, ...errorResponses },
        },
      },
      async (req, reply) => reply.status(201).send(await roles.createRole(callContext(req), req.body)),
    );
    app.get(
      '/roles/:role',
      { schema: { tags, summary: 'Get a role', params: RoleParams, response: ok(Role) } },
      async (req) => roles.getRole(callContext(req), req.params.role),
    );
    app.patch(
      '/roles/:role',
      {
        schema: {
          tags,
          summary: 'Change a custom role',
          params: RoleParams,
          body: UpdateRoleBody,
          response: ok(Role),
        },
      },
      async (req) => roles.updateRole(callContext(req), req.params.role, req.body),
    );
    app.delete(
      '/roles/:role',
      {
        schema: {
          tags,
          summary: 'Delete a custom role (refused while it is bound)',
          params: RoleParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (req, reply) => {
        await roles.deleteRole(callContext(req), req.params.role);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/roleBindings',
      {
        schema: {
          tags,
          summary: 'List role bindings (filter by member, scope or role)',
          querystring: ListBindingsQuery,
          response: ok(listOf('role_bindings', RoleBinding)),
        },
      },
      async (req) => {
        const page = await roles.listBindings(callContext(req), req.query);
        return { role_bindings: page.items, next_page_token: page.next_page_token };
      },
    );
    app.post(
      '/roleBindings',
      {
        schema: {
          tags,
          summary: 'Grant a role to a principal or group at global, namespace or model scope',
          body: CreateBindingBody,
          response: { 201: RoleBinding, ...errorResponses },
        },
      },
      async (req, reply) => reply.status(201).send(await roles.createBinding(callContext(req), req.body)),
    );
    app.delete(
      '/roleBindings/:binding',
      {
        schema: {
          tags,
          summary: 'Remove a role binding',
          params: BindingParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (req, reply) => {
        await roles.deleteBinding(callContext(req), req.params.binding);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/namespaces/:namespace/policy',
      {
        schema: {
          tags,
          summary: 'The policy of a namespace',
          params: NamespaceParams,
          response: ok(NamespacePolicy),
        },
      },
      async (req) => roles.getPolicy(callContext(req), req.params.namespace),
    );
    app.patch(
      '/namespaces/:namespace/policy',
      {
        schema: {
          tags,
          summary: 'Turn separation of duties and approval-before-deploy on or off for a namespace',
          params: NamespaceParams,
          body: UpdatePolicyBody,
          response: ok(NamespacePolicy),
        },
      },
      async (req) => roles.updatePolicy(callContext(req), req.params.namespace, req.body),
    );
  };
}
