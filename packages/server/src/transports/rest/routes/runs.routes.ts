import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { RunService } from '../../../services/run.service.js';
import { callContext, ifMatch } from '../app.js';
import { CreateRunBody, Run, RunParams, UpdateRunBody } from '../lineage.schemas.js';
import { errorResponses, ListQuery, listOf, NamespaceParams } from '../schemas.js';

const tags = ['runs'];
const RUNS = '/namespaces/:namespace/runs';

export function runRoutes(runs: RunService): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      RUNS,
      {
        schema: {
          tags,
          summary: 'Record a training or evaluation run',
          params: NamespaceParams,
          body: CreateRunBody,
          response: { 201: Type.Ref(Run), ...errorResponses },
        },
      },
      async (req, reply) =>
        reply.status(201).send(await runs.create(callContext(req), req.params.namespace, req.body)),
    );

    app.get(
      RUNS,
      {
        schema: {
          tags,
          summary: 'List the runs of a namespace (newest first by default)',
          params: NamespaceParams,
          querystring: ListQuery,
          response: { 200: listOf('runs', Type.Ref(Run)), ...errorResponses },
        },
      },
      async (req) => {
        const page = await runs.list(callContext(req), req.params.namespace, req.query);
        return { runs: page.items, next_page_token: page.next_page_token };
      },
    );

    app.get(
      `${RUNS}/:run`,
      {
        schema: {
          tags,
          summary: 'Get a run',
          params: RunParams,
          response: { 200: Type.Ref(Run), ...errorResponses },
        },
      },
      async (req, reply) => {
        const run = await runs.get(callContext(req), req.params.namespace, req.params.run);
        return reply.header('etag', run.etag).send(run);
      },
    );

    app.patch(
      `${RUNS}/:run`,
      {
        schema: {
          tags,
          summary: 'Finish or correct a run: status, end time, metrics, description, labels',
          params: RunParams,
          body: UpdateRunBody,
          response: { 200: Type.Ref(Run), ...errorResponses },
        },
      },
      async (req, reply) => {
        const { namespace, run } = req.params;
        const updated = await runs.update(callContext(req), namespace, run, req.body, ifMatch(req));
        return reply.header('etag', updated.etag).send(updated);
      },
    );
  };
}
