import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../app.js';
import { callContext, ifMatch } from '../app.js';
import { sendMemoized } from '../memoized.js';
import {
  CreateModelBody,
  DeleteModelQuery,
  errorResponses,
  ListQuery,
  listOf,
  Model,
  ModelParams,
  NamespaceParams,
  UpdateBody,
} from '../schemas.js';

const tags = ['models'];

export function modelRoutes({ models }: Services): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/namespaces/:namespace/models',
      {
        schema: {
          tags,
          summary: 'Register a model',
          params: NamespaceParams,
          body: CreateModelBody,
          response: { 201: Type.Ref(Model), ...errorResponses },
        },
      },
      async (req, reply) =>
        reply.status(201).send(await models.create(callContext(req), req.params.namespace, req.body)),
    );

    app.get(
      '/namespaces/:namespace/models',
      {
        schema: {
          tags,
          summary: 'List models (namespace `-` lists across all namespaces)',
          params: NamespaceParams,
          querystring: ListQuery,
          response: { 200: listOf('models', Type.Ref(Model)), ...errorResponses },
        },
      },
      async (req, reply) => {
        const page = await models.list(callContext(req), req.params.namespace, req.query);
        return sendMemoized(reply, page, () => ({
          models: page.items,
          next_page_token: page.next_page_token,
        }));
      },
    );

    app.get(
      '/namespaces/:namespace/models/:model',
      {
        schema: {
          tags,
          summary: 'Get a model with its latest version and aliases',
          params: ModelParams,
          response: { 200: Type.Ref(Model), ...errorResponses },
        },
      },
      async (req, reply) => {
        const model = await models.get(callContext(req), req.params.namespace, req.params.model);
        return sendMemoized(reply.header('etag', model.etag), model, () => model);
      },
    );

    app.patch(
      '/namespaces/:namespace/models/:model',
      {
        schema: {
          tags,
          summary: 'Update description and labels (honours If-Match)',
          params: ModelParams,
          body: UpdateBody,
          response: { 200: Type.Ref(Model), ...errorResponses },
        },
      },
      async (req, reply) => {
        const { namespace, model } = req.params;
        const updated = await models.update(callContext(req), namespace, model, req.body, ifMatch(req));
        return reply.header('etag', updated.etag).send(updated);
      },
    );

    app.delete(
      '/namespaces/:namespace/models/:model',
      {
        schema: {
          tags,
          summary: 'Delete a model (refused while versions are not archived, unless force=true)',
          params: ModelParams,
          querystring: DeleteModelQuery,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (req, reply) => {
        const options = {
          force: req.query.force === true,
          ...(ifMatch(req) ? { ifMatch: ifMatch(req)! } : {}),
        };
        await models.delete(callContext(req), req.params.namespace, req.params.model, options);
        return reply.status(204).send(null);
      },
    );
  };
}
