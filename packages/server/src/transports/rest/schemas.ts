import { type TSchema, Type } from '@sinclair/typebox';
import { CODES } from '../../domain/errors.js';
import { VERSION_STATUSES } from '../../domain/lifecycle.js';
import { ALIAS_PATTERN, ID_PATTERN } from '../../domain/names.js';
import { HISTORY_KINDS } from '../../domain/resources.js';
import { DATATYPES } from '../../domain/tensors.js';
import { LIMITS } from '../../domain/validation.js';
import { FORMAT_PATTERN } from '../../services/model-artifacts.js';
import { LineageInput } from './lineage-input.schema.js';

/**
 * The contract: these schemas validate requests, serialise responses and generate
 * /openapi.json. Bodies reject unknown fields (additionalProperties: false).
 */
const Strict = { additionalProperties: false } as const;
const Id = (kind: string) =>
  Type.String({
    pattern: ID_PATTERN,
    description: `${kind} id: lowercase letters, digits, '-', '_'; 1-63 characters.`,
  });
const Labels = Type.Record(Type.String(), Type.String({ maxLength: LIMITS.labelValue }), {
  description: 'String key/value labels (at most 64; keys like `team` or `app.kubernetes.io/name`).',
});
const Description = Type.String({ maxLength: LIMITS.description });
const Time = Type.String({ format: 'date-time', description: 'RFC 3339 time.' });
const Common = {
  uid: Type.String({ description: 'Immutable unique id (UUIDv7).' }),
  create_time: Time,
  update_time: Time,
  etag: Type.String({ description: 'Changes on every update; send it back in If-Match.' }),
};

export const Status = Type.Union(
  VERSION_STATUSES.map((s) => Type.Literal(s)),
  { $id: 'Status' },
);

export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      code: Type.Union(CODES.map((c) => Type.Literal(c))),
      message: Type.String(),
      details: Type.Object({ reason: Type.String() }, { additionalProperties: true }),
      request_id: Type.String(),
      trace_id: Type.Optional(
        Type.String({
          description: 'The W3C trace id of the request, when it was traced (find the trace with it).',
        }),
      ),
    }),
  },
  { $id: 'Error', description: 'The one error envelope, shared with gRPC codes.' },
);

export const Namespace = Type.Object(
  {
    name: Type.String({ examples: ['namespaces/fraud'] }),
    namespace_id: Type.String(),
    description: Type.String(),
    ...Common,
  },
  { $id: 'Namespace' },
);

export const Model = Type.Object(
  {
    name: Type.String({ examples: ['namespaces/fraud/models/scorer'] }),
    namespace: Type.String(),
    model_id: Type.String(),
    description: Type.String(),
    labels: Labels,
    latest_version: Type.Integer({ description: 'Highest version number; 0 when the model has none.' }),
    aliases: Type.Record(Type.String(), Type.Integer(), { description: 'Alias → version number.' }),
    ...Common,
  },
  { $id: 'Model' },
);

const TensorSpec = Type.Object({
  name: Type.String(),
  datatype: Type.Union(DATATYPES.map((d) => Type.Literal(d))),
  shape: Type.Array(Type.Integer(), { description: '-1 marks a dimension of variable size.' }),
});

export const Signature = Type.Object(
  {
    format: Type.Literal('onnx'),
    inputs: Type.Array(TensorSpec),
    outputs: Type.Array(TensorSpec),
    opset: Type.Union([Type.Integer(), Type.Null()]),
    ir_version: Type.Union([Type.Integer(), Type.Null()]),
    producer: Type.String(),
  },
  { $id: 'Signature', description: 'Inputs and outputs of a model, read from the model file.' },
);

export const Version = Type.Object(
  {
    name: Type.String({ examples: ['namespaces/fraud/models/scorer/versions/3'] }),
    model: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    status: Type.Ref(Status),
    description: Type.String(),
    labels: Labels,
    metadata: Type.Record(Type.String(), Type.Unknown(), {
      description: 'Free-form JSON object, immutable.',
    }),
    source_uri: Type.String(),
    artifact: Type.Union([
      Type.Object({
        digest: Type.String(),
        size_bytes: Type.Integer(),
        media_type: Type.String(),
        format: Type.Union([Type.String(), Type.Null()]),
      }),
      Type.Null(),
    ]),
    signature: Type.Union([Type.Ref(Signature), Type.Null()]),
    aliases: Type.Array(Type.String()),
    created_by: Type.String(),
    ...Common,
  },
  { $id: 'Version' },
);

export const VersionStatusView = Type.Object(
  {
    name: Type.String({ examples: ['namespaces/fraud/models/scorer/versions/3'] }),
    version: Type.Integer({ minimum: 1 }),
    status: Type.Ref(Status),
    update_time: Type.String({ format: 'date-time' }),
    etag: Type.String(),
  },
  { $id: 'VersionStatusView', description: 'The part of a version a status query needs.' },
);

export const HistoryEntry = Type.Object(
  {
    kind: Type.Union(HISTORY_KINDS.map((k) => Type.Literal(k))),
    version: Type.Integer(),
    from_status: Type.Union([Type.Ref(Status), Type.Null()]),
    to_status: Type.Union([Type.Ref(Status), Type.Null()]),
    alias: Type.Union([Type.String(), Type.Null()]),
    actor: Type.String(),
    reason: Type.String(),
    time: Time,
  },
  { $id: 'HistoryEntry' },
);

export const Alias = Type.Object(
  {
    name: Type.String(),
    model: Type.String(),
    alias: Type.String(),
    version: Type.Integer(),
    previous_version: Type.Union([Type.Integer(), Type.Null()]),
    update_time: Time,
  },
  { $id: 'Alias' },
);

/** Shared schemas, registered once with Fastify; they become OpenAPI components. */
export const SHARED_SCHEMAS: TSchema[] = [
  Status,
  ErrorEnvelope,
  Namespace,
  Model,
  Signature,
  Version,
  VersionStatusView,
  HistoryEntry,
  Alias,
];

export const ListQuery = Type.Object(
  {
    page_size: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 1000, description: 'Default 50, at most 1000.' }),
    ),
    page_token: Type.Optional(Type.String({ maxLength: 2048 })),
    filter: Type.Optional(Type.String({ maxLength: 2000, description: 'AIP-160 subset; see docs/api.md.' })),
    order_by: Type.Optional(Type.String({ maxLength: 100, examples: ['create_time desc'] })),
  },
  Strict,
);

export const PageQuery = Type.Object(
  {
    page_size: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    page_token: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  Strict,
);

export const listOf = (plural: string, item: TSchema) =>
  Type.Object({ [plural]: Type.Array(item), next_page_token: Type.String() });

export const CreateNamespaceBody = Type.Object(
  { namespace_id: Id('Namespace'), description: Type.Optional(Description) },
  Strict,
);
export const CreateModelBody = Type.Object(
  { model_id: Id('Model'), description: Type.Optional(Description), labels: Type.Optional(Labels) },
  Strict,
);
export const UpdateBody = Type.Object(
  { description: Type.Optional(Description), labels: Type.Optional(Labels) },
  Strict,
);
export const CreateVersionBody = Type.Object(
  {
    description: Type.Optional(Description),
    labels: Type.Optional(Labels),
    metadata: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'JSON object, at most 64 KiB and 32 levels deep.',
      }),
    ),
    source_uri: Type.Optional(Type.String({ maxLength: LIMITS.sourceUri })),
    artifact: Type.Optional(
      Type.Object(
        {
          digest: Type.String({ pattern: '^sha256:[0-9a-f]{64}$', description: 'From POST /v1/artifacts.' }),
          format: Type.Optional(
            Type.String({
              pattern: FORMAT_PATTERN,
              description: 'e.g. onnx; detected from the bytes when omitted.',
            }),
          ),
        },
        Strict,
      ),
    ),
    lineage: Type.Optional(LineageInput),
  },
  Strict,
);
export const TransitionBody = Type.Object(
  {
    status: Type.Union(VERSION_STATUSES.map((s) => Type.Literal(s))),
    reason: Type.Optional(Type.String({ maxLength: LIMITS.reason })),
  },
  Strict,
);
export const SetAliasBody = Type.Object(
  { version: Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^([1-9][0-9]*|@.+)$' })]) },
  Strict,
);
export const BatchGetBody = Type.Object(
  {
    names: Type.Array(Type.String({ maxLength: 300 }), {
      maxItems: 1000,
      description: 'Up to 1000 version names.',
    }),
  },
  Strict,
);

export const NamespaceParams = Type.Object({
  namespace: Type.String({ description: 'Namespace id, or `-` for all in list calls.' }),
});
export const ModelParams = Type.Object({ namespace: Type.String(), model: Type.String() });
export const VersionParams = Type.Object({
  namespace: Type.String(),
  model: Type.String(),
  version: Type.String({ description: 'A version number or `@alias`.' }),
});
export const AliasParams = Type.Object({
  namespace: Type.String(),
  model: Type.String(),
  alias: Type.String({ pattern: ALIAS_PATTERN }),
});
export const DeleteModelQuery = Type.Object({ force: Type.Optional(Type.Boolean()) }, Strict);

export const errorResponses = {
  '4xx': Type.Ref(ErrorEnvelope),
  '5xx': Type.Ref(ErrorEnvelope),
};
