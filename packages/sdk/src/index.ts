/**
 * `@quiver/sdk`: the TypeScript client of Quiver. Start with {@link createClient}.
 *
 * This is the browser entry (the package's `browser` and `default` export conditions): it uses
 * only `fetch`, Web Streams, `AbortSignal` and `crypto`, and runs inference over the REST twin.
 * Node.js gets `node.ts`, which re-exports all of this and adds the gRPC inference transport.
 */

export { type ClientOptions, createClient, type QuiverClient, SDK_VERSION } from './client.js';
export { AliasesClient } from './clients/aliases.client.js';
export {
  ArtifactsClient,
  type DownloadOptions,
  type UploadOptions,
} from './clients/artifacts.client.js';
export { AuditClient, type VerifyOptions } from './clients/audit.client.js';
export { DatasetsClient } from './clients/datasets.client.js';
export { DeploymentsClient } from './clients/deployments.client.js';
export { IamClient } from './clients/iam.client.js';
export { InferenceClient } from './clients/inference.client.js';
export { LineageClient } from './clients/lineage.client.js';
export { type DeleteModelOptions, ModelsClient } from './clients/models.client.js';
export { NamespacesClient } from './clients/namespaces.client.js';
export {
  OperationHandle,
  OperationsClient,
  operationError,
  type WaitOptions,
  type WatchOptions,
} from './clients/operations.client.js';
export { RunsClient } from './clients/runs.client.js';
export { VersionsClient, versionName } from './clients/versions.client.js';
export { CLIENT_REASONS, CODES, type Code, isQuiverError, QuiverError } from './errors.js';
export type * from './iam.types.js';
export type { CallOptions } from './invoker.js';
export { collect, type Listing, listing, paginate } from './paging.js';
export {
  type FetchInit,
  type FetchLike,
  type ResponseLike,
  type RestTransportOptions,
  restTransport,
  type TokenSource,
} from './rest.js';
export {
  type AttemptOptions,
  type DatasetPath,
  type MethodInput,
  type MethodName,
  type MethodOutput,
  type Methods,
  type ModelPath,
  type RunPath,
  STREAMING_METHODS,
  type Transport,
  type VersionPath,
  WRITE_METHODS,
} from './transport.js';
export * from './types.js';
