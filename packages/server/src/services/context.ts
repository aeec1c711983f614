import type { Actor } from '../domain/resources.js';

/** What a transport knows about the caller and the call, handed to every service method. */
export interface CallContext {
  actor: Actor;
  requestId: string;
  /** The W3C trace id of the request's span, when tracing is on (the audit log records it). */
  traceId?: string | undefined;
  /** The permission the transport checked for this call (recorded with audit events). */
  permission?: string | undefined;
  /** The caller's network address as the transport saw it (the audit log records it). */
  clientAddress?: string | undefined;
  /** A client-chosen key that makes a write safe to retry (`Idempotency-Key`). */
  idempotencyKey?: string | undefined;
}

export interface ListRequest {
  page_size?: number | undefined;
  page_token?: string | undefined;
  filter?: string | undefined;
  order_by?: string | undefined;
}
