import {
  type AuditCheckpoint,
  type AuditEvent,
  type AuditEventBody,
  type ChainVerification,
  checkpointPayload,
  checkpointSignatureValid,
  verifyChain,
} from '../domain/audit-chain.js';
import { QuiverError } from '../domain/errors.js';
import { type PageTokenCodec, pageSize } from '../domain/page-token.js';
import { type Page, rfc3339 } from '../domain/resources.js';
import type { AuditEntry, AuditSigner, AuditSink } from '../ports/audit.js';
import type { Clock } from '../ports/clock.js';
import type { Repositories } from '../ports/repositories.js';
import type { UnitOfWork } from '../ports/unit-of-work.js';
import { type AuditQuery, parseAuditQuery } from './audit-query.js';
import type { CallContext } from './context.js';
import { type Mutation, type MutationObserver, type Mutations, requestDigest } from './mutations.js';

export interface AuditServiceDeps {
  store: UnitOfWork;
  clock: Clock;
  tokens: PageTokenCodec;
  signer: AuditSigner;
  /** On-demand checkpoints are changes like any other: audited, idempotent. */
  mutations: Mutations;
  /** 0 disables periodic checkpoints. */
  checkpointIntervalMs: number;
  onError?: (err: unknown) => void;
  /** Events per read when verifying or exporting. */
  batchSize?: number;
}

export interface AuditKeyInfo {
  key_id: string;
  algorithm: 'Ed25519';
  /** SPKI PEM. */
  public_key: string;
}

/** Verification result plus the head it walked to and the keys whose checkpoints it trusted. */
export type AuditVerification = ChainVerification & { head_seq: number; key_ids: string[] };

/**
 * The tamper-evident audit log. Every mutation appends its event inside the mutation's own
 * transaction (the MutationObserver side); denials and sensitive reads are recorded in a
 * transaction of their own (the AuditSink side). Checkpoints sign the chain's head.
 */
export class AuditService implements MutationObserver, AuditSink {
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<unknown> | undefined;
  readonly #batch: number;

  constructor(private readonly deps: AuditServiceDeps) {
    this.#batch = deps.batchSize ?? 2_000;
  }

  /** Registers the signing key's public half, so that verification can check its checkpoints later. */
  async init(): Promise<void> {
    const { signer, clock } = this.deps;
    await this.deps.store.write((repos) =>
      repos.audit.registerKey({
        key_id: signer.keyId,
        public_key: signer.publicKeyPem,
        create_time: rfc3339(clock.now()),
      }),
    );
  }

  async inTransaction(
    repos: Repositories,
    ctx: CallContext,
    mutation: Mutation,
    result: unknown,
  ): Promise<void> {
    const name = nameOf(result);
    // A create names its parent as the mutation's resource; the event names what was created.
    const created = name?.startsWith(`${mutation.resource}/`) ? name : undefined;
    await this.#append(repos, {
      principal: ctx.actor.principal,
      action: mutation.action,
      resource: created ?? mutation.resource,
      outcome: 'success',
      permission: ctx.permission,
      requestId: ctx.requestId,
      traceId: ctx.traceId,
      clientAddress: ctx.clientAddress,
      changeDigest: requestDigest(mutation.request),
      details: name && !created && name !== mutation.resource ? { result: name } : undefined,
    });
  }

  async record(entry: AuditEntry): Promise<void> {
    await this.deps.store.write((repos) => this.#append(repos, entry));
  }

  /** A sensitive read by the caller (an artifact download, an audit read), recorded on its own. */
  recordRead(ctx: CallContext, action: string, resource: string, permission?: string): Promise<void> {
    return this.record({
      principal: ctx.actor.principal,
      action,
      resource,
      outcome: 'success',
      permission,
      requestId: ctx.requestId,
      traceId: ctx.traceId,
      clientAddress: ctx.clientAddress,
    });
  }

  async list(ctx: CallContext, request: AuditQuery): Promise<Page<AuditEvent>> {
    const { filter, desc } = parseAuditQuery(request);
    const limit = pageSize(request.page_size);
    const fingerprint = JSON.stringify(['audit', filter, desc]);
    const after = request.page_token ? this.deps.tokens.decode(fingerprint, request.page_token) : null;
    const seq = after?.[0];
    const rows = await this.deps.store.read((repos) =>
      repos.audit.list(filter, typeof seq === 'number' ? seq : null, desc, limit + 1),
    );
    await this.recordRead(ctx, 'ReadAudit', 'audit/events', 'audit.read');
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items,
      next_page_token: rows.length > limit && last ? this.deps.tokens.encode(fingerprint, [last.seq]) : '',
    };
  }

  /**
   * Every matching event in seq order, read in batches (never the whole log in memory). The
   * filters are checked and the read recorded before the first event is yielded.
   */
  async exportEvents(ctx: CallContext, request: AuditQuery): Promise<AsyncIterable<AuditEvent>> {
    const { filter } = parseAuditQuery(request);
    await this.recordRead(ctx, 'ReadAudit', 'audit/events', 'audit.read');
    return this.#batches((repos, after) => repos.audit.list(filter, after, false, this.#batch));
  }

  /** Reads rows in seq order, a batch per read (no transaction held open between batches). */
  async *#batches<T extends { seq: number }>(
    read: (repos: Repositories, after: number) => Promise<T[]>,
  ): AsyncGenerator<T> {
    let after = 0;
    for (;;) {
      const from = after;
      const rows: T[] = await this.deps.store.read((repos) => read(repos, from));
      yield* rows;
      if (rows.length < this.#batch) return;
      after = rows.at(-1)!.seq;
    }
  }

  /**
   * Walks the whole chain up to its current head, in batches, and checks every checkpoint's
   * signature against the key that made it. Events appended meanwhile are left for next time.
   */
  async verify(
    ctx: CallContext,
    onProgress?: (checked: number, total: number) => void,
  ): Promise<AuditVerification> {
    const { store } = this.deps;
    // The last checkpoint before the head: an honest checkpoint never signs beyond the head, so
    // one that does (the tail was cut and the head moved back) is still read and caught.
    const [last, head, keys] = await store.read(
      async (repos) =>
        [await repos.audit.lastCheckpoint(), await repos.audit.head(), await repos.audit.keys()] as const,
    );
    const signedUpTo = Math.max(head.seq, last?.seq ?? 0);
    const trusted = new Map(keys.map((k) => [k.key_id, k.public_key]));
    const used = new Set<string>();
    const events = this.#batches((repos, after) => repos.audit.scan(after, head.seq, this.#batch));
    const checkpoints = this.#batches((repos, after) =>
      repos.audit.checkpoints(after, signedUpTo, this.#batch),
    );
    const result = await verifyChain(events, checkpoints, {
      head,
      signatureValid: (cp) => {
        used.add(cp.key_id);
        const pem = trusted.get(cp.key_id);
        return pem !== undefined && checkpointSignatureValid(cp, pem);
      },
      progressEvery: this.#batch,
      ...(onProgress ? { onProgress: (checked: number) => onProgress(checked, head.seq) } : {}),
    });
    // Recorded after the walk, so that the verdict is about the log as it was when asked.
    await this.recordRead(ctx, 'ReadAudit', 'audit', 'audit.read');
    return { ...result, head_seq: head.seq, key_ids: [...used].sort() };
  }

  /** Signs the head now (POST /v1/audit:checkpoint); answers the last checkpoint when the head has not moved. */
  async checkpoint(ctx: CallContext): Promise<{ checkpoint: AuditCheckpoint; created: boolean }> {
    return this.deps.mutations.run(
      ctx,
      { action: 'CreateAuditCheckpoint', resource: 'audit', request: {} },
      async (repos) => {
        const made = await this.#checkpoint(repos);
        if (!made) {
          throw new QuiverError(
            'AUDIT_LOG_EMPTY',
            'The audit log has no event yet; there is nothing to sign.',
          );
        }
        return made;
      },
    );
  }

  async checkpoints(
    _ctx: CallContext,
    request: { page_size?: number | undefined; page_token?: string | undefined },
  ): Promise<Page<AuditCheckpoint>> {
    const limit = pageSize(request.page_size);
    const after = request.page_token
      ? this.deps.tokens.decode('audit-checkpoints', request.page_token)
      : null;
    const from = typeof after?.[0] === 'number' ? after[0] : 0;
    const rows = await this.deps.store.read((repos) =>
      repos.audit.checkpoints(from, Number.MAX_SAFE_INTEGER, limit + 1),
    );
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items,
      next_page_token:
        rows.length > limit && last ? this.deps.tokens.encode('audit-checkpoints', [last.seq]) : '',
    };
  }

  publicKey(): AuditKeyInfo {
    return {
      key_id: this.deps.signer.keyId,
      algorithm: 'Ed25519',
      public_key: this.deps.signer.publicKeyPem,
    };
  }

  /** Starts periodic checkpoints (when enabled). */
  start(): void {
    const every = this.deps.checkpointIntervalMs;
    if (every <= 0 || this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#ticking) return;
      this.#ticking = this.deps.store
        .write((repos) => this.#checkpoint(repos))
        .catch((err: unknown) => this.deps.onError?.(err))
        .finally(() => {
          this.#ticking = undefined;
        });
    }, every);
    this.#timer.unref();
  }

  /** Stops periodic checkpoints and waits for one in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#ticking;
  }

  /** A checkpoint of the head, unless the last one already signs it; undefined while the log is empty. */
  async #checkpoint(
    repos: Repositories,
  ): Promise<{ checkpoint: AuditCheckpoint; created: boolean } | undefined> {
    // The head lock makes concurrent checkpointers (several instances) sign each head once.
    const head = await repos.audit.lockHead();
    const last = await repos.audit.lastCheckpoint();
    if (last && last.seq === head.seq) return { checkpoint: last, created: false };
    if (head.seq === 0) return undefined;
    const { signer, clock } = this.deps;
    const unsigned = { seq: head.seq, hash: head.hash, time: rfc3339(clock.now()), key_id: signer.keyId };
    const checkpoint = { ...unsigned, signature: signer.sign(checkpointPayload(unsigned)) };
    await repos.audit.insertCheckpoint(checkpoint);
    return { checkpoint, created: true };
  }

  async #append(repos: Repositories, entry: AuditEntry): Promise<void> {
    // The time of the change; along the chain it may step back by the time two concurrent
    // transactions took to commit (PostgreSQL seals at commit; SQLite writes one at a time).
    const body: Omit<AuditEventBody, 'seq' | 'prev_hash'> = {
      time: rfc3339(this.deps.clock.now()),
      principal: clean(entry.principal),
      action: clean(entry.action),
      resource: clean(entry.resource),
      outcome: entry.outcome,
      permission: optional(entry.permission),
      request_id: clean(entry.requestId),
      trace_id: optional(entry.traceId),
      client_address: optional(entry.clientAddress),
      change_digest: optional(entry.changeDigest),
      // Through JSON once: what is hashed is exactly what reads back (no undefined, Dates as text).
      details:
        entry.details === undefined
          ? null
          : (JSON.parse(JSON.stringify(entry.details)) as Record<string, unknown>),
    };
    await repos.audit.append(body);
  }
}

function nameOf(result: unknown): string | undefined {
  if (typeof result !== 'object' || result === null || !('name' in result)) return undefined;
  const name = (result as { name: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

/**
 * Text as both databases store it: PostgreSQL refuses NUL and drivers replace lone surrogates,
 * either of which would change a hashed field between writing and reading.
 */
function clean(text: string): string {
  return text.replaceAll('\0', '\ufffd').replace(LONE_SURROGATE, '\ufffd');
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function optional(text: string | undefined): string | null {
  return text === undefined || text === '' ? null : clean(text);
}
