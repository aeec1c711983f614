import type * as grpc from '@grpc/grpc-js';
import { QuiverError } from '../../domain/errors.js';
import { GLOBAL } from '../../domain/permissions.js';
import { type Actor, ANONYMOUS } from '../../domain/resources.js';
import type { Access } from '../../services/iam/access.js';
import { deploymentOf, type NamedRequest, RPC_ACCESS } from './permissions.js';

/**
 * The caller now, without I/O or a promise, when its token is cached and it holds the method's
 * permission everywhere (the common case of a service calling ModelInfer); else undefined, and
 * `admit` decides. Throws RATE_LIMITED as `admit` would.
 */
export function admitKnown(
  access: Access,
  method: string,
  call: { metadata: grpc.Metadata },
): Actor | undefined {
  const rule = RPC_ACCESS[method];
  if (rule === 'public') return ANONYMOUS;
  if (!rule) return undefined;
  const raw = call.metadata.get('authorization')[0];
  const actor = access.knownCaller(typeof raw === 'string' ? raw : undefined);
  if (actor === undefined) return undefined;
  return !actor.grants || actor.grants.allows(rule.permission, GLOBAL) ? actor : undefined;
}

/**
 * Before anything else: the caller (from the `authorization` metadata), its rate, and the
 * method's permission on the deployment the request names. Refusals are audited by `access`.
 */
export async function admit(
  access: Access,
  method: string,
  call: { metadata: grpc.Metadata; request: unknown },
  requestId: string,
): Promise<Actor> {
  const rule = RPC_ACCESS[method];
  if (rule === 'public') return ANONYMOUS;
  const request = (call.request ?? {}) as NamedRequest;
  const raw = call.metadata.get('authorization')[0];
  const deployment = deploymentOf(request);
  const gate = {
    action: method.slice(method.indexOf('/') + 1),
    resource: deployment === '' ? '' : `deployments/${deployment.slice(0, 200)}`,
    requestId,
    clientAddress: call.metadata.get('x-forwarded-for')[0]?.toString(),
  };
  const actor = await access.authenticate(typeof raw === 'string' ? raw : undefined, gate);
  if (!rule || !actor.grants || actor.grants.allows(rule.permission, GLOBAL)) {
    if (!rule) throw new QuiverError('INTERNAL', `No permission entry for ${method}.`);
    return actor;
  }
  const scope = await rule.scope(request, access.scopes);
  const ok = rule.within
    ? actor.grants.holdsWithin(rule.permission, scope)
    : actor.grants.allows(rule.permission, scope);
  if (!ok) throw await access.deny(actor, rule.permission, scope, gate);
  return actor;
}
