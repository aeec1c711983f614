import cluster from 'node:cluster';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance } from 'fastify';
import type { LogEvent } from 'kysely';
import pino, { type DestinationStream, type Logger } from 'pino';
import { loadAuditSigningKey } from './adapters/fs/audit-signing-key.js';
import { FsArtifactStore } from './adapters/fs/fs-artifact-store.js';
import { OnnxRuntime } from './adapters/onnx/onnx.runtime.js';
import { readCacheFor } from './adapters/read-cache.js';
import type { SqlDialect } from './adapters/sql/dialects/dialect.js';
import { postgresDialect } from './adapters/sql/dialects/postgres.js';
import { sqliteDialect } from './adapters/sql/dialects/sqlite.js';
import { SqlStore } from './adapters/sql/store.js';
import { type Config, sqliteFile } from './config/config.js';
import { tinyMlp } from './dev/onnx-builder.js';
import { PageTokenCodec } from './domain/page-token.js';
import { rolloutHandler, undeployHandler } from './jobs/rollout.handler.js';
import { Worker } from './jobs/worker.js';
import { type Clock, type Ids, systemClock, uuidIds } from './ports/clock.js';
import { AliasService } from './services/alias.service.js';
import { ArtifactService } from './services/artifact.service.js';
import { AuditService } from './services/audit.service.js';
import { cacheInvalidation } from './services/cached-reads.js';
import { DatasetService } from './services/dataset.service.js';
import { DeploymentService, ROLLOUT_JOB, UNDEPLOY_JOB } from './services/deployment.service.js';
import { createIam } from './services/iam/iam.js';
import { InferenceService } from './services/inference/inference.service.js';
import { LineageService } from './services/lineage.service.js';
import { ModelService } from './services/model.service.js';
import { Mutations } from './services/mutations.js';
import { NamespaceService } from './services/namespace.service.js';
import { OperationService } from './services/operation.service.js';
import { RunService } from './services/run.service.js';
import { VersionService } from './services/version.service.js';
import { quiverLogger } from './telemetry/logger.js';
import { Metrics } from './telemetry/metrics.js';
import { startOtlpMetrics } from './telemetry/otlp-metrics.js';
import { tracedArtifactStore, tracedReadCache } from './telemetry/traced.js';
import { createTracing, enqueueSpan, querySpans, type Tracing } from './telemetry/tracing.js';
import { type Acceptors, addAcceptors } from './transports/acceptors.js';
import { Admission, LoopLag, lateLoopWarnings } from './transports/admission.js';
import { buildGrpcServer, type GrpcServer, inferenceHealth } from './transports/grpc/server.js';
import { buildRestApp, type Services } from './transports/rest/app.js';
import { applyV8Flags } from './v8-flags.js';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

export interface QuiverOptions {
  logger?: Logger | false;
  clock?: Clock;
  ids?: Ids;
  onQuery?: (event: LogEvent) => void;
  /** A PostgreSQL schema other than `public` (tests isolate themselves this way). */
  postgresSchema?: string;
  /** Poll interval of the job worker and of the deployment table (tests shorten it). */
  pollMs?: number;
  /** Test-only: span processors added to the configured exporters (any given turns tracing on). */
  spanProcessors?: readonly SpanProcessor[];
  /** Where Quiver's own logger (config.logLevel, redaction, trace ids) writes instead of stdout. */
  logStream?: DestinationStream;
}

export interface Quiver {
  config: Config;
  store: SqlStore;
  services: Services;
  rest: FastifyInstance;
  /** Prometheus metrics of this process, served at GET /metrics. */
  metrics: Metrics;
  /** OpenTelemetry tracing of this process (disabled, at no cost, without exporters). */
  tracing: Tracing;
  /** The audit log: records denials and sensitive reads (AuditSink); mutations are audited by themselves. */
  audit: AuditService;
  worker: Worker | null;
  grpc: GrpcServer | null;
  logger: Logger;
  /** Starts listening (REST, and gRPC where the role serves inference) and the worker; resolves with the REST address. */
  listen(): Promise<string>;
  /** The admin API token this start created (first start only), to show once; written to `file` too. */
  adminToken?: { secret: string; file: string };
  /** The bound gRPC port after listen() (0 when this role serves no gRPC). */
  grpcPort(): number;
  close(): Promise<void>;
}

export function dialectFor(config: Config, schema?: string): SqlDialect {
  const url = config.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    return postgresDialect({ url, poolSize: config.databasePoolSize, ...(schema ? { schema } : {}) });
  }
  return sqliteDialect(sqliteFile(config), { checkpointIntervalMs: config.sqliteCheckpointMs });
}

/** The composition root: config → adapters → services → transports. Nothing listens until `listen()`. */
export async function createQuiver(config: Config, options: QuiverOptions = {}): Promise<Quiver> {
  applyV8Flags(config);
  const tracing = createTracing(config, {
    version: VERSION,
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
  });
  const logger =
    options.logger === false
      ? pino({ level: 'silent' })
      : (options.logger ?? quiverLogger(config.logLevel, tracing.enabled, options.logStream));
  const role = config.role;
  const serves = {
    api: role === 'all' || role === 'api',
    inference: role === 'all' || role === 'inference',
    worker: role === 'all' || role === 'worker',
  };
  const dialect = dialectFor(config, options.postgresSchema);
  // Query spans only when tracing is on: otherwise the log hook is not even installed.
  const spans = tracing.enabled
    ? querySpans(tracing.tracer, dialect.name === 'postgres' ? 'postgresql' : 'sqlite')
    : undefined;
  const onQuery =
    spans && options.onQuery
      ? (event: LogEvent) => {
          options.onQuery!(event);
          spans(event);
        }
      : (spans ?? options.onQuery);
  const store = await SqlStore.open(dialect, onQuery ? { onQuery } : {});
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? uuidIds;
  // Page tokens must verify on every instance sharing the database, so the key lives there.
  const secret = await store.read((repos) =>
    repos.settings.putIfAbsent('page_token_secret', randomBytes(32).toString('base64url')),
  );
  const tokens = new PageTokenCodec(secret);

  const artifactStore = new FsArtifactStore(join(config.dataDir, 'artifacts'));
  // Spans around uploads and cache reads only when tracing is on: otherwise the adapters are called directly.
  const artifacts = tracing.enabled ? tracedArtifactStore(artifactStore, tracing.tracer) : artifactStore;
  const runtime = new OnnxRuntime({
    memoryBudgetBytes: config.runtimeMemoryMb * 1024 * 1024,
    intraOpThreads: config.runtimeThreads,
    logger,
  });
  const metrics = new Metrics();
  const otlpMetrics =
    config.otelMetrics === 'on'
      ? startOtlpMetrics(metrics.registry, {
          protocol: config.otlpProtocol ?? 'http/protobuf',
          intervalMs: config.otelMetricExportIntervalMs,
          resource: tracing.resource,
          version: VERSION,
        })
      : undefined;
  const inference = new InferenceService({
    store,
    runtime,
    artifacts: artifactStore,
    clock,
    version: VERSION,
    refreshMs: options.pollMs ?? 1_000,
    logger,
    metrics,
    tracer: tracing.enabled ? tracing.tracer : undefined,
  });
  metrics.watch({
    ...(serves.inference ? { deployments: () => inference.deploymentCounts() } : {}),
    jobs: () => store.read((repos) => repos.jobs.stats(clock.now())),
    models: () => runtime.loaded(),
    audit: () =>
      store.read(async (repos) => {
        const [head, last] = [await repos.audit.head(), await repos.audit.lastCheckpoint()];
        return {
          length: head.seq,
          lastCheckpointMs: last ? Date.parse(last.time) : undefined,
          nowMs: clock.now(),
        };
      }),
    ...(dialect.poolStats ? { pool: dialect.poolStats } : {}),
    ...(dialect.checkpointStats ? { checkpoints: dialect.checkpointStats } : {}),
    ...(dialect.groupCommit ? { groupCommit: () => store.groupCommitStats } : {}),
  });
  let worker: Worker | null = null;
  const rolloutDeps = {
    store,
    clock,
    runtime,
    artifacts: artifactStore,
    changed: (id: string) => inference.changed(id),
    metrics,
    tracer: tracing.enabled ? tracing.tracer : undefined,
  };
  if (serves.worker) {
    worker = new Worker({
      store,
      clock,
      handlers: [rolloutHandler(rolloutDeps), undeployHandler(rolloutDeps)],
      kinds: [ROLLOUT_JOB, UNDEPLOY_JOB],
      concurrency: config.workerConcurrency,
      leaseMs: config.jobLeaseMs,
      pollMs: options.pollMs ?? 500,
      logger,
      tracing,
    });
  }
  const mutations = new Mutations(store, clock.now);
  const installation = createHash('sha256').update(secret).digest('hex').slice(0, 16);
  const readCache = await readCacheFor(config, installation);
  const cache = tracing.enabled ? tracedReadCache(readCache, tracing.tracer) : readCache;
  // Every committed change drops the cached reads it made stale, here and on the other instances.
  mutations.observe(cacheInvalidation(cache));
  metrics.watch({ cache: () => cache.stats() });
  const audit = new AuditService({
    store,
    clock,
    tokens,
    mutations,
    signer: loadAuditSigningKey({
      value: config.auditSigningKey,
      file: join(config.dataDir, 'audit-signing.key'),
    }),
    checkpointIntervalMs: serves.api || serves.worker ? config.auditCheckpointIntervalMs : 0,
    onError: (err) => logger.warn({ err }, 'audit checkpoint failed'),
  });
  await audit.init();
  // Every change appends its audit event inside its own transaction.
  mutations.observe(audit);
  const iam = await createIam(config, { store, mutations, clock, tokens, audit, logger });
  const base = { store, clock, ids, tokens, mutations, cache };
  const services: Services = {
    namespaces: new NamespaceService(base),
    models: new ModelService(base),
    versions: new VersionService({ ...base, models: { store, artifacts: artifactStore, runtime } }),
    aliases: new AliasService(base),
    artifacts: new ArtifactService({
      store,
      mutations,
      artifacts,
      clock,
      maxBytes: config.artifactMaxBytes,
      audit,
    }),
    deployments: new DeploymentService({
      store,
      mutations,
      clock,
      ids,
      wake: () => worker?.wake(),
      ...(tracing.enabled ? { traceJob: (kind: string) => enqueueSpan(tracing, kind) } : {}),
    }),
    operations: new OperationService({ store }),
    datasets: new DatasetService(base),
    runs: new RunService(base),
    lineage: new LineageService({
      store,
      mutations,
      clock,
      tokens,
      producer: `urn:quiver:server:${VERSION}`,
    }),
    audit,
    inference,
    principals: iam.principals,
    roles: iam.roles,
  };
  // The runtime is ready once it has opened (and released) one session of a tiny built-in model:
  // that proves the native library loads on this machine. Done once; a failure stays a failure.
  let runtimeProbe: Promise<unknown> | undefined;
  const readiness = [
    { name: 'database', check: () => store.ping() },
    { name: 'artifacts', check: () => artifactStore.ping() },
    ...(worker
      ? [{ name: 'worker', check: async () => checkWorker(worker!, clock, options.pollMs ?? 500) }]
      : []),
    ...(serves.inference || serves.worker
      ? [
          {
            name: 'runtime',
            check: async () => {
              runtimeProbe ??= runtime.inspect(tinyMlp({ seed: 1 }).bytes);
              await runtimeProbe;
            },
          },
        ]
      : []),
    ...(serves.inference
      ? [
          {
            name: 'inference',
            check: async () => {
              if (!(await inference.ready())) throw new Error('the deployment table has not been read yet');
            },
          },
        ]
      : []),
  ];
  const lag =
    config.maxEventLoopDelayMs > 0
      ? new LoopLag(50, {
          overMs: config.maxEventLoopDelayMs,
          report: lateLoopWarnings(
            (fields, message) => logger.warn(fields, message),
            config.maxEventLoopDelayMs,
          ),
        }).start()
      : undefined;
  const admission = new Admission(config.maxInFlight, lag && { maxMs: config.maxEventLoopDelayMs, lag });
  metrics.watch({ admission: () => ({ inFlight: admission.inFlight, shed: admission.shed }) });
  const rest = await buildRestApp({
    services,
    access: iam.access,
    admission,
    serve: serves,
    readiness,
    logger: options.logger === false ? false : logger,
    bodyLimitBytes: config.bodyLimitBytes,
    version: VERSION,
    database: dialect.description,
    metrics,
    tracing,
    consoleOidc:
      config.auth === 'on' && config.oidcIssuer && config.oidcClientId
        ? { issuer: config.oidcIssuer, clientId: config.oidcClientId, scopes: config.oidcScopes }
        : undefined,
  });
  const grpc = serves.inference
    ? buildGrpcServer({
        inference,
        access: iam.access,
        admission,
        health: inferenceHealth(inference),
        logger,
        version: VERSION,
        metrics,
        tracing,
      })
    : null;

  // Idempotency keys are promised for 24 hours; sweep older ones hourly.
  const sweep = setInterval(() => {
    store
      .write((repos) => repos.idempotency.deleteOlderThan(clock.now() - IDEMPOTENCY_TTL_MS))
      .catch((err: unknown) => logger.warn({ err }, 'idempotency key sweep failed'));
  }, 3_600_000);
  sweep.unref();
  let boundGrpc = 0;
  let started = false;
  let acceptors: Acceptors | undefined;

  return {
    config,
    store,
    services,
    rest,
    metrics,
    tracing,
    audit,
    worker,
    grpc,
    logger,
    grpcPort: () => boundGrpc,
    ...(iam.bootstrap.secret
      ? { adminToken: { secret: iam.bootstrap.secret, file: iam.bootstrap.file! } }
      : {}),
    async listen() {
      if (serves.inference) await inference.start();
      started = true;
      worker?.start();
      audit.start();
      if (grpc) boundGrpc = await grpc.start(config.httpHost, config.grpcPort);
      const address = await rest.listen({
        host: config.httpHost,
        port: config.httpPort,
        backlog: config.httpBacklog,
      });
      // A --workers process is handed its connections by the primary: it has no socket of its own to copy.
      if (config.httpAcceptors > 0 && !cluster.isWorker) {
        acceptors = await addAcceptors(rest.server, {
          count: config.httpAcceptors,
          backlog: config.httpBacklog,
        }).catch((err: unknown) => {
          logger.warn({ err }, 'accepting through one listening descriptor only (QUIVER_HTTP_ACCEPTORS)');
          return undefined;
        });
      }
      logger.info(
        {
          address,
          grpc_port: boundGrpc || undefined,
          role,
          database: dialect.description,
          http_acceptors: acceptors?.count,
        },
        'Quiver listening',
      );
      return address;
    },
    async close() {
      clearInterval(sweep);
      lag?.stop();
      const grace = config.shutdownGraceMs;
      // In-flight requests get the grace period; connections still open after it are cut.
      const cut = setTimeout(() => rest.server.closeAllConnections(), grace);
      cut.unref();
      // A keep-alive connection whose request finishes during the drain would otherwise stay open
      // (and hold the close) until its client or the keep-alive timeout drops it.
      const idle = setInterval(() => rest.server.closeIdleConnections(), 50);
      idle.unref();
      // The copies of the listening socket first: closing the server alone would leave them accepting.
      await acceptors?.close();
      await Promise.all([rest.close(), grpc && started ? grpc.close(grace) : undefined, worker?.stop(grace)]);
      clearTimeout(cut);
      clearInterval(idle);
      await audit.stop();
      inference.stop();
      await runtime.close();
      artifactStore.close();
      await store.close();
      await cache.close();
      await tracing.shutdown().catch((err: unknown) => logger.warn({ err }, 'flushing spans failed'));
      await otlpMetrics?.shutdown().catch((err: unknown) => logger.warn({ err }, 'flushing metrics failed'));
    },
  };
}

/** The worker is alive when it polled within a few intervals. */
function checkWorker(worker: Worker, clock: Clock, pollMs: number): void {
  const age = clock.now() - worker.lastPoll;
  if (worker.lastPoll > 0 && age > Math.max(10_000, pollMs * 10))
    throw new Error(`the job worker last polled ${age} ms ago`);
}
