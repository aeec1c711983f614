import { QuiverError } from '../../domain/errors.js';
import { type Permission, type Scope, scopeName } from '../../domain/permissions.js';
import type { Actor } from '../../domain/resources.js';
import type { AuditSink } from '../../ports/audit.js';
import type { CallContext } from '../context.js';
import type { Authenticator } from './authenticator.js';
import type { RateLimiter } from './rate-limiter.js';
import type { ScopeResolver } from './scopes.js';

/** The call as the gate sees it: who is unknown until authenticated; what is the API method. */
export type GateCall = Omit<CallContext, 'actor' | 'idempotencyKey'> & { action: string; resource: string };

export interface AccessDeps {
  authenticator: Authenticator;
  limiter: RateLimiter;
  scopes: ScopeResolver;
  /** Rejections and denials are recorded here (each in its own transaction). */
  audit?: AuditSink | undefined;
  logger?: { warn(obj: object, msg: string): void } | undefined;
}

/**
 * The policy enforcement point both transports call before anything else: authenticate,
 * rate-limit, check the permission on the scope; every refusal is audited.
 */
export class Access {
  constructor(readonly deps: AccessDeps) {}

  get scopes(): ScopeResolver {
    return this.deps.scopes;
  }

  /** The caller, or UNAUTHENTICATED (audited); then RATE_LIMITED when over its rate. */
  async authenticate(authorization: string | undefined, call: GateCall): Promise<Actor> {
    let actor: Actor;
    try {
      actor = await this.deps.authenticator.authenticate(authorization, call);
    } catch (err) {
      if (err instanceof QuiverError && err.code === 'UNAUTHENTICATED') {
        await this.#audit('anonymous', call, undefined, { reason: err.reason, message: err.message });
      }
      throw err;
    }
    return this.#limit(actor);
  }

  /**
   * `authenticate` without I/O for a caller the authenticator's cache knows (the common case):
   * the actor, RATE_LIMITED thrown when over its rate, or undefined when only `authenticate` can
   * answer (an unknown, expired or malformed credential, which it then audits).
   */
  knownCaller(authorization: string | undefined): Actor | undefined {
    const actor = this.deps.authenticator.cached(authorization);
    return actor === undefined ? undefined : this.#limit(actor);
  }

  #limit(actor: Actor): Actor {
    const wait = this.deps.limiter.take(actor.principal);
    if (wait > 0) {
      throw new QuiverError(
        'RATE_LIMITED',
        `Principal '${actor.principal}' is over its rate limit; retry in ${wait} s.`,
        { details: { retry_after_seconds: wait } },
      );
    }
    return actor;
  }

  /** PERMISSION_DENIED (audited) unless the actor holds the permission on the scope. */
  async require(actor: Actor, permission: Permission, scope: Scope, call: GateCall): Promise<void> {
    if (!actor.grants || actor.grants.allows(permission, scope)) return;
    throw await this.deny(actor, permission, scope, call);
  }

  /** Like `require`, but a grant on anything inside the scope is enough (lists, which then filter). */
  async requireWithin(actor: Actor, permission: Permission, scope: Scope, call: GateCall): Promise<void> {
    if (!actor.grants || actor.grants.holdsWithin(permission, scope)) return;
    throw await this.deny(actor, permission, scope, call);
  }

  /** Records the denial and returns the error to throw. */
  async deny(actor: Actor, permission: Permission, scope: Scope, call: GateCall): Promise<QuiverError> {
    await this.#audit(actor.principal, call, permission, { scope: scopeName(scope) });
    return permissionDenied(permission, scope);
  }

  async #audit(
    principal: string,
    call: GateCall,
    permission: Permission | undefined,
    details: Record<string, unknown>,
  ): Promise<void> {
    // The refusal is answered even when its audit event cannot be written; the failure is logged.
    await this.deps.audit
      ?.record({
        principal,
        action: call.action,
        resource: call.resource,
        outcome: 'denied',
        permission,
        requestId: call.requestId,
        traceId: call.traceId,
        clientAddress: call.clientAddress,
        details,
      })
      .catch((err: unknown) => this.deps.logger?.warn({ err }, 'auditing a refused request failed'));
  }
}

export function permissionDenied(permission: Permission, scope: Scope): QuiverError {
  const on = scopeName(scope);
  return new QuiverError(
    'PERMISSION_DENIED',
    `Permission '${permission}' is required on ${on === 'global' ? 'the whole server (global scope)' : on}.`,
    { details: { permission, resource: on } },
  );
}
