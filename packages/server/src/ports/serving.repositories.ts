import type { Visibility } from '../domain/permissions.js';
import type { Signature } from '../domain/tensors.js';

/** What the registry knows about stored bytes (the bytes themselves are in the ArtifactStore). */
export interface ArtifactRecord {
  digest: string;
  size_bytes: number;
  media_type: string;
  /** `onnx` when the bytes were read as an ONNX model, else null. */
  format: string | null;
  signature: Signature | null;
  create_time: number;
}

export interface ArtifactRepository {
  /** Records an artifact; a second record of the same digest keeps the first (content addressing). */
  upsert(record: ArtifactRecord): Promise<ArtifactRecord>;
  get(digest: string): Promise<ArtifactRecord | undefined>;
  /** Adds what was learnt later (format, signature) to an existing record. */
  describe(digest: string, format: string, signature: Signature): Promise<void>;
  /** Models whose versions point at the artifact, at most `limit` (permission checks of downloads). */
  usedBy(digest: string, limit: number): Promise<{ namespace: string; model: string }[]>;
}

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface NewJob {
  kind: string;
  payload: Record<string, unknown>;
  maxAttempts: number;
  runAfter: number;
  /** W3C trace context of the request that caused the job, continued by the worker. */
  traceContext: string;
}

export interface Job {
  id: number;
  kind: string;
  payload: Record<string, unknown>;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  run_after: number;
  lease_owner: string | null;
  lease_expires: number | null;
  last_error: string;
  trace_context: string;
  create_time: number;
  update_time: number;
}

/** A durable queue in the registry's database: enqueued in the transaction of the change that causes the job. */
export interface JobRepository {
  enqueue(job: NewJob, now: number): Promise<number>;
  /**
   * Claims up to `limit` jobs of the given kinds that are due (queued and run_after ≤ now) or whose
   * lease expired (a crashed worker), setting owner and lease and counting an attempt. Safe with
   * many workers; a worker never takes a kind it cannot run (say, during a rolling upgrade).
   */
  claim(owner: string, now: number, leaseMs: number, limit: number, kinds: readonly string[]): Promise<Job[]>;
  /** Extends the lease; false when this owner no longer holds the job. */
  heartbeat(id: number, owner: string, leaseUntil: number, now: number): Promise<boolean>;
  succeed(id: number, owner: string, now: number): Promise<boolean>;
  /** Puts the job back with a delay (`retryAt`) or, when null, marks it failed for good. */
  fail(id: number, owner: string, error: string, retryAt: number | null, now: number): Promise<boolean>;
  get(id: number): Promise<Job | undefined>;
  /** Queue depth and the age of the oldest due job (metrics, readiness). */
  stats(now: number): Promise<{ queued: number; running: number; oldestDueAgeMs: number }>;
}

export const DEPLOYMENT_STATUSES = ['pending', 'loading', 'ready', 'failed', 'deleting'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** One target of a deployment: a version reference as given, and what it resolved to. */
export interface TrafficTarget {
  /** As the user wrote it: `3` or `@champion`. */
  version: string;
  percent: number;
}

export interface ResolvedTarget {
  version: number;
  percent: number;
  artifact_digest: string;
}

export interface BatchingConfig {
  max_batch_size: number;
  max_queue_delay_us: number;
}

export interface DeploymentRecord {
  pk: number;
  uid: string;
  deployment_id: string;
  model_pk: number;
  /** `namespaces/{ns}/models/{model}` */
  model: string;
  traffic: TrafficTarget[];
  resolved: ResolvedTarget[];
  replicas: number;
  batching: BatchingConfig | null;
  status: DeploymentStatus;
  status_message: string;
  /** Bumped by every change of spec; a rollout job works for one generation. */
  generation: number;
  observed_generation: number;
  create_time: number;
  update_time: number;
  revision: number;
}

export interface NewDeployment {
  uid: string;
  deployment_id: string;
  model_pk: number;
  /** `namespaces/{ns}/models/{model}` of `model_pk`, as the caller looked it up (the record returned shows it). */
  model: string;
  traffic: TrafficTarget[];
  replicas: number;
  batching: BatchingConfig | null;
  time: number;
}

/** A position in the deployments' order of change: after `time`, or at `time` with a pk above `pk`. */
export interface ChangeCursor {
  time: number;
  pk: number;
}

export interface DeploymentRepository {
  /** Throws QuiverError DEPLOYMENT_EXISTS on a duplicate name. */
  create(input: NewDeployment): Promise<DeploymentRecord>;
  get(deploymentId: string): Promise<DeploymentRecord | undefined>;
  getMany(deploymentIds: readonly string[]): Promise<DeploymentRecord[]>;
  /** `visible` restricts the list to the caller's scopes (filtered inside the query). */
  list(after: number | null, limit: number, visible?: Visibility): Promise<DeploymentRecord[]>;
  /** New spec: bumps generation, status back to pending. */
  respec(
    pk: number,
    spec: { traffic: TrafficTarget[]; replicas: number; batching: BatchingConfig | null },
    time: number,
  ): Promise<DeploymentRecord>;
  /** Status as seen by the rollout; ignored (false) when `generation` is no longer current. */
  setStatus(
    pk: number,
    generation: number,
    status: DeploymentStatus,
    message: string,
    resolved: ResolvedTarget[] | null,
    time: number,
  ): Promise<boolean>;
  markDeleting(pk: number, time: number): Promise<DeploymentRecord>;
  delete(pk: number): Promise<void>;
  /** Deployments serving any version of these models (lineage, "what is deployed"). */
  forModel(modelPk: number): Promise<DeploymentRecord[]>;
  /**
   * Deployments whose last change comes after `from` (update time, then pk), oldest change first,
   * at most `limit` (inference nodes page through this to follow rollouts made elsewhere).
   */
  changedSince(from: ChangeCursor, limit: number): Promise<DeploymentRecord[]>;
}

export interface OperationRecord {
  id: string;
  kind: 'deploy' | 'update' | 'undeploy';
  /** `deployments/{id}` */
  target: string;
  done: boolean;
  progress: number;
  message: string;
  error: { code: string; message: string; details: Record<string, unknown> } | null;
  result: Record<string, unknown> | null;
  create_time: number;
  update_time: number;
}

export interface OperationRepository {
  create(
    op: Omit<OperationRecord, 'done' | 'progress' | 'message' | 'error' | 'result' | 'update_time'>,
  ): Promise<OperationRecord>;
  get(id: string): Promise<OperationRecord | undefined>;
  progress(id: string, progress: number, message: string, time: number): Promise<void>;
  finish(
    id: string,
    outcome: { result: Record<string, unknown> } | { error: OperationRecord['error'] },
    time: number,
  ): Promise<void>;
}
