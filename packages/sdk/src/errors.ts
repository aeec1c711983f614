/**
 * The codes of Quiver's one error vocabulary, shared by REST and gRPC, plus `CANCELLED`,
 * which only the client produces (the caller aborted the call).
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
  'CANCELLED',
] as const;
/**
 * A known code, or (from a newer server) one this SDK does not know yet: the string is kept
 * as sent rather than lost.
 */
export type Code = (typeof CODES)[number] | (string & {});

/** Reasons the client itself produces, in `details.reason`, when no server answered. */
export const CLIENT_REASONS = {
  /** The request never got an HTTP answer (DNS, refused connection, reset, TLS, CORS). */
  NETWORK_ERROR: 'NETWORK_ERROR',
  /** An attempt took longer than `timeoutMs`, or the caller's `AbortSignal.timeout` fired. */
  DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED',
  /** The caller's `AbortSignal` aborted the call. */
  CANCELLED: 'CANCELLED',
  /** A 2xx answer whose body is not the expected JSON. */
  MALFORMED_RESPONSE: 'MALFORMED_RESPONSE',
} as const;

/**
 * The one error the SDK throws: for every non-2xx answer (parsed from the server's envelope
 * `{ "error": { code, message, details, request_id } }`), and for network failures and
 * timeouts (`UNAVAILABLE`) and aborts (`CANCELLED`).
 *
 * @example
 * ```ts
 * try {
 *   await client.models.get('fraud', 'scorer');
 * } catch (err) {
 *   if (err instanceof QuiverError && err.code === 'NOT_FOUND') console.log(err.reason);
 *   else throw err;
 * }
 * ```
 */
export class QuiverError extends Error {
  override readonly name = 'QuiverError';
  /** One of {@link CODES}, e.g. `NOT_FOUND`. */
  readonly code: Code;
  /** Always holds `reason` (e.g. `MODEL_NOT_FOUND`); often `field` for invalid input. */
  readonly details: Readonly<{ reason: string } & Record<string, unknown>>;
  /** The server's request id (also in its logs), when a server answered. */
  readonly requestId: string | undefined;
  /** The HTTP status, when a server answered over HTTP. */
  readonly httpStatus: number | undefined;

  constructor(
    code: Code,
    message: string,
    options: {
      details?: Record<string, unknown>;
      requestId?: string | undefined;
      httpStatus?: number | undefined;
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    const reason = typeof options.details?.reason === 'string' ? options.details.reason : code;
    this.details = { ...options.details, reason };
    this.requestId = options.requestId;
    this.httpStatus = options.httpStatus;
  }

  /** The stable cause, e.g. `MODEL_NOT_FOUND` or `ETAG_MISMATCH` (see docs/errors.md). */
  get reason(): string {
    return this.details.reason;
  }

  /** The request field at fault (`details.field`), when the server named one. */
  get field(): string | undefined {
    return typeof this.details.field === 'string' ? this.details.field : undefined;
  }
}

/**
 * Narrows an unknown error to {@link QuiverError}, optionally of one code.
 *
 * @example
 * ```ts
 * if (isQuiverError(err, 'ALREADY_EXISTS')) return client.namespaces.get('fraud');
 * ```
 */
export function isQuiverError(err: unknown, code?: Code): err is QuiverError {
  return err instanceof QuiverError && (code === undefined || err.code === code);
}

/** The code an HTTP status stands for when the body is not Quiver's envelope (a proxy answered). */
export function codeForStatus(status: number): Code {
  switch (status) {
    case 400:
      return 'INVALID_ARGUMENT';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'ALREADY_EXISTS';
    case 412:
      return 'FAILED_PRECONDITION';
    case 413:
    case 429:
      return 'RESOURCE_EXHAUSTED';
    case 499:
      return 'CANCELLED';
    case 408:
    case 502:
    case 503:
    case 504:
      return 'UNAVAILABLE';
    default:
      return status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT';
  }
}

/** Builds the error of a non-2xx answer from its body text (the envelope, or anything a proxy sent). */
export function errorFromResponse(
  status: number,
  bodyText: string,
  headerRequestId: string | null,
): QuiverError {
  const requestId = headerRequestId ?? undefined;
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  const fromEnvelope = envelopeError(body, requestId, status);
  if (fromEnvelope) return fromEnvelope;
  const snippet = bodyText.trim().slice(0, 200);
  return new QuiverError(codeForStatus(status), `HTTP ${status}${snippet ? `: ${snippet}` : ''}`, {
    requestId,
    httpStatus: status,
  });
}

/**
 * The error of an error envelope that arrived inside a stream (an `error` event of a watch),
 * or of a failed operation (`{ code, message, details }`), as a {@link QuiverError}.
 */
export function errorFromEnvelope(value: unknown, requestId?: string): QuiverError {
  const inner = (value as { error?: unknown } | null | undefined)?.error;
  const found = envelopeError(inner === undefined ? { error: value } : value, requestId, undefined);
  return (
    found ??
    new QuiverError('INTERNAL', `Unexpected error payload: ${JSON.stringify(value)?.slice(0, 200)}`, {
      details: { reason: CLIENT_REASONS.MALFORMED_RESPONSE },
      requestId,
    })
  );
}

function envelopeError(
  body: unknown,
  requestId: string | undefined,
  status: number | undefined,
): QuiverError | undefined {
  const error = (body as Partial<ErrorBody> | undefined)?.error;
  if (!error || typeof error.code !== 'string' || typeof error.message !== 'string') return undefined;
  return new QuiverError(error.code, error.message, {
    details: typeof error.details === 'object' && error.details !== null ? error.details : {},
    requestId: typeof error.request_id === 'string' ? error.request_id : requestId,
    httpStatus: status,
  });
}

interface ErrorBody {
  error: { code: unknown; message: unknown; details: Record<string, unknown> | null; request_id: unknown };
}
