import { Type } from '@sinclair/typebox';
import {
  DEPLOYMENT_ID_PATTERN,
  MAX_BATCH_SIZE,
  MAX_QUEUE_DELAY_US,
  MAX_REPLICAS,
  MAX_TRAFFIC_TARGETS,
} from '../../domain/deployments.js';
import { CODES } from '../../domain/errors.js';
import { DEPLOYMENT_STATUSES } from '../../ports/serving.repositories.js';

const Strict = { additionalProperties: false } as const;
const Time = Type.String({ format: 'date-time' });
const VersionRef = Type.Union(
  [Type.Integer({ minimum: 1 }), Type.String({ pattern: '^([1-9][0-9]*|@.+)$' })],
  {
    description: 'A version number or @alias.',
  },
);
const TrafficTarget = Type.Object(
  { version: VersionRef, percent: Type.Integer({ minimum: 1, maximum: 100 }) },
  Strict,
);
const Batching = Type.Object(
  {
    max_batch_size: Type.Integer({ minimum: 1, maximum: MAX_BATCH_SIZE }),
    max_queue_delay_us: Type.Integer({ minimum: 0, maximum: MAX_QUEUE_DELAY_US }),
  },
  { ...Strict, description: 'Dynamic batching: concurrent requests are merged along the first dimension.' },
);

export const Deployment = Type.Object(
  {
    name: Type.String({ examples: ['deployments/fraud-prod'] }),
    uid: Type.String(),
    deployment_id: Type.String(),
    model: Type.String(),
    traffic: Type.Array(Type.Object({ version: Type.String(), percent: Type.Integer() })),
    serving: Type.Array(
      Type.Object({ version: Type.Integer(), percent: Type.Integer(), artifact_digest: Type.String() }),
      {
        description: 'What the last successful rollout serves (aliases resolved).',
      },
    ),
    replicas: Type.Integer(),
    batching: Type.Union([Batching, Type.Null()]),
    status: Type.Union(DEPLOYMENT_STATUSES.map((s) => Type.Literal(s))),
    status_message: Type.String(),
    generation: Type.Integer(),
    observed_generation: Type.Integer(),
    create_time: Time,
    update_time: Time,
    etag: Type.String(),
  },
  { $id: 'Deployment' },
);

export const Operation = Type.Object(
  {
    name: Type.String({ examples: ['operations/0193…'] }),
    done: Type.Boolean(),
    metadata: Type.Object({
      kind: Type.Union([Type.Literal('deploy'), Type.Literal('update'), Type.Literal('undeploy')]),
      target: Type.String(),
      progress: Type.Integer({ minimum: 0, maximum: 100 }),
      message: Type.String(),
      create_time: Time,
      update_time: Time,
    }),
    result: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    error: Type.Optional(
      Type.Object({
        code: Type.Union(CODES.map((c) => Type.Literal(c))),
        message: Type.String(),
        details: Type.Record(Type.String(), Type.Unknown()),
      }),
    ),
  },
  { $id: 'Operation', description: 'A long-running operation (AIP-151).' },
);

export const SERVING_SCHEMAS = [Deployment, Operation];

export const CreateDeploymentBody = Type.Object(
  {
    deployment_id: Type.String({ pattern: DEPLOYMENT_ID_PATTERN, description: 'A DNS label, unique.' }),
    model: Type.String({ description: 'namespaces/{namespace}/models/{model}' }),
    version: Type.Optional(VersionRef),
    traffic: Type.Optional(Type.Array(TrafficTarget, { minItems: 1, maxItems: MAX_TRAFFIC_TARGETS })),
    replicas: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_REPLICAS })),
    batching: Type.Optional(Batching),
  },
  Strict,
);

export const UpdateDeploymentBody = Type.Object(
  {
    version: Type.Optional(VersionRef),
    traffic: Type.Optional(Type.Array(TrafficTarget, { minItems: 1, maxItems: MAX_TRAFFIC_TARGETS })),
    replicas: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_REPLICAS })),
    batching: Type.Optional(Type.Union([Batching, Type.Null()])),
  },
  Strict,
);

export const BatchGetDeploymentsBody = Type.Object(
  { names: Type.Array(Type.String({ maxLength: 80 }), { maxItems: 1000 }) },
  Strict,
);
export const DeploymentParams = Type.Object({ deployment: Type.String() });
export const OperationParams = Type.Object({ operation: Type.String() });
