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
    const guard = guards[0]!;
    route.config = { ...route.config, guard };
    // Only routes whose body names scopes check it once validated: the others pay no hook for it.
    if (guard.kind === 'permission' && guard.access.body) {
      const given = route.preHandler;
      const checkBody = bodyCheck(access, guard, traceOf);
      route.preHandler = given === undefined ? checkBody : [...[given].flat(), checkBody];
    }
  });

  // A callback hook: a caller the authenticator's cache knows, with a grant on everything or a
  // route that only needs a caller, is admitted without a promise; everything else (a first
  // call, a token to read or verify, a scope to resolve, a refusal to audit) takes `gate`.
  app.addHook('onRequest', (req, reply, done) => {
    const guard = req.routeOptions.config.guard;
    if (guard === undefined || guard.kind === 'public') return done();
    let actor: Actor | undefined;
    try {
      actor = access.knownCaller(req.headers.authorization);
    } catch (err) {
      answerHeaders(reply, err);
      return done(err as Error);
    }
    if (actor !== undefined) {
      (req as Authenticated)[ACTOR] = actor;
      if (
        guard.kind === 'authenticated' ||
        !actor.grants ||
        actor.grants.allows(guard.access.permission, GLOBAL)
      ) {
        return done();
      }
    }
    gate(req, reply, guard, actor).then(() => done(), done);
  });

  async function gate(req: FastifyRequest, reply: FastifyReply, guard: RouteClass, known: Actor | undefined) {
    const call = gateCall(req, guard, traceOf);
    const actor =
      known ?? (await withHeaders(reply, () => access.authenticate(req.headers.authorization, call)));
    (req as Authenticated)[ACTOR] = actor;
    if (guard.kind !== 'permission') return;
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
  }
}

/** The permission check of the scopes a route's body names (the models of a batch's version names, say). */
function bodyCheck(
  access: Access,
  guard: RouteClass & { kind: 'permission' },
  traceOf: (req: FastifyRequest) => string | undefined,
) {
  const body = guard.access.body!;
  return async (req: FastifyRequest): Promise<void> => {
    const actor = actorOf(req);
    if (!actor?.grants || actor.grants.allows(body.permission, GLOBAL)) return;
    const scopes = await body.scopes(req.body, req.params as RouteParams, access.scopes);
    const call = gateCall(req, guard, traceOf);
    for (const scope of scopes) await access.require(actor, body.permission, scope, call);
  };
}

/** UNAUTHENTICATED answers carry `WWW-Authenticate`; RATE_LIMITED ones `Retry-After`. */
async function withHeaders<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    answerHeaders(reply, err);
    throw err;
  }
}

function answerHeaders(reply: FastifyReply, err: unknown): void {
  if (err instanceof QuiverError && err.code === 'UNAUTHENTICATED') {
    reply.header('www-authenticate', `Bearer realm="quiver", error="invalid_token"`);
  }
  if (err instanceof QuiverError && err.reason === 'RATE_LIMITED') {
    reply.header('retry-after', String(err.details.retry_after_seconds));
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
