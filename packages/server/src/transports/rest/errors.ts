import type { FastifyError } from 'fastify';
import { type Code, QuiverError, type Reason } from '../../domain/errors.js';

/** The one Code → HTTP status table (Google's API mapping). Exhaustive: a new code fails the build until it is mapped here. */
export function httpStatus(code: Code): number {
  switch (code) {
    case 'INVALID_ARGUMENT':
      return 400;
    case 'UNAUTHENTICATED':
      return 401;
    case 'PERMISSION_DENIED':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'ALREADY_EXISTS':
    case 'ABORTED':
      return 409;
    case 'FAILED_PRECONDITION':
      return 400;
    case 'RESOURCE_EXHAUSTED':
      return 429;
    case 'INTERNAL':
      return 500;
    case 'UNAVAILABLE':
      return 503;
  }
}

export interface Envelope {
  error: {
    code: Code;
    message: string;
    details: Record<string, unknown>;
    request_id: string;
    /** The W3C trace id of the request, when it was traced: from an error to its trace. */
    trace_id?: string;
  };
}

export function envelope(err: QuiverError, requestId: string, traceId?: string): Envelope {
  return {
    error: {
      code: err.code,
      message: err.message,
      details: err.details,
      request_id: requestId,
      ...(traceId ? { trace_id: traceId } : {}),
    },
  };
}

/** Fastify's own errors (parsing, validation, limits) in Quiver's vocabulary. */
export function fromFastify(err: FastifyError): QuiverError {
  if (err.validation && err.validation.length > 0) {
    const first = err.validation[0]!;
    const part = err.validationContext ?? 'body';
    const params = first.params as Record<string, unknown>;
    const path = first.instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.');
    const extra = (params.missingProperty ?? params.additionalProperty) as string | undefined;
    const field = [path, extra].filter(Boolean).join('.') || part;
    const what =
      first.keyword === 'additionalProperties'
        ? `unknown field '${extra}'`
        : first.keyword === 'required'
          ? `missing required field '${extra}'`
          : `${field} ${first.message ?? 'is invalid'}`;
    return new QuiverError('INVALID_ARGUMENT', `Invalid ${part}: ${what}.`, {
      details: { field, location: part },
    });
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new QuiverError('BODY_TOO_LARGE', 'The request body is larger than this method accepts.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new QuiverError('MALFORMED_BODY', `The request body is not valid JSON: ${err.message}`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new QuiverError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
  }
  if (err instanceof SyntaxError || err.statusCode === 400) {
    return new QuiverError('MALFORMED_BODY', `The request could not be read: ${err.message}`);
  }
  if (err.statusCode === 413) return new QuiverError('BODY_TOO_LARGE', 'The request body is too large.');
  return QuiverError.from(err);
}

/** Reasons whose HTTP status is more exact than their code's: HTTP has a word for them. */
const REASON_STATUS: Partial<Record<Reason, number>> = {
  BODY_TOO_LARGE: 413,
  TOO_MANY_ITEMS: 413,
  ETAG_MISMATCH: 412,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
};

export function statusOf(err: QuiverError): number {
  return REASON_STATUS[err.reason] ?? httpStatus(err.code);
}
