import { type TSchema, Type } from '@sinclair/typebox';
import {
  DATASET_DIGEST_PATTERN,
  EDGE_KINDS,
  LINEAGE_DIRECTIONS,
  NODE_TYPES,
  RUN_KINDS,
  RUN_STATUSES,
  URI_PATTERN,
} from '../../domain/lineage.js';
import { ID_PATTERN } from '../../domain/names.js';
import { LIMITS } from '../../domain/validation.js';
import { TIMELINE_KINDS } from '../../services/lineage.service.js';

/** Datasets, runs, lineage graphs, timelines and the OpenLineage export, as the API shows them. */
const Strict = { additionalProperties: false } as const;
const Time = Type.String({ format: 'date-time', description: 'RFC 3339 time.' });
const Labels = Type.Record(Type.String(), Type.String({ maxLength: LIMITS.labelValue }));
const Json = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });
const Literals = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Common = {
  uid: Type.String(),
  create_time: Time,
  update_time: Time,
  etag: Type.String(),
};

export const Dataset = Type.Object(
  {
    name: Type.String({ examples: ['namespaces/fraud/datasets/transactions'] }),
    namespace: Type.String(),
    dataset_id: Type.String(),
    description: Type.String(),
    labels: Labels,
    latest_version: Type.Integer(),
    ...Common,
  },
  { $id: 'Dataset' },
);

export const DatasetVersion = Type.Object(
  {
    name: Type.String({ examples: ['namespaces/fraud/datasets/transactions/versions/3'] }),
    uid: Type.String(),
    dataset: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    uri: Type.String(),
    digest: Type.String(),
    size_bytes: Type.Union([Type.Integer(), Type.Null()]),
    format: Type.Union([Type.String(), Type.Null()]),
    metadata: Json('Free-form JSON object, immutable.'),
    created_by: Type.String(),
    create_time: Time,
  },
  { $id: 'DatasetVersion' },
);

export const Run = Type.Object(
  {
    name: Type.String({ examples: ['namespaces/fraud/runs/train-0412'] }),
    namespace: Type.String(),
    run_id: Type.String(),
    kind: Literals(RUN_KINDS),
    status: Literals(RUN_STATUSES),
    description: Type.String(),
    labels: Labels,
    code_commit: Type.String(),
    parameters: Json('Hyper-parameters.'),
    metrics: Json('Results (loss, auc…).'),
    environment: Json('Libraries, hardware, image…'),
    start_time: Type.Union([Time, Type.Null()]),
    end_time: Type.Union([Time, Type.Null()]),
    created_by: Type.String(),
    ...Common,
  },
  { $id: 'Run' },
);

export const VersionLineage = Type.Object(
  {
    version: Type.String(),
    trained_on: Type.Array(Type.String()),
    evaluated_on: Type.Array(Type.String()),
    produced_by: Type.Union([Type.String(), Type.Null()]),
    derived_from: Type.Array(Type.String()),
    frozen: Type.Boolean({ description: 'True from approval on: the lineage can no longer change.' }),
  },
  { $id: 'VersionLineage' },
);

export const LineageGraph = Type.Object(
  {
    root: Type.String(),
    direction: Literals(LINEAGE_DIRECTIONS),
    depth: Type.Integer(),
    nodes: Type.Array(
      Type.Object({
        name: Type.String(),
        type: Literals(NODE_TYPES),
        depth: Type.Integer({ description: 'Hops from the root (0).' }),
        status: Type.Optional(Type.String()),
        model: Type.Optional(Type.String()),
        version: Type.Optional(Type.Integer()),
        artifact_digest: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        dataset: Type.Optional(Type.String()),
        uri: Type.Optional(Type.String()),
        digest: Type.Optional(Type.String()),
        run_kind: Type.Optional(Literals(RUN_KINDS)),
        code_commit: Type.Optional(Type.String()),
        serving: Type.Optional(Type.Array(Type.Object({ version: Type.Integer(), percent: Type.Integer() }))),
      }),
    ),
    edges: Type.Array(
      Type.Object({
        source: Type.String(),
        target: Type.String(),
        kind: Literals(EDGE_KINDS),
      }),
      {
        description:
          '"source kind target": a version trained_on a dataset version, a deployment serves a version.',
      },
    ),
    truncated: Type.Boolean({ description: `True when the walk stopped at ${LIMITS.lineageNodes} nodes.` }),
    hidden: Type.Integer({
      minimum: 0,
      description:
        'Nodes left out because the caller may not read them (with the edges that touch them): the graph goes on there.',
    }),
  },
  { $id: 'LineageGraph' },
);

export const TimelineEntry = Type.Object(
  {
    time: Time,
    kind: Literals(TIMELINE_KINDS),
    actor: Type.String(),
    summary: Type.String(),
    details: Json('Kind-specific: from/to/reason, alias, deployment and percent, lineage edges…'),
  },
  { $id: 'TimelineEntry' },
);

const OlDataset = Type.Object({
  namespace: Type.String(),
  name: Type.String(),
  facets: Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown())),
});

export const OpenLineageEvents = Type.Object(
  {
    events: Type.Array(
      Type.Object({
        eventType: Type.Literal('COMPLETE'),
        eventTime: Time,
        run: Type.Object({
          runId: Type.String({ format: 'uuid' }),
          facets: Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown())),
        }),
        job: Type.Object({
          namespace: Type.String(),
          name: Type.String(),
          facets: Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown())),
        }),
        inputs: Type.Array(OlDataset),
        outputs: Type.Array(OlDataset),
        producer: Type.String(),
        schemaURL: Type.String(),
      }),
    ),
  },
  {
    $id: 'OpenLineageEvents',
    description: 'OpenLineage 2-0-2 RunEvents; see docs/lineage.md for the mapping.',
  },
);

export const LINEAGE_SCHEMAS: TSchema[] = [
  Dataset,
  DatasetVersion,
  Run,
  VersionLineage,
  LineageGraph,
  TimelineEntry,
  OpenLineageEvents,
];

export const CreateDatasetBody = Type.Object(
  {
    dataset_id: Type.String({ pattern: ID_PATTERN }),
    description: Type.Optional(Type.String({ maxLength: LIMITS.description })),
    labels: Type.Optional(Labels),
  },
  Strict,
);

export const CreateDatasetVersionBody = Type.Object(
  {
    uri: Type.String({
      maxLength: LIMITS.uri,
      pattern: URI_PATTERN,
      examples: ['s3://data/transactions/2024-04/'],
    }),
    digest: Type.String({
      pattern: DATASET_DIGEST_PATTERN,
      description: 'algorithm:hex of the data (or its manifest).',
    }),
    size_bytes: Type.Optional(Type.Integer({ minimum: 0 })),
    format: Type.Optional(Type.String({ maxLength: 32, examples: ['parquet'] })),
    metadata: Type.Optional(Json('JSON object, at most 64 KiB and 32 levels deep.')),
  },
  Strict,
);

const RunFields = {
  description: Type.Optional(Type.String({ maxLength: LIMITS.description })),
  labels: Type.Optional(Labels),
  metrics: Type.Optional(Json('Results (loss, auc…).')),
  end_time: Type.Optional(Time),
};

export const CreateRunBody = Type.Object(
  {
    run_id: Type.String({ pattern: ID_PATTERN }),
    kind: Literals(RUN_KINDS),
    status: Type.Optional(Literals(RUN_STATUSES)),
    code_commit: Type.Optional(Type.String({ maxLength: 256 })),
    parameters: Type.Optional(Json('Hyper-parameters.')),
    environment: Type.Optional(Json('Libraries, hardware, image…')),
    start_time: Type.Optional(Time),
    ...RunFields,
  },
  Strict,
);

export const UpdateRunBody = Type.Object(
  { status: Type.Optional(Literals(RUN_STATUSES)), ...RunFields },
  Strict,
);

export const GraphQuery = Type.Object(
  {
    direction: Type.Optional(Literals(LINEAGE_DIRECTIONS)),
    depth: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: LIMITS.lineageDepth,
        description: `Levels to walk; default 3, at most ${LIMITS.lineageDepth}.`,
      }),
    ),
  },
  Strict,
);

export const DatasetParams = Type.Object({ namespace: Type.String(), dataset: Type.String() });
export const DatasetVersionParams = Type.Object({
  namespace: Type.String(),
  dataset: Type.String(),
  version: Type.String({ description: 'A dataset version number.' }),
});
export const RunParams = Type.Object({ namespace: Type.String(), run: Type.String() });
