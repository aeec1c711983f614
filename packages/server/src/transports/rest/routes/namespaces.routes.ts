import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../app.js';
import { callContext } from '../app.js';
import {
  CreateNamespaceBody,
  errorResponses,
  ListQuery,
  listOf,
  Namespace,
  NamespaceParams,
} from '../schemas.js';

const tags = ['namespaces'];

export function namespaceRoutes({ namespaces }: Services): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/namespaces',
      {
        schema: {
          tags,
          summary: 'Create a namespace',
          body: CreateNamespaceBody,
          response: { 201: Type.Ref(Namespace), ...errorResponses },
        },
      },
      async (req, reply) => reply.status(201).send(await namespaces.create(callContext(req), req.body)),
    );

    app.get(
      '/namespaces',
      {
        schema: {
          tags,
          summary: 'List namespaces',
          querystring: ListQuery,
          response: { 200: listOf('namespaces', Type.Ref(Namespace)), ...errorResponses },
        },
      },
      async (req) => {
        const page = await namespaces.list(callContext(req), req.query);
        return { namespaces: page.items, next_page_token: page.next_page_token };
      },
    );

    app.get(
      '/namespaces/:namespace',
      {
        schema: {
          tags,
          summary: 'Get a namespace',
          params: NamespaceParams,
          response: { 200: Type.Ref(Namespace), ...errorResponses },
        },
      },
      async (req) => namespaces.get(callContext(req), req.params.namespace),
    );
  };
}
