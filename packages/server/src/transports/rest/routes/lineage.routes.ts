import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { parseVersionRef } from '../../../domain/names.js';
import type { LineageService } from '../../../services/lineage.service.js';
import { callContext } from '../app.js';
import {
  DatasetVersionParams,
  GraphQuery,
  LineageGraph,
  OpenLineageEvents,
  TimelineEntry,
  VersionLineage,
} from '../lineage.schemas.js';
import { LineageInput } from '../lineage-input.schema.js';
import { errorResponses, listOf, PageQuery, VersionParams } from '../schemas.js';
import { parseDatasetVersion } from './datasets.routes.js';

const tags = ['lineage'];
/** The router needs the version segment to stop before `:recordLineage`. */
const VERSION = '/namespaces/:namespace/models/:model/versions/:version(^[^:/]+)';

export function lineageRoutes(lineage: LineageService): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      `${VERSION}::recordLineage`,
      {
        schema: {
          tags,
          summary: 'Add lineage to a version (datasets, run, parents) until it is approved',
          params: VersionParams,
          body: LineageInput,
          response: { 200: Type.Ref(VersionLineage), ...errorResponses },
        },
      },
      async (req) => {
        const { namespace, model, version } = req.params;
        return lineage.record(callContext(req), namespace, model, parseVersionRef(version), req.body);
      },
    );

    app.get(
      `${VERSION}/lineage`,
      {
        schema: {
          tags,
          summary:
            'Lineage graph of a version: upstream (data, run, parents), downstream (descendants, deployments) or both',
          params: VersionParams,
          querystring: GraphQuery,
          response: { 200: Type.Ref(LineageGraph), ...errorResponses },
        },
      },
      async (req) => {
        const { namespace, model, version } = req.params;
        return lineage.graph(callContext(req), namespace, model, parseVersionRef(version), req.query);
      },
    );

    app.get(
      `${VERSION}/lineage::openlineage`,
      {
        schema: {
          tags,
          summary: 'Lineage of a version as OpenLineage RunEvents (COMPLETE)',
          params: VersionParams,
          response: { 200: Type.Ref(OpenLineageEvents), ...errorResponses },
        },
      },
      async (req) => {
        const { namespace, model, version } = req.params;
        return lineage.openLineage(callContext(req), namespace, model, parseVersionRef(version));
      },
    );

    app.get(
      `${VERSION}/timeline`,
      {
        schema: {
          tags,
          summary: 'Timeline of a version: creation, transitions, approvals, aliases, lineage, deployments',
          params: VersionParams,
          querystring: PageQuery,
          response: { 200: listOf('entries', Type.Ref(TimelineEntry)), ...errorResponses },
        },
      },
      async (req) => {
        const { namespace, model, version } = req.params;
        const page = await lineage.timeline(
          callContext(req),
          namespace,
          model,
          parseVersionRef(version),
          req.query,
        );
        return { entries: page.items, next_page_token: page.next_page_token };
      },
    );

    app.get(
      '/namespaces/:namespace/datasets/:dataset/versions/:version/lineage',
      {
        schema: {
          tags,
          summary:
            'Downstream of a dataset version: models trained or evaluated on it, their descendants and deployments',
          params: DatasetVersionParams,
          querystring: GraphQuery,
          response: { 200: Type.Ref(LineageGraph), ...errorResponses },
        },
      },
      async (req) => {
        const { namespace, dataset, version } = req.params;
        return lineage.datasetGraph(
          callContext(req),
          namespace,
          dataset,
          parseDatasetVersion(version),
          req.query,
        );
      },
    );
  };
}
