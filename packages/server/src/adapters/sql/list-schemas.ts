import type { FilterSchema } from '../../domain/filter.js';
import { VERSION_STATUSES } from '../../domain/lifecycle.js';

/**
 * The fields a list may be filtered and ordered by, and the columns they live in.
 * Every order has a (sort, id) index; see migrations/001-registry.ts.
 */
const stripPrefix = (pattern: RegExp) => (v: string) => v.replace(pattern, '');

export const NAMESPACE_ORDER: Record<string, string> = {
  name: 'namespaces.namespace_id',
  namespace_id: 'namespaces.namespace_id',
  create_time: 'namespaces.create_time',
};

export const NAMESPACE_FILTER: FilterSchema = {
  fields: {
    name: { kind: 'string', column: 'namespaces.namespace_id', normalize: stripPrefix(/^namespaces\//) },
    namespace_id: { kind: 'string', column: 'namespaces.namespace_id' },
    description: { kind: 'string', column: 'namespaces.description' },
    create_time: { kind: 'timestamp', column: 'namespaces.create_time' },
    update_time: { kind: 'timestamp', column: 'namespaces.update_time' },
  },
};

export const MODEL_ORDER: Record<string, string> = {
  name: 'models.model_id',
  model_id: 'models.model_id',
  create_time: 'models.create_time',
  update_time: 'models.update_time',
  latest_version: 'models.latest_version',
};

export const MODEL_FILTER: FilterSchema = {
  fields: {
    name: {
      kind: 'string',
      column: 'models.model_id',
      normalize: stripPrefix(/^namespaces\/[^/]+\/models\//),
    },
    model_id: { kind: 'string', column: 'models.model_id' },
    description: { kind: 'string', column: 'models.description' },
    latest_version: { kind: 'integer', column: 'models.latest_version' },
    create_time: { kind: 'timestamp', column: 'models.create_time' },
    update_time: { kind: 'timestamp', column: 'models.update_time' },
  },
  labels: { table: 'model_labels', ownerColumn: 'model_pk', ownerRef: 'models.id' },
};

export const VERSION_ORDER: Record<string, string> = {
  version: 'model_versions.version',
  name: 'model_versions.version',
  create_time: 'model_versions.create_time',
  update_time: 'model_versions.update_time',
};

export const VERSION_FILTER: FilterSchema = {
  fields: {
    version: { kind: 'integer', column: 'model_versions.version' },
    status: { kind: 'enum', column: 'model_versions.status', values: VERSION_STATUSES },
    description: { kind: 'string', column: 'model_versions.description' },
    created_by: { kind: 'string', column: 'model_versions.created_by' },
    source_uri: { kind: 'string', column: 'model_versions.source_uri' },
    create_time: { kind: 'timestamp', column: 'model_versions.create_time' },
    update_time: { kind: 'timestamp', column: 'model_versions.update_time' },
  },
  labels: { table: 'version_labels', ownerColumn: 'version_pk', ownerRef: 'model_versions.id' },
};
