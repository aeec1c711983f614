import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { QuiverError } from '../../domain/errors.js';
import { GLOBAL, type Scope } from '../../domain/permissions.js';
import type { Actor } from '../../domain/resources.js';
import type { Access, GateCall } from '../../services/iam/access.js';
import { classify, type RouteAccess, type RouteClass, type RouteParams } from './permissions.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How the route is guarded (set at registration from transports/rest/permissions.ts). */
    guard?: RouteClass;
  }
}

const ACTOR = Symbol('actor');
type Authenticated = { [ACTOR]?: Actor };

/** The authenticated caller of a request (undefined on public routes). */
export function actorOf(req: FastifyRequest): Actor | undefined {
  return (req as Authenticated)[ACTOR];
}

/**
 * Guards every route: each must be in the permission table (or listed as public), or the app
 * refuses to start. Per request, before anything else: authenticate, rate-limit, check the
 * permission on the scope the path names; once the body is validated, the scopes it names.
 */
export function guardRoutes(
  app: FastifyInstance,
  access: Access,
  traceOf: (req: FastifyRequest) => string | undefined,
): void {
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const guards = methods.map((m) => classify(m, route.url));
    const missing = methods.filter((_, i) => guards[i] === undefined);
    if (missing.length > 0) {
      throw new Error(
        `${missing.join('/')} ${route.url} has no entry in transports/rest/permissions.ts: every route must name its permission (or be listed as public).`,
      );
    }
    route.config = { ...route.config, guard: guards[0]! };
  });

  app.addHook('onRequest', async (req, reply) => {
    const guard = req.routeOptions.config.guard;
    if (guard === undefined || guard.kind === 'public') return;
    const call = gateCall(req, guard, traceOf);
    const actor = await withHeaders(reply, () => access.authenticate(req.headers.authorization, call));
    (req as Authenticated)[ACTOR] = actor;
    if (guard.kind === 'authenticated') return;
    const rule = guard.access;
    // The common case costs one Set lookup: a grant on everything needs no scope at all.
    if (!actor.grants || actor.grants.allows(rule.permission, GLOBAL)) return;
    const found = await rule.scope(req.params as RouteParams, access.scopes);
    const scopes: readonly Scope[] = Array.isArray(found) ? found : [found as Scope];
    const grants = actor.grants;
    const ok = scopes.some((s) =>
      rule.within ? grants.holdsWithin(rule.permission, s) : grants.allows(rule.permission, s),
    );
    if (!ok) throw await access.deny(actor, rule.permission, scopes[scopes.length - 1]!, call);
  });

  app.addHook('preHandler', async (req) => {
    const guard = req.routeOptions.config.guard;
    if (guard?.kind !== 'permission' || !guard.access.body) return;
    const actor = actorOf(req);
    if (!actor?.grants) return;
    const checks = await guard.access.body(req.body, req.params as RouteParams, access.scopes);
    const call = gateCall(req, guard, traceOf);
    for (const { permission, scope } of checks) await access.require(actor, permission, scope, call);
  });
}

/** UNAUTHENTICATED answers carry `WWW-Authenticate`; RATE_LIMITED ones `Retry-After`. */
async function withHeaders<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof QuiverError && err.code === 'UNAUTHENTICATED') {
      reply.header('www-authenticate', `Bearer realm="quiver", error="invalid_token"`);
    }
    if (err instanceof QuiverError && err.reason === 'RATE_LIMITED') {
      reply.header('retry-after', String(err.details.retry_after_seconds));
    }
    throw err;
  }
}

function gateCall(
  req: FastifyRequest,
  guard: RouteClass,
  traceOf: (req: FastifyRequest) => string | undefined,
): GateCall {
  const access: RouteAccess | undefined = guard.kind === 'permission' ? guard.access : undefined;
  return {
    action: access?.action ?? `${req.method} ${req.routeOptions.url}`,
    // The path names the resource (`namespaces/a/models/b`); bounded, since it is the caller's text.
    resource: req.url
      .split('?')[0]!
      .replace(/^\/v[12]\/?/, '')
      .slice(0, 300),
    requestId: req.id,
    traceId: traceOf(req),
    clientAddress: req.ip,
  };
}
