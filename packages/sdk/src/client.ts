import { AliasesClient } from './clients/aliases.client.js';
import { ArtifactsClient } from './clients/artifacts.client.js';
import { AuditClient } from './clients/audit.client.js';
import { DatasetsClient } from './clients/datasets.client.js';
import { DeploymentsClient } from './clients/deployments.client.js';
import { IamClient } from './clients/iam.client.js';
import { InferenceClient } from './clients/inference.client.js';
import { LineageClient } from './clients/lineage.client.js';
import { ModelsClient } from './clients/models.client.js';
import { NamespacesClient } from './clients/namespaces.client.js';
import { OperationsClient } from './clients/operations.client.js';
import { RunsClient } from './clients/runs.client.js';
import { VersionsClient } from './clients/versions.client.js';
import { QuiverError } from './errors.js';
import { grpcTarget } from './grpc-url.js';
import { Invoker } from './invoker.js';
import { type FetchLike, restTransport, type TokenSource } from './rest.js';
import type { Transport } from './transport.js';

/** The version of this SDK, sent in the default User-Agent. */
export const SDK_VERSION = '0.1.0';

export interface ClientOptions {
  /** Root URL of the server, e.g. `http://127.0.0.1:8080`. Required unless `transport` is given. */
  baseUrl?: string | undefined;
  /**
   * The gRPC address of the inference service (`host:port`, `grpc://…`, `grpcs://…` for TLS).
   * In Node.js, `inference.infer()` then goes over gRPC (the Open Inference Protocol); in
   * browsers it is ignored and inference uses the REST twin (`/v2/models/{name}/infer`).
   * Management calls always go over REST. Either way the same types and errors come back.
   */
  grpcUrl?: string | undefined;
  /** Bearer token, or a function returning the current one. */
  token?: TokenSource | undefined;
  /** A `fetch` to use instead of `globalThis.fetch` (tests, proxies, instrumentation). */
  fetch?: FetchLike | undefined;
  /** Deadline of each attempt in milliseconds. Default 30 000. */
  timeoutMs?: number | undefined;
  /** Retries of `UNAVAILABLE`/`ABORTED` failures after the first attempt. Default 3; 0 disables. */
  retries?: number | undefined;
  /** First retry delay in milliseconds, doubled per retry (with jitter), at most 5 s. Default 100. */
  retryDelayMs?: number | undefined;
  /** Default `quiver-sdk-js/<version>`. */
  userAgent?: string | undefined;
  /** Extra headers sent with every request. */
  headers?: Record<string, string> | undefined;
  /** Send upload bodies as streams; default: when the runtime can (see `RestTransportOptions`). */
  streamingUploads?: boolean | undefined;
  /** Replaces the REST transport (gRPC, gRPC-Web, or a test double); `baseUrl`, `token`, `fetch` are then unused. */
  transport?: Transport | undefined;
}

/**
 * One client for the whole API, grouped by resource with the vocabulary of the design:
 * the registry (`namespaces`, `models`, `versions`, `aliases`, `artifacts`) and serving
 * (`deployments`, `operations`, `inference`).
 */
export interface QuiverClient {
  readonly namespaces: NamespacesClient;
  readonly models: ModelsClient;
  readonly versions: VersionsClient;
  readonly aliases: AliasesClient;
  readonly artifacts: ArtifactsClient;
  readonly deployments: DeploymentsClient;
  readonly operations: OperationsClient;
  readonly inference: InferenceClient;
  /** The tamper-evident audit log: events, export, verification, checkpoints. */
  readonly audit: AuditClient;
  /**
   * Principals, API tokens, roles, role bindings and namespace policies (`iam.manage`), whoami,
   * and how to sign in.
   */
  readonly iam: IamClient;
  /** Lineage: datasets, runs, lineage graphs, version timelines, OpenLineage export. */
  readonly datasets: DatasetsClient;
  readonly runs: RunsClient;
  readonly lineage: LineageClient;
  /**
   * Closes the gRPC channel, if one was opened (REST needs no closing). Calls after it open
   * a new channel.
   *
   * @example
   * ```ts
   * try {
   *   await client.inference.infer(request);
   * } finally {
   *   client.close();
   * }
   * ```
   */
  close(): void;
}

/** Builds the gRPC inference transport; only the Node.js entry has one (see node.ts). */
export type GrpcTransportFactory = (options: {
  grpcUrl: string;
  token?: TokenSource | undefined;
  userAgent?: string | undefined;
  headers?: Record<string, string> | undefined;
}) => Transport & { close(): void };

/**
 * Creates a client. Every method throws {@link QuiverError} on failure; writes carry an
 * idempotency key, and unavailable servers are retried with exponential backoff.
 *
 * @example
 * ```ts
 * import { createClient } from '@quiver/sdk';
 *
 * const quiver = createClient({ baseUrl: 'http://127.0.0.1:8080', token: process.env.QUIVER_TOKEN });
 * await quiver.namespaces.create({ namespace_id: 'fraud' });
 * await quiver.models.create('fraud', { model_id: 'scorer', labels: { team: 'risk' } });
 * const { digest } = await quiver.artifacts.upload(modelBytes);
 * const v = await quiver.versions.create('fraud', 'scorer', { artifact: { digest } });
 * await quiver.aliases.set('fraud', 'scorer', 'champion', v.version);
 * const op = await quiver.deployments.create({
 *   deployment_id: 'fraud-prod',
 *   model: 'namespaces/fraud/models/scorer',
 *   version: '@champion',
 * });
 * await op.wait();
 * const { outputs } = await quiver.inference.infer({
 *   deployment: 'fraud-prod',
 *   inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [0.5, 1, 2, 3] }],
 * });
 * ```
 */
export function createClient(options: ClientOptions): QuiverClient {
  return buildClient(options, undefined);
}

/** @internal `createClient` with the gRPC transport when the runtime has one (Node.js). */
export function buildClient(options: ClientOptions, grpc: GrpcTransportFactory | undefined): QuiverClient {
  const base = options.transport ?? defaultTransport(options);
  if (options.grpcUrl !== undefined) grpcTarget(options.grpcUrl); // a bad address fails here, not at the first call
  const inference =
    grpc && options.grpcUrl && !options.transport
      ? grpc({
          grpcUrl: options.grpcUrl,
          token: options.token,
          userAgent: options.userAgent ?? `quiver-sdk-js/${SDK_VERSION}`,
          headers: options.headers,
        })
      : undefined;
  // One seam, two wires: ModelInfer over gRPC when there is a channel, everything else over REST.
  const transport: Transport = inference
    ? {
        call: (method, input, attempt) =>
          (method === 'ModelInfer' ? inference : base).call(method, input, attempt),
      }
    : base;
  const invoker = new Invoker(transport, {
    timeoutMs: positive(options.timeoutMs, 'timeoutMs') ?? 30_000,
    retry: {
      retries: nonNegative(options.retries, 'retries') ?? 3,
      baseDelayMs: nonNegative(options.retryDelayMs, 'retryDelayMs') ?? 100,
      maxDelayMs: 5_000,
    },
  });
  const operations = new OperationsClient(invoker);
  return {
    namespaces: new NamespacesClient(invoker),
    models: new ModelsClient(invoker),
    versions: new VersionsClient(invoker),
    aliases: new AliasesClient(invoker),
    artifacts: new ArtifactsClient(invoker),
    deployments: new DeploymentsClient(invoker, operations),
    operations,
    inference: new InferenceClient(invoker),
    audit: new AuditClient(invoker),
    iam: new IamClient(invoker),
    datasets: new DatasetsClient(invoker),
    runs: new RunsClient(invoker),
    lineage: new LineageClient(invoker),
    close: () => inference?.close(),
  };
}

function defaultTransport(options: ClientOptions): Transport {
  if (!options.baseUrl) {
    throw new QuiverError('INVALID_ARGUMENT', 'createClient needs a baseUrl (or a transport).', {
      details: { field: 'baseUrl' },
    });
  }
  if (!/^https?:\/\//i.test(options.baseUrl)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `baseUrl must start with http:// or https://; got ${JSON.stringify(options.baseUrl)}.`,
      { details: { field: 'baseUrl' } },
    );
  }
  return restTransport({
    baseUrl: options.baseUrl,
    token: options.token,
    fetch: options.fetch,
    streamingUploads: options.streamingUploads,
    userAgent: options.userAgent ?? `quiver-sdk-js/${SDK_VERSION}`,
    headers: options.headers,
  });
}

function positive(value: number | undefined, field: string): number | undefined {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
    throw new QuiverError('INVALID_ARGUMENT', `${field} must be a positive number.`, { details: { field } });
  }
  return value;
}

function nonNegative(value: number | undefined, field: string): number | undefined {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
    throw new QuiverError('INVALID_ARGUMENT', `${field} must be zero or more.`, { details: { field } });
  }
  return value;
}
