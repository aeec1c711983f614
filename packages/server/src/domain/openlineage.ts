import type { DatasetRole, RunKind, RunStatus } from './lineage.js';
import type { JsonObject } from './resources.js';
import { rfc3339 } from './resources.js';

/**
 * OpenLineage export (spec 2-0-2): a model version becomes the output of one COMPLETE RunEvent
 * whose inputs are the datasets it was trained and evaluated on and the versions it derives from.
 * See docs/lineage.md for the whole mapping.
 */
export const OPENLINEAGE_SPEC = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';
export const RUN_EVENT_SCHEMA_URL = `${OPENLINEAGE_SPEC}#/$defs/RunEvent`;
const DATASET_VERSION_FACET_URL =
  'https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet';
// Quiver's own facets extend the spec's base facets; their schema is the base one (extra fields allowed).
const BASE_DATASET_FACET_URL = `${OPENLINEAGE_SPEC}#/$defs/DatasetFacet`;
const BASE_RUN_FACET_URL = `${OPENLINEAGE_SPEC}#/$defs/RunFacet`;

export interface OpenLineageSource {
  /** URI of the software that emits the events (`urn:quiver:server:<version>`). */
  producer: string;
  version: {
    name: string;
    uid: string;
    namespace: string;
    model_id: string;
    version: number;
    status: string;
    artifact_digest: string | null;
    create_time: number;
  };
  run: {
    name: string;
    uid: string;
    kind: RunKind;
    status: RunStatus;
    code_commit: string;
    parameters: JsonObject;
    metrics: JsonObject;
    start_time: number | null;
    end_time: number | null;
  } | null;
  datasets: {
    name: string;
    role: DatasetRole;
    uri: string;
    digest: string;
    size_bytes: number | null;
    format: string | null;
  }[];
  parents: {
    name: string;
    namespace: string;
    model_id: string;
    version: number;
    artifact_digest: string | null;
  }[];
}

export interface OpenLineageDataset {
  namespace: string;
  name: string;
  facets: Record<string, JsonObject>;
}

export interface RunEvent {
  eventType: 'COMPLETE';
  eventTime: string;
  run: { runId: string; facets: Record<string, JsonObject> };
  job: { namespace: string; name: string; facets: Record<string, JsonObject> };
  inputs: OpenLineageDataset[];
  outputs: OpenLineageDataset[];
  producer: string;
  schemaURL: string;
}

/** OpenLineage's naming convention: `s3://bucket/path` is namespace `s3://bucket`, name `path`. */
export function datasetIdentity(uri: string): { namespace: string; name: string } {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/]*)(\/.*)?$/.exec(uri);
  if (m) {
    const [, scheme, authority, path = '/'] = m;
    // file:///data/x has no authority: OpenLineage names it namespace `file`, name `/data/x`.
    if (!authority) return { namespace: scheme!, name: path };
    return { namespace: `${scheme}://${authority}`, name: path.replace(/^\//, '') || '/' };
  }
  const colon = uri.indexOf(':');
  return { namespace: uri.slice(0, colon), name: uri.slice(colon + 1) };
}

/** Quiver's models live in OpenLineage namespace `quiver/{namespace}` under `models/{model}/versions/{n}`. */
const quiverNamespace = (ns: string) => `quiver/${ns}`;

export function toRunEvent(src: OpenLineageSource): RunEvent {
  const { producer, version: v, run } = src;
  const facet = (schemaURL: string, fields: JsonObject) => ({
    _producer: producer,
    _schemaURL: schemaURL,
    ...fields,
  });
  const modelDataset = (ns: string, model: string, n: number, digest: string | null, extra: JsonObject) => ({
    namespace: quiverNamespace(ns),
    name: `models/${model}/versions/${n}`,
    facets: {
      version: facet(DATASET_VERSION_FACET_URL, { datasetVersion: digest ?? String(n) }),
      quiver_model_version: facet(BASE_DATASET_FACET_URL, extra),
    },
  });
  const inputs: OpenLineageDataset[] = [
    ...src.datasets.map((d) => ({
      ...datasetIdentity(d.uri),
      facets: {
        version: facet(DATASET_VERSION_FACET_URL, { datasetVersion: d.digest }),
        quiver_dataset_version: facet(BASE_DATASET_FACET_URL, {
          name: d.name,
          role: d.role,
          uri: d.uri,
          digest: d.digest,
          size_bytes: d.size_bytes,
          format: d.format,
        }),
      },
    })),
    ...src.parents.map((p) =>
      modelDataset(p.namespace, p.model_id, p.version, p.artifact_digest, {
        name: p.name,
        role: 'derived_from',
      }),
    ),
  ];
  return {
    eventType: 'COMPLETE',
    eventTime: rfc3339(run?.end_time ?? v.create_time),
    run: {
      // Without a recorded run, the registration itself is the run: the version's UUID names it.
      runId: run?.uid ?? v.uid,
      facets: run
        ? {
            quiver_run: facet(BASE_RUN_FACET_URL, {
              name: run.name,
              kind: run.kind,
              status: run.status,
              code_commit: run.code_commit,
              parameters: run.parameters,
              metrics: run.metrics,
              start_time: run.start_time === null ? null : rfc3339(run.start_time),
              end_time: run.end_time === null ? null : rfc3339(run.end_time),
            }),
          }
        : {},
    },
    job: {
      namespace: quiverNamespace(v.namespace),
      name: `models/${v.model_id}/${run?.kind ?? 'registration'}`,
      facets: {},
    },
    inputs,
    outputs: [
      modelDataset(v.namespace, v.model_id, v.version, v.artifact_digest, {
        name: v.name,
        status: v.status,
        artifact_digest: v.artifact_digest,
      }),
    ],
    producer,
    schemaURL: RUN_EVENT_SCHEMA_URL,
  };
}
