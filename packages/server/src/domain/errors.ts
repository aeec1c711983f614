/**
 * The one error vocabulary of Quiver. Codes are shared by REST and gRPC; each transport
 * maps them in a single exhaustive table. Reasons are the stable, documented causes
 * (see docs/errors.md; a test keeps both lists equal).
 */
export const CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'FAILED_PRECONDITION',
  'ABORTED',
  'PERMISSION_DENIED',
  'UNAUTHENTICATED',
  'RESOURCE_EXHAUSTED',
  'UNAVAILABLE',
  'INTERNAL',
] as const;
export type Code = (typeof CODES)[number];

/** Every reason an error may carry, with its code and a one-line meaning for the docs. */
export const REASONS = {
  INVALID_ARGUMENT: {
    code: 'INVALID_ARGUMENT',
    doc: 'A field or parameter has a wrong type, format or value.',
  },
  MALFORMED_BODY: { code: 'INVALID_ARGUMENT', doc: 'The request body is not valid JSON.' },
  UNSUPPORTED_MEDIA_TYPE: {
    code: 'INVALID_ARGUMENT',
    doc: 'The Content-Type of the request is not accepted by this method.',
  },
  INVALID_NAME: {
    code: 'INVALID_ARGUMENT',
    doc: 'A resource id or name does not match the allowed pattern.',
  },
  INVALID_FILTER: {
    code: 'INVALID_ARGUMENT',
    doc: 'The `filter` expression cannot be parsed or names an unknown field.',
  },
  INVALID_ORDER_BY: {
    code: 'INVALID_ARGUMENT',
    doc: 'The `order_by` expression names an unknown field or direction.',
  },
  INVALID_PAGE_TOKEN: {
    code: 'INVALID_ARGUMENT',
    doc: 'The `page_token` was not issued by this server, was altered, or belongs to another query.',
  },
  INVALID_METADATA: {
    code: 'INVALID_ARGUMENT',
    doc: 'Version metadata is not a JSON object, too large or too deep.',
  },
  IDEMPOTENCY_KEY_REUSED: {
    code: 'INVALID_ARGUMENT',
    doc: 'An Idempotency-Key was reused for a different request body or method.',
  },
  INVALID_MODEL: {
    code: 'INVALID_ARGUMENT',
    doc: 'An artifact declared or detected as a model (ONNX) cannot be parsed; the message quotes the parser.',
  },
  INVALID_TENSOR: {
    code: 'INVALID_ARGUMENT',
    doc: 'An inference input has a wrong name, datatype, shape or data length; the message names the tensor and what was expected.',
  },
  DIGEST_MISMATCH: {
    code: 'INVALID_ARGUMENT',
    doc: 'The uploaded bytes do not match the digest announced in Content-Digest or X-Quiver-Digest; nothing was stored.',
  },
  INCOMPLETE_UPLOAD: {
    code: 'INVALID_ARGUMENT',
    doc: 'The upload ended before Content-Length bytes arrived (or carried more); nothing was stored.',
  },
  RANGE_NOT_SATISFIABLE: {
    code: 'INVALID_ARGUMENT',
    doc: 'The Range header selects no byte of the artifact; Content-Range tells its size.',
  },
  NAMESPACE_NOT_FOUND: { code: 'NOT_FOUND', doc: 'The namespace does not exist.' },
  MODEL_NOT_FOUND: { code: 'NOT_FOUND', doc: 'The model does not exist in the namespace.' },
  VERSION_NOT_FOUND: { code: 'NOT_FOUND', doc: 'The model has no version with that number.' },
  ALIAS_NOT_FOUND: { code: 'NOT_FOUND', doc: 'The model has no alias with that name.' },
  ARTIFACT_NOT_FOUND: { code: 'NOT_FOUND', doc: 'No artifact is stored under that digest.' },
  DEPLOYMENT_NOT_FOUND: { code: 'NOT_FOUND', doc: 'No deployment has that name.' },
  DATASET_NOT_FOUND: { code: 'NOT_FOUND', doc: 'The dataset does not exist in the namespace.' },
  DATASET_VERSION_NOT_FOUND: { code: 'NOT_FOUND', doc: 'The dataset has no version with that number.' },
  RUN_NOT_FOUND: { code: 'NOT_FOUND', doc: 'The run does not exist in the namespace.' },
  OPERATION_NOT_FOUND: { code: 'NOT_FOUND', doc: 'No operation has that id.' },
  ROUTE_NOT_FOUND: { code: 'NOT_FOUND', doc: 'No API method answers this path and HTTP method.' },
  IDEMPOTENCY_KEY_TAKEN: {
    code: 'ALREADY_EXISTS',
    doc: 'A concurrent request with the same Idempotency-Key committed first; its result is returned instead.',
  },
  NAMESPACE_EXISTS: { code: 'ALREADY_EXISTS', doc: 'A namespace with that id already exists.' },
  MODEL_EXISTS: { code: 'ALREADY_EXISTS', doc: 'A model with that id already exists in the namespace.' },
  DATASET_EXISTS: { code: 'ALREADY_EXISTS', doc: 'A dataset with that id already exists in the namespace.' },
  DATASET_VERSION_EXISTS: {
    code: 'ALREADY_EXISTS',
    doc: 'The dataset already has a version with the same URI and digest; details name it.',
  },
  RUN_EXISTS: { code: 'ALREADY_EXISTS', doc: 'A run with that id already exists in the namespace.' },
  ILLEGAL_TRANSITION: {
    code: 'FAILED_PRECONDITION',
    doc: 'The version cannot move from its current status to the requested one; details list the allowed targets.',
  },
  ETAG_MISMATCH: {
    code: 'FAILED_PRECONDITION',
    doc: 'The `If-Match` ETag is stale: the resource changed since it was read.',
  },
  MODEL_HAS_VERSIONS: {
    code: 'FAILED_PRECONDITION',
    doc: 'The model still has versions that are not archived; archive them or delete with `force=true`.',
  },
  MODEL_HAS_DEPLOYMENTS: {
    code: 'FAILED_PRECONDITION',
    doc: 'Deployments still serve the model; delete them first (`DELETE /v1/deployments/{id}`), even with `force=true`.',
  },
  MODEL_HAS_DESCENDANTS: {
    code: 'FAILED_PRECONDITION',
    doc: 'Versions of other models record a version of this model as their parent; deleting it would erase their lineage.',
  },
  DEPLOYMENT_EXISTS: { code: 'ALREADY_EXISTS', doc: 'A deployment with that name already exists.' },
  DEPLOYMENT_DELETING: {
    code: 'FAILED_PRECONDITION',
    doc: 'The deployment is being deleted; it cannot change any more.',
  },
  NAMESPACE_NOT_EMPTY: { code: 'FAILED_PRECONDITION', doc: 'The namespace still contains models.' },
  AUDIT_LOG_EMPTY: {
    code: 'FAILED_PRECONDITION',
    doc: 'The audit log has no event yet, so there is no head to sign in a checkpoint.',
  },
  LINEAGE_FROZEN: {
    code: 'FAILED_PRECONDITION',
    doc: 'The version is approved (or later in its lifecycle): its lineage can no longer change.',
  },
  LINEAGE_CYCLE: {
    code: 'FAILED_PRECONDITION',
    doc: 'A derived-from edge would make a version its own ancestor; the message names the cycle.',
  },
  LINEAGE_CONFLICT: {
    code: 'FAILED_PRECONDITION',
    doc: 'The version already records a different produced-by run; lineage is additive.',
  },
  LINEAGE_TOO_LARGE: {
    code: 'INVALID_ARGUMENT',
    doc: 'The lineage of a version would exceed a per-version edge limit (see docs/lineage.md).',
  },
  CONCURRENT_UPDATE: {
    code: 'ABORTED',
    doc: 'A concurrent change won the race; retrying the request is safe.',
  },
  OVERLOADED: {
    code: 'UNAVAILABLE',
    doc: 'The process is at its limit of requests in progress (QUIVER_MAX_IN_FLIGHT) or its event loop runs later than QUIVER_MAX_EVENT_LOOP_DELAY_MS, and it sheds this one; retry after `Retry-After` seconds.',
  },
  MODEL_NOT_READY: {
    code: 'UNAVAILABLE',
    doc: 'The deployment exists but is not ready to serve (pending, loading, failed or deleting); retry or check its status.',
  },
  BODY_TOO_LARGE: {
    code: 'RESOURCE_EXHAUSTED',
    doc: 'The request body exceeds the size limit of the method.',
  },
  MODEL_TOO_LARGE: {
    code: 'RESOURCE_EXHAUSTED',
    doc: 'The model is larger than the whole runtime memory budget (QUIVER_RUNTIME_MEMORY_MB).',
  },
  TOO_MANY_ITEMS: {
    code: 'RESOURCE_EXHAUSTED',
    doc: 'A batch or list asks for more items than the allowed maximum.',
  },
  CREDENTIALS_MISSING: {
    code: 'UNAUTHENTICATED',
    doc: 'The request carries no `Authorization: Bearer …` header (gRPC: `authorization` metadata).',
  },
  TOKEN_INVALID: {
    code: 'UNAUTHENTICATED',
    doc: 'The bearer token is malformed, unknown, forged, or a JWT with a wrong signature, issuer, audience or algorithm.',
  },
  TOKEN_EXPIRED: { code: 'UNAUTHENTICATED', doc: 'The API token or JWT has expired.' },
  TOKEN_REVOKED: { code: 'UNAUTHENTICATED', doc: 'The API token was revoked.' },
  PRINCIPAL_DISABLED: { code: 'UNAUTHENTICATED', doc: 'The principal of the token is disabled.' },
  PERMISSION_DENIED: {
    code: 'PERMISSION_DENIED',
    doc: 'The caller lacks the permission on the resource; details name the permission and the scope.',
  },
  SEPARATION_OF_DUTIES: {
    code: 'PERMISSION_DENIED',
    doc: 'The namespace separates duties: the creator of a version may not approve it.',
  },
  APPROVAL_REQUIRED: {
    code: 'FAILED_PRECONDITION',
    doc: 'The namespace requires approval for deploy: only `approved` versions may be deployed.',
  },
  PRINCIPAL_NOT_FOUND: { code: 'NOT_FOUND', doc: 'No principal has that id.' },
  TOKEN_NOT_FOUND: { code: 'NOT_FOUND', doc: 'The principal has no API token with that id.' },
  ROLE_NOT_FOUND: { code: 'NOT_FOUND', doc: 'No built-in or custom role has that id.' },
  BINDING_NOT_FOUND: { code: 'NOT_FOUND', doc: 'No role binding has that id.' },
  PRINCIPAL_EXISTS: {
    code: 'ALREADY_EXISTS',
    doc: 'A principal with that id (or mapped to that OIDC subject) already exists.',
  },
  ROLE_EXISTS: {
    code: 'ALREADY_EXISTS',
    doc: 'A role with that id already exists (built-in ids are reserved).',
  },
  BINDING_EXISTS: {
    code: 'ALREADY_EXISTS',
    doc: 'The role is already bound to the member at that scope.',
  },
  ROLE_IN_USE: {
    code: 'FAILED_PRECONDITION',
    doc: 'The custom role is still bound; delete its bindings first.',
  },
  BUILT_IN_ROLE: { code: 'FAILED_PRECONDITION', doc: 'Built-in roles cannot be changed or deleted.' },
  RATE_LIMITED: {
    code: 'RESOURCE_EXHAUSTED',
    doc: 'The principal sent more requests than its rate limit allows; retry after `Retry-After` seconds.',
  },
  IDENTITY_PROVIDER_UNAVAILABLE: {
    code: 'UNAVAILABLE',
    doc: 'The OIDC issuer (its discovery document or key set) could not be reached to verify a JWT.',
  },
  DATABASE_UNAVAILABLE: {
    code: 'UNAVAILABLE',
    doc: 'The database did not answer or is busy; the request can be retried with backoff.',
  },
  INTERNAL: { code: 'INTERNAL', doc: 'An unexpected error; it is logged with the request id.' },
} as const satisfies Record<string, { code: Code; doc: string }>;
export type Reason = keyof typeof REASONS;

export type ErrorDetails = { reason: Reason } & Record<string, unknown>;

export class QuiverError extends Error {
  override readonly name = 'QuiverError';
  readonly code: Code;
  readonly details: ErrorDetails;

  constructor(
    reason: Reason,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = REASONS[reason].code;
    this.details = { reason, ...options.details };
  }

  get reason(): Reason {
    return this.details.reason;
  }

  /** Normalises anything thrown into a QuiverError; unknown errors become INTERNAL, keeping the cause for logs. */
  static from(err: unknown): QuiverError {
    if (err instanceof QuiverError) return err;
    return new QuiverError('INTERNAL', 'Internal error. The server logged it with the request id.', {
      cause: err,
    });
  }
}
