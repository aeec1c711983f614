import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { QuiverError } from '../../../domain/errors.js';
import { preview } from '../../../domain/names.js';
import type { DatasetService } from '../../../services/dataset.service.js';
import { callContext } from '../app.js';
import {
  CreateDatasetBody,
  CreateDatasetVersionBody,
  Dataset,
  DatasetParams,
  DatasetVersion,
  DatasetVersionParams,
} from '../lineage.schemas.js';
import { errorResponses, ListQuery, listOf, NamespaceParams, PageQuery } from '../schemas.js';

const tags = ['datasets'];
const DATASETS = '/namespaces/:namespace/datasets';
const DATASET = `${DATASETS}/:dataset`;

/** Dataset version numbers in paths: 1, 2, 3… (no aliases, no leading zeros). */
export function parseDatasetVersion(raw: string): number {
  if (/^[1-9][0-9]{0,9}$/.test(raw) && Number(raw) <= 2_147_483_647) return Number(raw);
  throw new QuiverError(
    'INVALID_ARGUMENT',
    `version must be a dataset version number (1, 2, …); got ${preview(raw)}.`,
    {
      details: { field: 'version' },
    },
  );
}

export function datasetRoutes(datasets: DatasetService): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      DATASETS,
      {
        schema: {
          tags,
          summary: 'Register a dataset in a namespace',
          params: NamespaceParams,
          body: CreateDatasetBody,
          response: { 201: Type.Ref(Dataset), ...errorResponses },
        },
      },
      async (req, reply) =>
        reply.status(201).send(await datasets.create(callContext(req), req.params.namespace, req.body)),
    );

    app.get(
      DATASETS,
      {
        schema: {
          tags,
          summary: 'List the datasets of a namespace',
          params: NamespaceParams,
          querystring: ListQuery,
          response: { 200: listOf('datasets', Type.Ref(Dataset)), ...errorResponses },
        },
      },
      async (req) => {
        const page = await datasets.list(callContext(req), req.params.namespace, req.query);
        return { datasets: page.items, next_page_token: page.next_page_token };
      },
    );

    app.get(
      DATASET,
      {
        schema: {
          tags,
          summary: 'Get a dataset',
          params: DatasetParams,
          response: { 200: Type.Ref(Dataset), ...errorResponses },
        },
      },
      async (req) => datasets.get(callContext(req), req.params.namespace, req.params.dataset),
    );

    app.post(
      `${DATASET}/versions`,
      {
        schema: {
          tags,
          summary: 'Record the next version of a dataset (identified by URI + digest)',
          params: DatasetParams,
          body: CreateDatasetVersionBody,
          response: { 201: Type.Ref(DatasetVersion), ...errorResponses },
        },
      },
      async (req, reply) => {
        const { namespace, dataset } = req.params;
        return reply
          .status(201)
          .send(await datasets.createVersion(callContext(req), namespace, dataset, req.body));
      },
    );

    app.get(
      `${DATASET}/versions`,
      {
        schema: {
          tags,
          summary: 'List the versions of a dataset, newest first',
          params: DatasetParams,
          querystring: PageQuery,
          response: { 200: listOf('versions', Type.Ref(DatasetVersion)), ...errorResponses },
        },
      },
      async (req) => {
        const { namespace, dataset } = req.params;
        const page = await datasets.listVersions(callContext(req), namespace, dataset, req.query);
        return { versions: page.items, next_page_token: page.next_page_token };
      },
    );

    app.get(
      `${DATASET}/versions/:version`,
      {
        schema: {
          tags,
          summary: 'Get a dataset version',
          params: DatasetVersionParams,
          response: { 200: Type.Ref(DatasetVersion), ...errorResponses },
        },
      },
      async (req) => {
        const { namespace, dataset, version } = req.params;
        return datasets.getVersion(callContext(req), namespace, dataset, parseDatasetVersion(version));
      },
    );
  };
}
