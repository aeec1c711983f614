import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { type Context, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { QuiverError } from '../../domain/errors.js';
import { ANONYMOUS } from '../../domain/resources.js';
import type { AliasService } from '../../services/alias.service.js';
import type { ArtifactService } from '../../services/artifact.service.js';
import type { AuditService } from '../../services/audit.service.js';
import type { CallContext } from '../../services/context.js';
import type { DatasetService } from '../../services/dataset.service.js';
import type { DeploymentService } from '../../services/deployment.service.js';
import type { Access } from '../../services/iam/access.js';
import type { PrincipalService } from '../../services/iam/principal.service.js';
import type { RoleService } from '../../services/iam/role.service.js';
import type { Inference } from '../../services/inference/types.js';
import type { LineageService } from '../../services/lineage.service.js';
import type { ModelService } from '../../services/model.service.js';
import { checkIdempotencyKey } from '../../services/mutations.js';
import type { NamespaceService } from '../../services/namespace.service.js';
import type { OperationService } from '../../services/operation.service.js';
import type { RunService } from '../../services/run.service.js';
import type { VersionService } from '../../services/version.service.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { activeTraceId, type Tracing } from '../../telemetry/tracing.js';
import type { Admission } from '../admission.js';
import { actorOf, guardRoutes } from './access.hook.js';
import { envelope, fromFastify, statusOf } from './errors.js';
import { LINEAGE_SCHEMAS } from './lineage.schemas.js';
import { artifactRoutes } from './routes/artifacts.routes.js';
import { auditRoutes } from './routes/audit.routes.js';
import { authRoutes, type ConsoleOidc } from './routes/auth.routes.js';
import { datasetRoutes } from './routes/datasets.routes.js';
import { deploymentRoutes } from './routes/deployments.routes.js';
import { type HealthCheck, healthRoutes } from './routes/health.routes.js';
import { homeRoutes } from './routes/home.routes.js';
import { iamRoutes } from './routes/iam.routes.js';
import { lineageRoutes } from './routes/lineage.routes.js';
import { modelRoutes } from './routes/models.routes.js';
import { namespaceRoutes } from './routes/namespaces.routes.js';
import { oipRoutes } from './routes/oip.routes.js';
import { runRoutes } from './routes/runs.routes.js';
import { versionRoutes } from './routes/versions.routes.js';
import { SHARED_SCHEMAS } from './schemas.js';
import { SERVING_SCHEMAS } from './serving.schemas.js';

export interface Services {
  namespaces: NamespaceService;
  models: ModelService;
  versions: VersionService;
  aliases: AliasService;
  artifacts: ArtifactService;
  deployments: DeploymentService;
  operations: OperationService;
  datasets: DatasetService;
  runs: RunService;
  lineage: LineageService;
  audit: AuditService;
  inference: Inference;
  principals: PrincipalService;
  roles: RoleService;
}

export interface RestOptions {
  services: Services;
  /** Authentication, rate limits and permission checks of every route (see permissions.ts). */
  access: Access;
  readiness: HealthCheck[];
  /** Which route groups this process serves (its role): management under /v1, inference under /v2. */
  serve: { api: boolean; inference: boolean };
  logger: FastifyBaseLogger | false;
  bodyLimitBytes: number;
  version: string;
  /** Shown on the home page, without secrets. */
  database: string;
  /** When given: HTTP metrics are recorded and served at GET /metrics. */
  metrics?: Metrics;
  /** Load shedding: requests past the process's limit get UNAVAILABLE with Retry-After. */
  admission?: Admission;
  /** When enabled: a server span per request, continuing an incoming `traceparent`. */
  tracing?: Tracing;
  /** When set: the console offers OIDC sign-in with this issuer and client (`GET /v1/auth/config`). */
  consoleOidc?: ConsoleOidc | undefined;
}

const SPAN = Symbol('span');
const SPAN_CONTEXT = Symbol('spanContext');
type Traced = { [SPAN]?: Span; [SPAN_CONTEXT]?: Context };

/** The context of the request's server span (the active one when the request is not traced). */
export function requestContext(req: FastifyRequest): Context {
  return (req as Traced)[SPAN_CONTEXT] ?? context.active();
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const UNSHED = new Set(['/livez', '/readyz', '/metrics']);

/** The path of a request URL, without its query string. */
const pathOf = (url: string) => {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
};

/**
 * Starts the request's server span, continuing a caller's `traceparent`, and answers the trace
 * context in the response. At 0% sampling a request without a caller's traceparent can only make
 * an unsampled trace: it makes none at all (no span, no ids, no traceparent answered), which keeps
 * the cost flat.
 */
function startServerSpan(tracing: Tracing, req: FastifyRequest, reply: FastifyReply): void {
  if (!tracing.samplesRoots && req.headers.traceparent === undefined) return;
  const route = req.is404 ? undefined : req.routeOptions.url;
  const parent = tracing.extract(req.headers);
  const span = tracing.tracer.startSpan(
    route ? `${req.method} ${route}` : req.method,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': req.method,
        ...(route ? { 'http.route': route } : {}),
        'url.path': pathOf(req.url),
        'quiver.request_id': req.id,
      },
    },
    parent,
  );
  const ctx = trace.setSpan(parent, span);
  (req as Traced)[SPAN] = span;
  (req as Traced)[SPAN_CONTEXT] = ctx;
  const { traceparent } = tracing.inject(ctx);
  if (traceparent) reply.header('traceparent', traceparent);
}

/** Builds the REST app without listening: main.ts listens, tests inject. */
export async function buildRestApp(options: RestOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger === false ? {} : { loggerInstance: options.logger }),
    // Per-request access logs cost throughput; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    // Keep-alive connections that carry no request would otherwise hold close() open until clients drop them.
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 300 },
  });

  // Bodies are validated strictly (no type coercion, unknown fields rejected); query strings and
  // paths are text, so numbers and booleans there are coerced.
  const strict = addFormats.default(
    new Ajv.default({
      coerceTypes: false,
      removeAdditional: false,
      useDefaults: true,
      strict: false,
      allErrors: false,
    }),
  );
  const lenient = addFormats.default(
    new Ajv.default({ coerceTypes: 'array', removeAdditional: false, useDefaults: true, strict: false }),
  );
  for (const schema of [...SHARED_SCHEMAS, ...SERVING_SCHEMAS, ...LINEAGE_SCHEMAS]) {
    strict.addSchema(schema);
    lenient.addSchema(schema);
  }
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : lenient).compile(schema),
  );
  for (const schema of [...SHARED_SCHEMAS, ...SERVING_SCHEMAS, ...LINEAGE_SCHEMAS]) app.addSchema(schema);

  // The bookkeeping of every request is one onRequest and one onResponse hook, each a callback, not
  // an async function: no promise per request, and one hook call instead of one per concern.
  const { admission, metrics } = options;
  const tracing = options.tracing?.enabled ? options.tracing : undefined;
  const ADMITTED = Symbol('admitted');
  type Admitted = { [ADMITTED]?: boolean };
  const leave = (req: FastifyRequest) => {
    if (!(req as Admitted)[ADMITTED]) return;
    (req as Admitted)[ADMITTED] = false;
    admission?.leave();
  };
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    // Probes and scrapes are answered even at capacity: they are how operators see it.
    if (admission && !UNSHED.has(pathOf(req.url))) {
      const refused = admission.enter();
      if (refused) return done(refused);
      (req as Admitted)[ADMITTED] = true;
      // The slot is given back when the answer is sent (onResponse) or, if the client leaves
      // first, when its connection closes: an answer written to a closed socket never finishes,
      // so onResponse never runs, and neither does onRequestAbort for a request fully received.
      reply.raw.once('close', () => leave(req));
    }
    if (tracing) startServerSpan(tracing, req, reply);
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    leave(req);
    const span = (req as Traced)[SPAN];
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    if (metrics) {
      // Route templates only (bounded labels); anything the router did not match is one series.
      const route = req.is404 ? 'unmatched' : (req.routeOptions.url ?? 'unmatched');
      metrics.httpRequest(req.method, route, reply.statusCode, reply.elapsedTime / 1000);
    }
    done();
  });
  if (tracing) {
    // Handlers (and the services they call) run in the server span's context, so their spans nest.
    // Unsampled requests skip it: entering a context turns on AsyncLocalStorage's hooks for the
    // whole process (Node 20), the main cost of tracing at low sampling; with no recording span
    // active, the spans below a request are not made at all (see withSpan).
    app.addHook('onRoute', (route) => {
      const handler = route.handler;
      route.handler = function traced(this: unknown, req, reply) {
        if (!(req as Traced)[SPAN]?.isRecording()) return handler.call(this as never, req, reply);
        return context.with(requestContext(req), () => handler.call(this as never, req, reply));
      };
    });
  }
  if (options.logger && levelEnabled(options.logger, 'debug')) {
    // One line per request at debug level; the hook is not even installed above it (throughput).
    app.addHook('onResponse', async (req, reply) => {
      const span = (req as Traced)[SPAN]?.spanContext();
      req.log.debug(
        {
          request_id: req.id,
          ...(span ? { trace_id: span.traceId, span_id: span.spanId } : {}),
          principal: actorOf(req)?.principal,
          method: req.method,
          route: req.is404 ? undefined : req.routeOptions.url,
          status_code: reply.statusCode,
          duration_ms: Math.round(reply.elapsedTime * 1000) / 1000,
        },
        'request completed',
      );
    });
  }
  app.setErrorHandler((err: FastifyError | QuiverError, req, reply) => {
    const error = err instanceof QuiverError ? err : fromFastify(err);
    const span = (req as Traced)[SPAN];
    // 4xx are the caller's: the code is recorded, the span's status is an error only for 5xx (onResponse).
    span?.setAttribute('error.type', error.code);
    const traceId = span ? activeTraceId(requestContext(req)) : undefined;
    const ids = { request_id: req.id, ...(traceId ? { trace_id: traceId } : {}) };
    if (error.code === 'INTERNAL') req.log.error({ err: error.cause ?? err, ...ids }, 'internal error');
    else if (error.code === 'UNAVAILABLE') req.log.warn({ err: error.cause ?? err, ...ids }, error.message);
    const retryAfter = error.details.retry_after_seconds;
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    return reply.status(statusOf(error)).send(envelope(error, req.id, traceId));
  });
  app.setNotFoundHandler((req, reply) => {
    const error = new QuiverError(
      'ROUTE_NOT_FOUND',
      `No method ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}. See /docs for the API.`,
    );
    return reply.status(404).send(envelope(error, req.id));
  });

  // Before any route is registered: each one is checked against the permission table as it is added.
  guardRoutes(app, options.access, (req) => activeTraceId(requestContext(req)) || undefined);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Quiver API',
        version: options.version,
        description:
          'Model registry and serving. Management over REST (`/v1`); errors share codes with gRPC.',
      },
      tags: [
        { name: 'namespaces' },
        { name: 'models' },
        { name: 'versions' },
        { name: 'aliases' },
        { name: 'artifacts' },
        { name: 'deployments' },
        { name: 'operations' },
        { name: 'datasets', description: 'Datasets and their versions (URI + digest), lineage inputs.' },
        { name: 'runs', description: 'Training and evaluation runs.' },
        {
          name: 'lineage',
          description: 'Lineage of versions (graphs, recording, OpenLineage export) and their timeline.',
        },
        {
          name: 'audit',
          description: 'The tamper-evident audit log: events, export, verification, checkpoints.',
        },
        {
          name: 'inference',
          description: 'Open Inference Protocol (KServe v2) REST binding; gRPC on QUIVER_GRPC_PORT.',
        },
        { name: 'iam', description: 'Principals, API tokens, roles, role bindings, namespace policies.' },
        { name: 'health' },
      ],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API token (`qvr_…`) or, when OIDC is configured, a JWT of the issuer.',
          },
        },
      },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (metrics) {
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
      reply.type(metrics.contentType).send(await metrics.metrics()),
    );
  }

  await app.register(
    homeRoutes({
      version: options.version,
      database: options.database,
      // The console reads the issuer's discovery document and redeems the code at its token endpoint.
      connectTo: options.consoleOidc ? [new URL(options.consoleOidc.issuer).origin] : [],
    }),
  );
  await app.register(healthRoutes(options.readiness));
  const { services } = options;
  if (options.serve.api) {
    await app.register(namespaceRoutes(services), { prefix: '/v1' });
    await app.register(modelRoutes(services), { prefix: '/v1' });
    await app.register(versionRoutes(services), { prefix: '/v1' });
    await app.register(artifactRoutes(services.artifacts), { prefix: '/v1' });
    await app.register(deploymentRoutes(services.deployments, services.operations), { prefix: '/v1' });
    await app.register(datasetRoutes(services.datasets), { prefix: '/v1' });
    await app.register(runRoutes(services.runs), { prefix: '/v1' });
    await app.register(lineageRoutes(services.lineage), { prefix: '/v1' });
    await app.register(auditRoutes(services.audit), { prefix: '/v1' });
    await app.register(iamRoutes(services, options.access.deps.authenticator.enabled), { prefix: '/v1' });
    await app.register(authRoutes(options.consoleOidc), { prefix: '/v1' });
  }
  if (options.serve.inference) await app.register(oipRoutes(services.inference));
  await app.ready();
  return app as unknown as FastifyInstance;
}

/** The caller and call as services see them (the actor is the one the access hook authenticated). */
export function callContext(req: FastifyRequest): CallContext {
  return {
    actor: actorOf(req) ?? ANONYMOUS,
    requestId: req.id,
    traceId: activeTraceId(requestContext(req)) || undefined,
    clientAddress: req.ip,
    // The permission the route's rule checked: what the audit log records the change under.
    permission: guardedPermission(req),
    idempotencyKey: checkIdempotencyKey(req.headers['idempotency-key']),
  };
}

function guardedPermission(req: FastifyRequest): string | undefined {
  const guard = req.routeOptions.config.guard;
  return guard && 'access' in guard ? guard.access.permission : undefined;
}

/** Whether a logger writes lines of `level` (pino's levels; a logger without them is asked by name). */
function levelEnabled(logger: FastifyBaseLogger, level: 'debug'): boolean {
  const pinoLike = logger as FastifyBaseLogger & { isLevelEnabled?: (l: string) => boolean };
  return pinoLike.isLevelEnabled
    ? pinoLike.isLevelEnabled(level)
    : logger.level === level || logger.level === 'trace';
}

export function ifMatch(req: FastifyRequest): string | undefined {
  const value = req.headers['if-match'];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Answers with JSON that is serialised already (cached versions are kept as text); the route's
 * response schema still documents its shape, and the tests hold the two to the same answer.
 */
export function sendJson(reply: FastifyReply, text: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(text);
}
