import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { QuiverError } from '../../../domain/errors.js';
import type { DeploymentService } from '../../../services/deployment.service.js';
import type { OperationService } from '../../../services/operation.service.js';
import { callContext, ifMatch } from '../app.js';
import { envelope } from '../errors.js';
import { errorResponses } from '../schemas.js';
import {
  BatchGetDeploymentsBody,
  CreateDeploymentBody,
  Deployment,
  DeploymentParams,
  Operation,
  OperationParams,
  UpdateDeploymentBody,
} from '../serving.schemas.js';

const HEARTBEAT_MS = 15_000;

export function deploymentRoutes(
  deployments: DeploymentService,
  operations: OperationService,
): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['deployments'];

    app.post(
      '/deployments',
      {
        schema: {
          tags,
          summary:
            'Deploy a version, an alias or a traffic split; answers 202 with the rollout operation at once',
          body: CreateDeploymentBody,
          response: { 202: Type.Ref(Operation), ...errorResponses },
        },
      },
      async (req, reply) => reply.status(202).send(await deployments.rollOut(callContext(req), req.body)),
    );

    app.get(
      '/deployments',
      {
        schema: {
          tags,
          summary: 'List deployments',
          querystring: Type.Object(
            {
              page_size: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
              page_token: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              deployments: Type.Array(Type.Ref(Deployment)),
              next_page_token: Type.String(),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const page = await deployments.list(callContext(req), {
          page_size: req.query.page_size,
          after: req.query.page_token ? Number(req.query.page_token) : undefined,
        });
        return {
          deployments: page.deployments,
          next_page_token: page.next === null ? '' : String(page.next),
        };
      },
    );

    app.get(
      '/deployments/:deployment(^[^:/]+)',
      {
        schema: {
          tags,
          summary: 'Get a deployment and its status',
          params: DeploymentParams,
          response: { 200: Type.Ref(Deployment), ...errorResponses },
        },
      },
      async (req, reply) => {
        const d = await deployments.get(callContext(req), req.params.deployment);
        return reply.header('etag', d.etag).send(d);
      },
    );

    app.patch(
      '/deployments/:deployment(^[^:/]+)',
      {
        schema: {
          tags,
          summary:
            'Change version, traffic split (promote a canary, roll back), replicas or batching; 202 with the operation',
          params: DeploymentParams,
          body: UpdateDeploymentBody,
          response: { 202: Type.Ref(Operation), ...errorResponses },
        },
      },
      async (req, reply) =>
        reply
          .status(202)
          .send(await deployments.update(callContext(req), req.params.deployment, req.body, ifMatch(req))),
    );

    app.delete(
      '/deployments/:deployment(^[^:/]+)',
      {
        schema: {
          tags,
          summary: 'Undeploy; 202 with the operation',
          params: DeploymentParams,
          response: { 202: Type.Ref(Operation), ...errorResponses },
        },
      },
      async (req, reply) =>
        reply.status(202).send(await deployments.delete(callContext(req), req.params.deployment)),
    );

    app.post(
      '/deployments::batchGet',
      {
        schema: {
          tags,
          summary: 'Statuses of many deployments at once',
          body: BatchGetDeploymentsBody,
          response: {
            200: Type.Object({
              deployments: Type.Array(Type.Ref(Deployment)),
              missing: Type.Array(Type.String()),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => deployments.batchGet(callContext(req), req.body.names),
    );

    app.get(
      '/operations/:operation(^[^:/]+)',
      {
        schema: {
          tags: ['operations'],
          summary: 'Get a long-running operation',
          params: OperationParams,
          response: { 200: Type.Ref(Operation), ...errorResponses },
        },
      },
      async (req) => operations.get(callContext(req), req.params.operation),
    );

    app.get(
      '/operations/:operation(^[^:/]+)::watch',
      {
        schema: {
          tags: ['operations'],
          summary: 'Server-Sent Events: the operation now and on every change until done (event `operation`)',
          params: OperationParams,
          response: {
            200: { description: 'text/event-stream of Operation JSON', type: 'string' },
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const ctx = callContext(req);
        // Listen first: a client that leaves while the first read runs must still stop the loop.
        const abort = new AbortController();
        reply.raw.on('close', () => abort.abort());
        await operations.get(ctx, req.params.operation); // 404 as JSON before the stream starts
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-request-id': req.id,
        });
        const beat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
        try {
          for await (const op of operations.watch(ctx, req.params.operation, abort.signal)) {
            res.write(`event: operation\ndata: ${JSON.stringify(op)}\n\n`);
          }
        } catch (err) {
          const e = QuiverError.from(err);
          res.write(`event: error\ndata: ${JSON.stringify(envelope(e, req.id))}\n\n`);
        } finally {
          clearInterval(beat);
          res.end();
        }
      },
    );
  };
}
