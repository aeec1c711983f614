import type {
  AuthConfig,
  CreatedToken,
  CreatePrincipalRequest,
  CreateRoleBindingRequest,
  CreateRoleRequest,
  CreateTokenRequest,
  ListRoleBindingsRequest,
  NamespacePolicy,
  Principal,
  Role,
  RoleBinding,
  Token,
  UpdateNamespacePolicyRequest,
  UpdatePrincipalRequest,
  UpdateRoleRequest,
  WhoAmI,
} from './iam.types.js';
import type {
  Alias,
  Artifact,
  ArtifactDownload,
  AuditCheckpoint,
  AuditEvent,
  AuditEventsFilter,
  AuditProgress,
  AuditPublicKey,
  AuditVerification,
  BatchGetDeploymentsResponse,
  BatchGetResponse,
  BatchGetStatusResponse,
  ByteRange,
  CreateDatasetRequest,
  CreateDatasetVersionRequest,
  CreateDeploymentRequest,
  CreateModelRequest,
  CreateNamespaceRequest,
  CreateRunRequest,
  CreateVersionRequest,
  Dataset,
  DatasetVersion,
  DeletedDeployment,
  Deployment,
  HistoryEntry,
  InferRequest,
  InferResponse,
  LineageGraph,
  LineageInput,
  LineageRequest,
  ListAuditEventsRequest,
  ListRequest,
  Model,
  Namespace,
  OpenLineageRunEvent,
  Operation,
  Page,
  PageRequest,
  Run,
  TimelineEntry,
  TransitionRequest,
  UpdateDeploymentRequest,
  UpdateRequest,
  UpdateRunRequest,
  UploadArtifactRequest,
  Version,
  VersionLineage,
  VersionRef,
} from './types.js';

/**
 * The transport seam. Every API method is named once here (the names the gRPC service
 * will use), with a request message that flattens path parameters and body fields the way
 * a protobuf request does. A transport (REST today, gRPC and gRPC-Web later) turns one
 * such call into one attempt on the wire; deadlines, retries and idempotency keys live
 * above it, in the client, so every transport gets them the same way.
 */
export interface Methods {
  CreateNamespace: { input: CreateNamespaceRequest; output: Namespace };
  GetNamespace: { input: { namespace: string }; output: Namespace };
  ListNamespaces: { input: ListRequest; output: Page<Namespace> };
  CreateModel: { input: { namespace: string } & CreateModelRequest; output: Model };
  GetModel: { input: ModelPath; output: Model };
  ListModels: { input: { namespace: string } & ListRequest; output: Page<Model> };
  UpdateModel: { input: ModelPath & UpdateRequest; output: Model };
  DeleteModel: { input: ModelPath & { force?: boolean | undefined }; output: undefined };
  CreateVersion: { input: ModelPath & CreateVersionRequest; output: Version };
  GetVersion: { input: VersionPath; output: Version };
  ListVersions: { input: ModelPath & ListRequest; output: Page<Version> };
  UpdateVersion: { input: VersionPath & UpdateRequest; output: Version };
  TransitionVersion: { input: VersionPath & TransitionRequest; output: Version };
  GetVersionHistory: { input: VersionPath & PageRequest; output: Page<HistoryEntry> };
  BatchGetVersions: { input: { names: readonly string[] }; output: BatchGetResponse };
  BatchGetVersionStatus: { input: { names: readonly string[] }; output: BatchGetStatusResponse };
  SetAlias: { input: ModelPath & { alias: string; version: VersionRef }; output: Alias };
  UnsetAlias: { input: ModelPath & { alias: string }; output: undefined };
  /** Streams the request body; resolves once the server stored and checked the bytes. */
  UploadArtifact: { input: UploadArtifactRequest; output: Artifact };
  GetArtifact: { input: { digest: string }; output: Artifact };
  /** Resolves when the answer starts; the bytes follow in `body`. */
  DownloadArtifact: { input: { digest: string; range?: ByteRange | undefined }; output: ArtifactDownload };
  CreateDeployment: { input: CreateDeploymentRequest; output: Operation<Deployment> };
  GetDeployment: { input: { deployment: string }; output: Deployment };
  ListDeployments: { input: PageRequest; output: Page<Deployment> };
  UpdateDeployment: {
    input: { deployment: string } & UpdateDeploymentRequest;
    output: Operation<Deployment>;
  };
  DeleteDeployment: { input: { deployment: string }; output: Operation<DeletedDeployment> };
  BatchGetDeployments: { input: { names: readonly string[] }; output: BatchGetDeploymentsResponse };
  GetOperation: { input: { operation: string }; output: Operation };
  /** Resolves when the stream starts; yields the operation now and on every change until it is done. */
  WatchOperation: { input: { operation: string }; output: AsyncIterable<Operation> };
  CreateDataset: { input: { namespace: string } & CreateDatasetRequest; output: Dataset };
  GetDataset: { input: DatasetPath; output: Dataset };
  ListDatasets: { input: { namespace: string } & ListRequest; output: Page<Dataset> };
  CreateDatasetVersion: { input: DatasetPath & CreateDatasetVersionRequest; output: DatasetVersion };
  GetDatasetVersion: { input: DatasetPath & { version: number }; output: DatasetVersion };
  ListDatasetVersions: { input: DatasetPath & PageRequest; output: Page<DatasetVersion> };
  GetDatasetLineage: { input: DatasetPath & { version: number } & LineageRequest; output: LineageGraph };
  CreateRun: { input: { namespace: string } & CreateRunRequest; output: Run };
  GetRun: { input: RunPath; output: Run };
  ListRuns: { input: { namespace: string } & ListRequest; output: Page<Run> };
  UpdateRun: { input: RunPath & UpdateRunRequest; output: Run };
  RecordLineage: { input: VersionPath & LineageInput; output: VersionLineage };
  GetLineage: { input: VersionPath & LineageRequest; output: LineageGraph };
  ExportOpenLineage: { input: VersionPath; output: { events: OpenLineageRunEvent[] } };
  GetVersionTimeline: { input: VersionPath & PageRequest; output: Page<TimelineEntry> };
  /** The Open Inference Protocol's ModelInfer (REST `/v2/models/{name}/infer` today, gRPC later). */
  ModelInfer: { input: InferRequest; output: InferResponse };
  ListAuditEvents: { input: ListAuditEventsRequest; output: Page<AuditEvent> };
  /** Resolves when the answer starts; yields every matching event in seq order (JSON Lines). */
  ExportAuditEvents: { input: AuditEventsFilter; output: AsyncIterable<AuditEvent> };
  /** Streams progress (Server-Sent Events) while the server walks the chain; resolves with the verdict. */
  VerifyAuditLog: { input: { onProgress?: AuditProgress | undefined }; output: AuditVerification };
  GetAuditPublicKey: { input: Record<string, never>; output: AuditPublicKey };
  ListAuditCheckpoints: { input: PageRequest; output: Page<AuditCheckpoint> };
  CreateAuditCheckpoint: { input: Record<string, never>; output: AuditCheckpoint };
  WhoAmI: { input: Record<string, never>; output: WhoAmI };
  /** Public: answered without a token. */
  GetAuthConfig: { input: Record<string, never>; output: AuthConfig };
  CreatePrincipal: { input: CreatePrincipalRequest; output: Principal };
  GetPrincipal: { input: { principal: string }; output: Principal };
  ListPrincipals: { input: PageRequest; output: Page<Principal> };
  UpdatePrincipal: { input: { principal: string } & UpdatePrincipalRequest; output: Principal };
  CreateToken: { input: { principal: string } & CreateTokenRequest; output: CreatedToken };
  ListTokens: { input: { principal: string } & PageRequest; output: Page<Token> };
  RevokeToken: { input: { principal: string; token: string }; output: Token };
  ListRoles: { input: Record<string, never>; output: Page<Role> };
  GetRole: { input: { role: string }; output: Role };
  CreateRole: { input: CreateRoleRequest; output: Role };
  UpdateRole: { input: { role: string } & UpdateRoleRequest; output: Role };
  DeleteRole: { input: { role: string }; output: undefined };
  CreateRoleBinding: { input: CreateRoleBindingRequest; output: RoleBinding };
  ListRoleBindings: { input: ListRoleBindingsRequest; output: Page<RoleBinding> };
  DeleteRoleBinding: { input: { binding: string }; output: undefined };
  GetNamespacePolicy: { input: { namespace: string }; output: NamespacePolicy };
  UpdateNamespacePolicy: {
    input: { namespace: string } & UpdateNamespacePolicyRequest;
    output: NamespacePolicy;
  };
}

export type MethodName = keyof Methods;
export type MethodInput<M extends MethodName> = Methods[M]['input'];
export type MethodOutput<M extends MethodName> = Methods[M]['output'];

export interface ModelPath {
  namespace: string;
  model: string;
}

export interface VersionPath extends ModelPath {
  version: VersionRef;
}

export interface DatasetPath {
  namespace: string;
  dataset: string;
}

export interface RunPath {
  namespace: string;
  run: string;
}

/**
 * Which methods change state. Writes carry an idempotency key so that the client may retry
 * them; reads are retried as they are.
 */
export const WRITE_METHODS: Readonly<Record<MethodName, boolean>> = {
  CreateNamespace: true,
  GetNamespace: false,
  ListNamespaces: false,
  CreateModel: true,
  GetModel: false,
  ListModels: false,
  UpdateModel: true,
  DeleteModel: true,
  CreateVersion: true,
  GetVersion: false,
  ListVersions: false,
  UpdateVersion: true,
  TransitionVersion: true,
  GetVersionHistory: false,
  BatchGetVersions: false,
  BatchGetVersionStatus: false,
  SetAlias: true,
  UnsetAlias: true,
  UploadArtifact: true,
  GetArtifact: false,
  DownloadArtifact: false,
  CreateDeployment: true,
  GetDeployment: false,
  ListDeployments: false,
  UpdateDeployment: true,
  DeleteDeployment: true,
  BatchGetDeployments: false,
  GetOperation: false,
  WatchOperation: false,
  CreateDataset: true,
  GetDataset: false,
  ListDatasets: false,
  CreateDatasetVersion: true,
  GetDatasetVersion: false,
  ListDatasetVersions: false,
  GetDatasetLineage: false,
  CreateRun: true,
  GetRun: false,
  ListRuns: false,
  UpdateRun: true,
  RecordLineage: true,
  GetLineage: false,
  ExportOpenLineage: false,
  GetVersionTimeline: false,
  ModelInfer: false,
  ListAuditEvents: false,
  ExportAuditEvents: false,
  VerifyAuditLog: false,
  GetAuditPublicKey: false,
  ListAuditCheckpoints: false,
  CreateAuditCheckpoint: true,
  WhoAmI: false,
  GetAuthConfig: false,
  CreatePrincipal: true,
  GetPrincipal: false,
  ListPrincipals: false,
  UpdatePrincipal: true,
  CreateToken: true,
  ListTokens: false,
  RevokeToken: true,
  ListRoles: false,
  GetRole: false,
  CreateRole: true,
  UpdateRole: true,
  DeleteRole: true,
  CreateRoleBinding: true,
  ListRoleBindings: false,
  DeleteRoleBinding: true,
  GetNamespacePolicy: false,
  UpdateNamespacePolicy: true,
};

/**
 * Methods whose request or answer is a stream (uploads, downloads, watches). They get no
 * default deadline, which would cut a long transfer; a `timeoutMs` given with the call bounds
 * the attempt until it resolves (the whole upload; for downloads and watches, until the answer
 * starts). The caller's `signal` cancels them at any time, the stream included.
 */
export const STREAMING_METHODS: Readonly<Partial<Record<MethodName, true>>> = {
  UploadArtifact: true,
  DownloadArtifact: true,
  WatchOperation: true,
  ExportAuditEvents: true,
  VerifyAuditLog: true,
};

/** What one attempt carries besides its request message. */
export interface AttemptOptions {
  /** Aborts the attempt (the caller's signal combined with the attempt's deadline). */
  signal: AbortSignal;
  /** Sent on writes; the same for every attempt of one logical call. */
  idempotencyKey?: string | undefined;
  /** An ETag the resource must still have (optimistic concurrency). */
  ifMatch?: string | undefined;
}

/**
 * Carries one attempt of one method call to a server.
 *
 * Contract: resolve with the decoded output, or reject with a `QuiverError` (network
 * failures as `UNAVAILABLE` with reason `NETWORK_ERROR`). When `options.signal` aborts,
 * reject with anything: the client reads the signal to tell a timeout from a cancellation.
 *
 * @example
 * ```ts
 * const rest = restTransport({ baseUrl: 'http://127.0.0.1:8080' });
 * const logging: Transport = {
 *   call(method, input, options) {
 *     console.log('→', method);
 *     return rest.call(method, input, options);
 *   },
 * };
 * const client = createClient({ transport: logging });
 * ```
 */
export interface Transport {
  call<M extends MethodName>(
    method: M,
    input: MethodInput<M>,
    options: AttemptOptions,
  ): Promise<MethodOutput<M>>;
}
