import { randomBytes } from 'node:crypto';
import { QuiverError } from '../../domain/errors.js';
import { assertId } from '../../domain/names.js';
import { type PageTokenCodec, pageSize } from '../../domain/page-token.js';
import { BUILT_IN_ROLES, isPermission, type Permission } from '../../domain/permissions.js';
import { PRINCIPAL_KINDS, type PrincipalKind } from '../../domain/resources.js';
import type { Clock } from '../../ports/clock.js';
import type { PrincipalRecord, RoleRecord } from '../../ports/iam.repositories.js';
import type { Repositories } from '../../ports/repositories.js';
import type { UnitOfWork } from '../../ports/unit-of-work.js';
import type { CallContext } from '../context.js';
import type { Mutations } from '../mutations.js';

export interface IamServiceDeps {
  store: UnitOfWork;
  mutations: Mutations;
  clock: Clock;
  tokens: PageTokenCodec;
  /** Called after every committed IAM change: the authentication cache forgets what it knew. */
  changed: () => void;
}

/** Ten years: the longest a token may live. */
export const MAX_TTL_SECONDS = 10 * 365 * 86_400;

/** Short random ids of tokens and bindings (they match the id pattern). */
export const shortId = () => randomBytes(8).toString('hex');

/** An IAM change: through Mutations (idempotency, audit), then the authentication cache is dropped. */
export async function change<T>(
  deps: IamServiceDeps,
  ctx: CallContext,
  action: string,
  resource: string,
  request: unknown,
  work: (r: Repositories) => Promise<T>,
): Promise<T> {
  const result = await deps.mutations.run(ctx, { action, resource, request }, work);
  deps.changed();
  return result;
}

/** Keyset pages by id, with signed page tokens bound to the query. */
export async function pageById<R, T>(
  tokens: PageTokenCodec,
  query: string,
  request: { page_size?: number | undefined; page_token?: string | undefined },
  fetch: (after: string | null, limit: number) => Promise<R[]>,
  idOf: (r: R) => string,
  map: (r: R) => T,
) {
  const limit = pageSize(request.page_size);
  const after = request.page_token ? String(tokens.decode(query, request.page_token)[0]) : null;
  const rows = await fetch(after, limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(map),
    next_page_token: rows.length > limit && last ? tokens.encode(query, [idOf(last)]) : '',
  };
}

export async function requirePrincipal(repos: Repositories, id: string): Promise<PrincipalRecord> {
  assertId('principal', id);
  const found = await repos.principals.get(id);
  if (!found)
    throw new QuiverError('PRINCIPAL_NOT_FOUND', `No principal '${id}'.`, {
      details: { resource: `principals/${id}` },
    });
  return found;
}

export async function requireRole(repos: Repositories, id: string): Promise<RoleRecord> {
  const found = await repos.roles.get(id);
  if (!found)
    throw new QuiverError(
      'ROLE_NOT_FOUND',
      `No role '${id}'; built-in roles are ${Object.keys(BUILT_IN_ROLES).join(', ')}.`,
      { details: { resource: `roles/${id}` } },
    );
  return found;
}

export function tokenNotFound(principal: string, id: string): QuiverError {
  return new QuiverError('TOKEN_NOT_FOUND', `Principal '${principal}' has no token '${id}'.`, {
    details: { resource: `principals/${principal}/tokens/${id}` },
  });
}

export function builtIn(id: string): QuiverError {
  return new QuiverError('BUILT_IN_ROLE', `'${id}' is a built-in role; create a custom role instead.`, {
    details: { resource: `roles/${id}` },
  });
}

export function checkKind(kind: string): PrincipalKind {
  if ((PRINCIPAL_KINDS as readonly string[]).includes(kind)) return kind as PrincipalKind;
  throw new QuiverError('INVALID_ARGUMENT', `kind must be one of ${PRINCIPAL_KINDS.join(', ')}.`, {
    details: { field: 'kind' },
  });
}

export function checkPermissions(value: unknown): Permission[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new QuiverError('INVALID_ARGUMENT', 'permissions must be a non-empty array of permission names.', {
      details: { field: 'permissions' },
    });
  const bad = value.filter((p) => !isPermission(p));
  if (bad.length > 0)
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `Unknown permission(s): ${bad
        .slice(0, 5)
        .map((p) => JSON.stringify(p))
        .join(', ')}. See docs/security.md.`,
      { details: { field: 'permissions' } },
    );
  return [...new Set(value as Permission[])];
}

/** `principals/{id}` or `groups/{name}` (group names come from the identity provider, so they are looser). */
export function checkMember(value: unknown): string {
  if (typeof value === 'string') {
    if (value.startsWith('principals/')) {
      assertId('principal', value.slice('principals/'.length), 'member');
      return value;
    }
    if (/^groups\/[\w.@:+/-]{1,256}$/.test(value)) return value;
  }
  throw new QuiverError(
    'INVALID_ARGUMENT',
    "member must be 'principals/{principal_id}' or 'groups/{group}'.",
    { details: { field: 'member' } },
  );
}
