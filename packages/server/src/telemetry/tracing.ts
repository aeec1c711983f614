import {
  type Attributes,
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ProxyTracerProvider,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  detectResources,
  envDetector,
  type Resource,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { LogEvent } from 'kysely';
import type { Config, OtlpProtocol } from '../config/config.js';
import { OtlpSpanExporter } from './otlp-span-exporter.js';

export type TracingConfig = Pick<Config, 'otelExporters' | 'otelSampling'> &
  Partial<Pick<Config, 'otlpProtocol' | 'otlpTracesProtocol' | 'role'>>;

export interface TracingOptions {
  version: string;
  /** Extra span processors (tests pass an in-memory exporter); any given turns tracing on. */
  spanProcessors?: readonly SpanProcessor[];
}

export interface Tracing {
  /** False when no exporter is configured: the tracer is the API's no-op one. */
  readonly enabled: boolean;
  /**
   * False at 0% sampling: a new trace (one no caller's `traceparent` started) is never recorded,
   * so the transports and the worker skip making its spans altogether.
   */
  readonly samplesRoots: boolean;
  readonly tracer: Tracer;
  /** The W3C `traceparent` (and `tracestate`) of a context, for a header or a stored job. */
  inject(ctx?: Context): Record<string, string>;
  /** The context a `traceparent`/`tracestate` carrier continues (the active one when it has none). */
  extract(carrier: Record<string, string | string[] | undefined>): Context;
  /** The resource spans (and pushed metrics) describe: service name and version, role, OTEL_RESOURCE_ATTRIBUTES. */
  readonly resource: Resource;
  /** Flushes and stops exporting. */
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();
const NOOP_TRACER: Tracer = new ProxyTracerProvider().getTracer('quiver');

/**
 * OpenTelemetry tracing with manual spans. With `QUIVER_OTEL_EXPORTERS=none` (the default) nothing
 * is registered and the tracer is the API's no-op one. The tracer provider is not registered
 * globally (several instances share a process in tests); only the AsyncLocalStorage context
 * manager is, once per process, so that spans nest across awaits.
 */
export function createTracing(config: TracingConfig, options: TracingOptions): Tracing {
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  for (const name of new Set(config.otelExporters)) {
    if (name === 'console') processors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
    if (name === 'otlp') processors.push(new BatchSpanProcessor(otlpSpanExporter(tracesProtocol(config))));
  }
  const resource = tracingResource(config, options.version);
  if (processors.length === 0) {
    return {
      enabled: false,
      samplesRoots: false,
      resource,
      tracer: NOOP_TRACER,
      inject: (ctx) => injectInto(ctx),
      extract: (carrier) => propagator.extract(context.active(), carrier, defaultTextMapGetter),
      shutdown: async () => {},
    };
  }
  ensureContextManager();
  const provider = new BasicTracerProvider({
    resource,
    // At 100% every trace is kept: AlwaysOn, which spares each root span the trace id's hashing.
    sampler: new ParentBasedSampler({
      root:
        config.otelSampling >= 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(config.otelSampling),
    }),
    spanProcessors: processors,
  });
  return {
    enabled: true,
    samplesRoots: config.otelSampling > 0,
    resource,
    tracer: provider.getTracer('quiver', options.version),
    inject: (ctx) => injectInto(ctx),
    extract: (carrier) => propagator.extract(context.active(), carrier, defaultTextMapGetter),
    shutdown: () => provider.shutdown(),
  };
}

/** The OTLP protocol of spans, as the specification orders the variables: traces-specific first. */
export function tracesProtocol(
  config: Partial<Pick<Config, 'otlpProtocol' | 'otlpTracesProtocol'>>,
): OtlpProtocol {
  return config.otlpTracesProtocol ?? config.otlpProtocol ?? 'http/protobuf';
}

/** Endpoint, headers, compression and timeouts come from the standard OTEL_EXPORTER_OTLP_* variables. */
function otlpSpanExporter(protocol: OtlpProtocol): SpanExporter {
  return new OtlpSpanExporter(protocol);
}

/** Quiver's own attributes, overridden by OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES when set. */
function tracingResource(config: TracingConfig, version: string): Resource {
  return resourceFromAttributes({
    [ATTR_SERVICE_NAME]: 'quiver',
    [ATTR_SERVICE_VERSION]: version,
    ...(config.role ? { 'quiver.role': config.role } : {}),
    // Tells apart the processes of one trace (an API and the worker that ran its job).
    'process.pid': process.pid,
  }).merge(detectResources({ detectors: [envDetector] }));
}

function injectInto(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, defaultTextMapSetter);
  return carrier;
}

let contextManager: AsyncLocalStorageContextManager | undefined;
function ensureContextManager(): void {
  if (contextManager) return;
  contextManager = new AsyncLocalStorageContextManager().enable();
  if (!context.setGlobalContextManager(contextManager)) {
    // Someone else registered one; theirs propagates context as well.
    contextManager.disable();
  }
}

/**
 * The `job.enqueue` span of a job a traced request enqueues (a child of the request's span), and
 * the traceparent to store with the job: the worker continues the trace under it.
 */
export function enqueueSpan(tracing: Tracing, kind: string): { traceparent: string; end(): void } {
  const parent = context.active();
  // Outside a recording span (an unsampled request) the job carries no context of its own.
  if (!trace.getSpan(parent)?.isRecording()) return { traceparent: '', end: () => {} };
  const span = tracing.tracer.startSpan(
    'job.enqueue',
    { kind: SpanKind.PRODUCER, attributes: { 'quiver.job.kind': kind } },
    parent,
  );
  return {
    traceparent: tracing.inject(trace.setSpan(parent, span)).traceparent ?? '',
    end: () => span.end(),
  };
}

/**
 * Runs `fn` in a new active child span of the recording span active now; records an error and
 * ends the span when `fn` settles. Without a recording span active (tracing off, or an unsampled
 * request, which enters no context) `fn` just runs: no span, no context, no allocation.
 */
export function withSpan<T>(
  tracer: Tracer | undefined,
  name: string,
  attributes: Attributes,
  fn: (span: Span | undefined) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
  parent?: Context,
): Promise<T> {
  // Not an async function: an untraced call costs `fn`'s own promise and no other.
  if (!tracer || !trace.getSpan(parent ?? context.active())?.isRecording()) {
    try {
      return fn(undefined);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  return tracer.startActiveSpan(name, { attributes, kind }, parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      recordError(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

export function recordError(span: Span, err: unknown, code?: string): void {
  const e = err as { code?: unknown; message?: unknown; name?: unknown };
  span.setAttribute(
    'error.type',
    code ?? (typeof e?.code === 'string' ? e.code : String(e?.name ?? 'Error')),
  );
  span.setStatus({ code: SpanStatusCode.ERROR, message: String(e?.message ?? err) });
}

/** The trace id of the active span ('' when none), for log lines. */
export function activeTraceId(ctx: Context = context.active()): string {
  const sc = trace.getSpanContext(ctx);
  return sc && trace.isSpanContextValid(sc) ? sc.traceId : '';
}

/**
 * A Kysely `log` hook making one span per query inside a traced operation, from the query's own
 * duration. Statement text only: parameter values never leave the process. Queries outside any
 * span (pollers, refreshes) make no spans.
 */
export function querySpans(tracer: Tracer, system: 'sqlite' | 'postgresql'): (event: LogEvent) => void {
  return (event) => {
    const parent = context.active();
    if (!trace.getSpan(parent)?.isRecording()) return;
    const end = Date.now();
    const sql = event.query.sql;
    const span = tracer.startSpan(
      sql.trimStart().split(/\s/, 1)[0]!.toUpperCase() || 'query',
      {
        kind: SpanKind.CLIENT,
        startTime: end - event.queryDurationMillis,
        attributes: { 'db.system.name': system, 'db.query.text': sql },
      },
      parent,
    );
    if (event.level === 'error') recordError(span, event.error);
    span.end(end);
  };
}
