import type { CallOptions, Invoker } from '../invoker.js';
import { type Listing, listing, paginate } from '../paging.js';
import type {
  AuditCheckpoint,
  AuditEvent,
  AuditEventsFilter,
  AuditProgress,
  AuditPublicKey,
  AuditVerification,
  ListAuditEventsRequest,
  PageRequest,
} from '../types.js';

/** Options of `audit.verify`. */
export interface VerifyOptions extends Omit<CallOptions, 'ifMatch' | 'idempotencyKey'> {
  /** Called as the server walks the chain: events checked so far, out of the head's seq. */
  onProgress?: AuditProgress | undefined;
}

/**
 * The tamper-evident audit log: who did what to which resource, when, with which outcome.
 * Each event is hash-chained to the one before; checkpoints sign the chain's head (Ed25519).
 */
export class AuditClient {
  /** @internal */
  constructor(private readonly invoker: Invoker) {}

  /**
   * Reads one page of audit events (oldest first unless `order_by: 'seq desc'`).
   *
   * @example
   * ```ts
   * const page = await client.audit.listEvents({ resource: 'namespaces/fraud/*', since: '2026-01-01T00:00:00Z' });
   * for (const e of page.items) console.log(e.seq, e.principal, e.action, e.resource);
   * ```
   */
  listEvents(request: ListAuditEventsRequest = {}, options?: CallOptions): Listing<AuditEvent> {
    return listing(
      (page_token) => this.invoker.call('ListAuditEvents', { ...request, page_token }, options),
      request.page_token,
    );
  }

  /**
   * Iterates over every matching event, fetching pages as needed.
   *
   * @example
   * ```ts
   * for await (const e of client.audit.iterateEvents({ principal: 'ci-bot' })) console.log(e.action);
   * ```
   */
  iterateEvents(request: ListAuditEventsRequest = {}, options?: CallOptions): AsyncGenerator<AuditEvent> {
    return paginate((page_token) => this.listEvents({ ...request, page_token }, options), request.page_token);
  }

  /**
   * Streams every matching event in seq order (the server's JSON Lines export), one read for
   * the whole log: the way to archive it or check it independently.
   *
   * @example
   * ```ts
   * for await (const e of await client.audit.exportEvents({ action: 'TransitionVersion' })) {
   *   archive.write(`${JSON.stringify(e)}\n`);
   * }
   * ```
   */
  exportEvents(
    filter: AuditEventsFilter = {},
    options?: Omit<CallOptions, 'ifMatch' | 'idempotencyKey'>,
  ): Promise<AsyncIterable<AuditEvent>> {
    return this.invoker.call('ExportAuditEvents', filter, options);
  }

  /**
   * Has the server walk the whole chain and check every checkpoint signature. Resolves with the
   * verdict: `valid`, or the first event that was modified, deleted, inserted or reordered.
   *
   * @example
   * ```ts
   * const verdict = await client.audit.verify({ onProgress: (n, total) => console.log(`${n}/${total}`) });
   * if (!verdict.valid) console.error(verdict.first_invalid?.message);
   * ```
   */
  verify(options: VerifyOptions = {}): Promise<AuditVerification> {
    const { onProgress, ...call } = options;
    return this.invoker.call('VerifyAuditLog', { onProgress }, call);
  }

  /**
   * The public key that signs checkpoints, and its id.
   *
   * @example
   * ```ts
   * const { key_id, public_key } = await client.audit.publicKey();
   * ```
   */
  publicKey(options?: CallOptions): Promise<AuditPublicKey> {
    return this.invoker.call('GetAuditPublicKey', {}, options);
  }

  /**
   * Reads one page of signed checkpoints (oldest first).
   *
   * @example
   * ```ts
   * const { items } = await client.audit.listCheckpoints({ page_size: 10 });
   * ```
   */
  listCheckpoints(request: PageRequest = {}, options?: CallOptions): Listing<AuditCheckpoint> {
    return listing(
      (page_token) => this.invoker.call('ListAuditCheckpoints', { ...request, page_token }, options),
      request.page_token,
    );
  }

  /**
   * Signs the chain's head now (the server also does so periodically).
   *
   * @example
   * ```ts
   * const cp = await client.audit.checkpoint();
   * console.log(`seq ${cp.seq} signed by ${cp.key_id}`);
   * ```
   */
  checkpoint(options?: CallOptions): Promise<AuditCheckpoint> {
    return this.invoker.call('CreateAuditCheckpoint', {}, options);
  }
}
