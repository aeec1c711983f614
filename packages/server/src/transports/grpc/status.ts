import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { type Code, QuiverError } from '../../domain/errors.js';

/** The one Code → gRPC status table. Exhaustive: a new code fails the build until it is mapped here. */
export function grpcStatus(code: Code): status {
  switch (code) {
    case 'INVALID_ARGUMENT':
      return status.INVALID_ARGUMENT;
    case 'NOT_FOUND':
      return status.NOT_FOUND;
    case 'ALREADY_EXISTS':
      return status.ALREADY_EXISTS;
    case 'FAILED_PRECONDITION':
      return status.FAILED_PRECONDITION;
    case 'ABORTED':
      return status.ABORTED;
    case 'PERMISSION_DENIED':
      return status.PERMISSION_DENIED;
    case 'UNAUTHENTICATED':
      return status.UNAUTHENTICATED;
    case 'RESOURCE_EXHAUSTED':
      return status.RESOURCE_EXHAUSTED;
    case 'UNAVAILABLE':
      return status.UNAVAILABLE;
    case 'INTERNAL':
      return status.INTERNAL;
  }
}

const MAX_DETAILS = 1_000;
/** grpc-js refuses metadata over 8 KiB in all; base64 makes these bytes a third larger. */
const MAX_DETAILS_BYTES = 2_048;

export type ErrorLogger = Pick<Logger, 'error' | 'warn'>;

/**
 * Anything thrown by a handler as a gRPC error: the status from the table, the message as
 * `details`, and the Quiver code, reason and request id as trailing metadata (`quiver-code`,
 * `quiver-reason`, `quiver-request-id`) so that clients can branch on the reason as REST clients do.
 * Unknown errors become INTERNAL with a generic message; their cause only reaches the log.
 */
export function toGrpcError(err: unknown, requestId: string, logger?: ErrorLogger): ServiceError {
  const error = QuiverError.from(err);
  if (error.code === 'INTERNAL') {
    logger?.error({ err: error.cause ?? err, request_id: requestId }, 'internal error');
  } else if (error.code === 'UNAVAILABLE') {
    logger?.warn({ err: error.cause ?? err, request_id: requestId }, error.message);
  }
  // The message travels in the grpc-message header: keep it within HTTP/2 header limits even when
  // it quotes a client-chosen name.
  const message =
    error.message.length > MAX_DETAILS ? `${error.message.slice(0, MAX_DETAILS)}…` : error.message;
  const metadata = new Metadata();
  metadata.set('quiver-code', error.code);
  metadata.set('quiver-reason', error.reason);
  metadata.set('quiver-request-id', requestId);
  // The whole details object (field, tensor, allowed moves…), so gRPC clients see what REST ones do;
  // binary (`-bin`) because it may quote non-ASCII names, and left out when too big for a header.
  const details = Buffer.from(JSON.stringify(error.details));
  if (details.byteLength <= MAX_DETAILS_BYTES) metadata.set('quiver-details-bin', details);
  const retryAfter = error.details.retry_after_seconds;
  if (typeof retryAfter === 'number') metadata.set('retry-after', String(retryAfter));
  return Object.assign(new Error(message), {
    code: grpcStatus(error.code),
    details: message,
    metadata,
  });
}
