import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { errorResponses } from '../schemas.js';

/** What the console needs to offer OIDC sign-in (authorization code flow with PKCE). */
export interface ConsoleOidc {
  issuer: string;
  /** A public client: the console holds no secret. */
  clientId: string;
  scopes: readonly string[];
}

export const AuthConfig = Type.Object({
  oidc: Type.Union(
    [
      Type.Object({
        issuer: Type.String({
          format: 'uri',
          description: 'Discovery is at `{issuer}/.well-known/openid-configuration`.',
          examples: ['https://login.example.com/realms/ml'],
        }),
        client_id: Type.String({ description: "The console's public client id at the issuer." }),
        scopes: Type.Array(Type.String(), {
          description: 'Scopes to ask for; `openid` is always one.',
          examples: [['openid', 'profile', 'email']],
        }),
      }),
      Type.Null(),
    ],
    { description: 'How to sign in with the OIDC issuer; null when the server offers API tokens only.' },
  ),
});

/**
 * `GET /v1/auth/config`: how a client may sign in, read before it has a token (a public route,
 * see permissions.ts). It names only what the identity provider publishes anyway.
 */
export function authRoutes(oidc: ConsoleOidc | undefined): FastifyPluginAsync {
  const body = {
    oidc: oidc ? { issuer: oidc.issuer, client_id: oidc.clientId, scopes: [...oidc.scopes] } : null,
  };
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/auth/config',
      {
        schema: {
          tags: ['iam'],
          summary:
            'How to sign in: the OIDC issuer and client of the console, when configured (no token needed)',
          security: [],
          response: { 200: AuthConfig, ...errorResponses },
        },
      },
      async () => body,
    );
  };
}
