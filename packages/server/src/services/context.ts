import type { Actor } from '../domain/resources.js';

/** What a transport knows about the caller and the call, handed to every service method. */
export interface CallContext {
  actor: Actor;
  requestId: string;
  /** A client-chosen key that makes a write safe to retry (`Idempotency-Key`). */
  idempotencyKey?: string | undefined;
}

export interface ListRequest {
  page_size?: number | undefined;
  page_token?: string | undefined;
  filter?: string | undefined;
  order_by?: string | undefined;
}
