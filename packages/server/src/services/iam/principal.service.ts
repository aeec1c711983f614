import { QuiverError } from '../../domain/errors.js';
import { assertId } from '../../domain/names.js';
import { checkText, LIMITS } from '../../domain/validation.js';
import type { PrincipalRecord, TokenRecord } from '../../ports/iam.repositories.js';
import type { CallContext } from '../context.js';
import {
  change,
  checkKind,
  type IamServiceDeps,
  MAX_TTL_SECONDS,
  pageById,
  requirePrincipal,
  shortId,
  tokenNotFound,
} from './iam.checks.js';
import { type Principal, type Token, toPrincipal, toToken } from './iam.resources.js';
import { hashToken, newTokenSecret, tokenPrefix } from './secrets.js';

/** Principals (users and service accounts) and their API tokens. */
export class PrincipalService {
  constructor(private readonly deps: IamServiceDeps) {}

  createPrincipal(
    ctx: CallContext,
    input: {
      principal_id: string;
      kind?: string | undefined;
      display_name?: string | undefined;
      external_subject?: string | undefined;
    },
  ): Promise<Principal> {
    const id = assertId('principal', input.principal_id);
    const kind = checkKind(input.kind ?? 'user');
    const time = this.deps.clock.now();
    const record: PrincipalRecord = {
      id,
      kind,
      display_name: checkText(input.display_name ?? id, 'display_name', 200),
      disabled: false,
      external_subject:
        input.external_subject === undefined
          ? null
          : checkText(input.external_subject, 'external_subject', 512) || null,
      create_time: time,
      update_time: time,
    };
    return change(this.deps, ctx, 'CreatePrincipal', `principals/${id}`, record, async (repos) => {
      await repos.principals.create(record);
      return toPrincipal(record);
    });
  }

  async getPrincipal(_ctx: CallContext, id: string): Promise<Principal> {
    return toPrincipal(await this.deps.store.read((repos) => requirePrincipal(repos, id)));
  }

  listPrincipals(
    _ctx: CallContext,
    request: { page_size?: number | undefined; page_token?: string | undefined },
  ) {
    return pageById(
      this.deps.tokens,
      'principals',
      request,
      (after, limit) => this.deps.store.read((r) => r.principals.list(after, limit)),
      (p) => p.id,
      toPrincipal,
    );
  }

  updatePrincipal(
    ctx: CallContext,
    id: string,
    patch: {
      display_name?: string | undefined;
      disabled?: boolean | undefined;
      external_subject?: string | null | undefined;
    },
  ): Promise<Principal> {
    const clean: { display_name?: string; disabled?: boolean; external_subject?: string | null } = {};
    if (patch.display_name !== undefined)
      clean.display_name = checkText(patch.display_name, 'display_name', 200);
    if (patch.disabled !== undefined) clean.disabled = patch.disabled;
    if (patch.external_subject !== undefined)
      clean.external_subject =
        patch.external_subject === null
          ? null
          : checkText(patch.external_subject, 'external_subject', 512) || null;
    return change(this.deps, ctx, 'UpdatePrincipal', `principals/${id}`, { id, clean }, async (repos) => {
      await requirePrincipal(repos, id);
      await repos.principals.update(id, clean, this.deps.clock.now());
      return toPrincipal((await repos.principals.get(id))!);
    });
  }

  /** Creates an API token; the answer carries the secret, the only time it is ever shown. */
  createToken(
    ctx: CallContext,
    principal: string,
    input: { description?: string | undefined; ttl_seconds?: number | undefined },
  ): Promise<Token & { secret: string }> {
    const description = checkText(input.description, 'description', LIMITS.description);
    const ttl = input.ttl_seconds;
    if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0 && ttl <= MAX_TTL_SECONDS)) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `ttl_seconds must be a whole number from 1 to ${MAX_TTL_SECONDS}.`,
        { details: { field: 'ttl_seconds' } },
      );
    }
    const secret = newTokenSecret();
    const time = this.deps.clock.now();
    const record: TokenRecord = {
      id: shortId(),
      principal_id: principal,
      prefix: tokenPrefix(secret),
      description,
      create_time: time,
      expire_time: ttl === undefined ? null : time + ttl * 1000,
      revoke_time: null,
      last_used_time: null,
    };
    // The audit digest sees the token's metadata, never the secret; and no Idempotency-Key is
    // honoured here, since a replay would need the secret stored in clear with the answer.
    return change(
      this.deps,
      { ...ctx, idempotencyKey: undefined },
      'CreateToken',
      `principals/${principal}/tokens/${record.id}`,
      { principal, description, ttl },
      async (repos) => {
        await requirePrincipal(repos, principal);
        await repos.tokens.create({ ...record, hash: hashToken(secret) });
        return { ...toToken(record, time), secret };
      },
    );
  }

  listTokens(
    _ctx: CallContext,
    principal: string,
    request: { page_size?: number | undefined; page_token?: string | undefined },
  ) {
    const now = this.deps.clock.now();
    return pageById(
      this.deps.tokens,
      `tokens ${principal}`,
      request,
      (after, limit) =>
        this.deps.store.read(async (r) => {
          await requirePrincipal(r, principal);
          return r.tokens.list(principal, after, limit);
        }),
      (t) => t.id,
      (t) => toToken(t, now),
    );
  }

  revokeToken(ctx: CallContext, principal: string, tokenId: string): Promise<Token> {
    return change(
      this.deps,
      ctx,
      'RevokeToken',
      `principals/${principal}/tokens/${tokenId}`,
      { principal, tokenId },
      async (repos) => {
        const token = await repos.tokens.get(tokenId);
        if (!token || token.principal_id !== principal) throw tokenNotFound(principal, tokenId);
        const time = this.deps.clock.now();
        await repos.tokens.revoke(tokenId, time);
        return toToken((await repos.tokens.get(tokenId))!, time);
      },
    );
  }
}
