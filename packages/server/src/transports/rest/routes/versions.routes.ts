import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { batchJson } from '../../../domain/json-text.js';
import { parseVersionRef } from '../../../domain/names.js';
import type { Services } from '../app.js';
import { callContext, ifMatch, sendJson } from '../app.js';
import {
  Alias,
  AliasParams,
  BatchGetBody,
  CreateVersionBody,
  errorResponses,
  HistoryEntry,
  ListQuery,
  listOf,
  ModelParams,
  PageQuery,
  SetAliasBody,
  TransitionBody,
  UpdateBody,
  Version,
  VersionParams,
  VersionStatusView,
} from '../schemas.js';

const tags = ['versions'];
const VERSIONS = '/namespaces/:namespace/models/:model/versions';
/** The router needs the version segment to stop before `:transition`. */
const VERSION = `${VERSIONS}/:version(^[^:/]+)`;

export function versionRoutes({ versions, aliases }: Services): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      VERSIONS,
      {
        schema: {
          tags,
          summary: 'Register the next version of a model',
          params: ModelParams,
          body: CreateVersionBody,
          response: { 201: Type.Ref(Version), ...errorResponses },
        },
      },
      async (req, reply) => {
        const { namespace, model } = req.params;
        return reply.status(201).send(await versions.create(callContext(req), namespace, model, req.body));
      },
    );

    app.get(
      VERSIONS,
      {
        schema: {
          tags,
          summary: 'List versions of a model (newest first by default)',
          params: ModelParams,
          querystring: ListQuery,
          response: { 200: listOf('versions', Type.Ref(Version)), ...errorResponses },
        },
      },
      async (req) => {
        const page = await versions.list(callContext(req), req.params.namespace, req.params.model, req.query);
        return { versions: page.items, next_page_token: page.next_page_token };
      },
    );

    app.get(
      VERSION,
      {
        schema: {
          tags,
          summary: 'Get a version by number or @alias',
          params: VersionParams,
          response: { 200: Type.Ref(Version), ...errorResponses },
        },
      },
      async (req, reply) => {
        const { namespace, model, version } = req.params;
        const found = await versions.get(callContext(req), namespace, model, parseVersionRef(version));
        return reply.header('etag', found.etag).send(found);
      },
    );

    app.patch(
      VERSION,
      {
        schema: {
          tags,
          summary: 'Update description and labels of a version (the rest is immutable)',
          params: VersionParams,
          body: UpdateBody,
          response: { 200: Type.Ref(Version), ...errorResponses },
        },
      },
      async (req, reply) => {
        const { namespace, model, version } = req.params;
        const updated = await versions.update(
          callContext(req),
          namespace,
          model,
          parseVersionRef(version),
          req.body,
          ifMatch(req),
        );
        return reply.header('etag', updated.etag).send(updated);
      },
    );

    app.post(
      `${VERSION}::transition`,
      {
        schema: {
          tags,
          summary: 'Move a version to another lifecycle status',
          params: VersionParams,
          body: TransitionBody,
          response: { 200: Type.Ref(Version), ...errorResponses },
        },
      },
      async (req) => {
        const { namespace, model, version } = req.params;
        return versions.transition(callContext(req), namespace, model, parseVersionRef(version), req.body);
      },
    );

    app.get(
      `${VERSION}/history`,
      {
        schema: {
          tags,
          summary: 'Lifecycle history of a version (creation, transitions, alias moves)',
          params: VersionParams,
          querystring: PageQuery,
          response: { 200: listOf('history', Type.Ref(HistoryEntry)), ...errorResponses },
        },
      },
      async (req) => {
        const { namespace, model, version } = req.params;
        const page = await versions.history(
          callContext(req),
          namespace,
          model,
          parseVersionRef(version),
          req.query,
        );
        return { history: page.items, next_page_token: page.next_page_token };
      },
    );

    app.post(
      '/versions::batchGet',
      {
        schema: {
          tags,
          summary: 'Read up to 1000 versions by name at once (batch status query)',
          body: BatchGetBody,
          response: {
            200: Type.Object({ versions: Type.Array(Type.Ref(Version)), missing: Type.Array(Type.String()) }),
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const found = await versions.batchGet(callContext(req), req.body.names);
        return sendJson(reply, batchJson('versions', found.versions, found.missing));
      },
    );

    app.post(
      '/versions::batchGetStatus',
      {
        schema: {
          tags,
          summary: 'Read the status of up to 1000 versions at once (name, number, status, update time, ETag)',
          body: BatchGetBody,
          response: {
            200: Type.Object({
              versions: Type.Array(Type.Ref(VersionStatusView)),
              missing: Type.Array(Type.String()),
            }),
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const found = await versions.batchGetStatus(callContext(req), req.body.names);
        return sendJson(reply, batchJson('versions', found.versions, found.missing));
      },
    );

    app.put(
      '/namespaces/:namespace/models/:model/aliases/:alias',
      {
        schema: {
          tags: ['aliases'],
          summary: 'Point an alias at a version (atomic; recorded in history)',
          params: AliasParams,
          body: SetAliasBody,
          response: { 200: Type.Ref(Alias), ...errorResponses },
        },
      },
      async (req) => {
        const { namespace, model, alias } = req.params;
        return aliases.set(callContext(req), namespace, model, alias, req.body);
      },
    );

    app.delete(
      '/namespaces/:namespace/models/:model/aliases/:alias',
      {
        schema: {
          tags: ['aliases'],
          summary: 'Remove an alias',
          params: AliasParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (req, reply) => {
        const { namespace, model, alias } = req.params;
        await aliases.unset(callContext(req), namespace, model, alias);
        return reply.status(204).send(null);
      },
    );
  };
}
