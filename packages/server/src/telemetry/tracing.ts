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
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { LogEvent } from 'kysely';
import type { Config } from '../config/config.js';

export type TracingConfig = Pick<Config, 'otelExporters' | 'otelSampling'>;

export interface TracingOptions {
  version: string;
  /** Extra span processors (tests pass an in-memory exporter); any given turns tracing on. */
  spanProcessors?: readonly SpanProcessor[];
}

export interface Tracing {
  /** False when no exporter is configured: the tracer is the API's no-op one. */
  readonly enabled: boolean;
  readonly tracer: Tracer;
  /** The W3C `traceparent` (and `tracestate`) of a context, for a header or a stored job. */
  inject(ctx?: Context): Record<string, string>;
  /** The context a `traceparent`/`tracestate` carrier continues (the active one when it has none). */
  extract(carrier: Record<string, string | string[] | undefined>): Context;
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
    // Endpoint, headers and timeouts come from the standard OTEL_EXPORTER_OTLP_* variables.
    if (name === 'otlp') processors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  }
  if (processors.length === 0) {
    return {
      enabled: false,
      tracer: NOOP_TRACER,
      inject: (ctx) => injectInto(ctx),
      extract: (carrier) => propagator.extract(context.active(), carrier, defaultTextMapGetter),
      shutdown: async () => {},
    };
  }
  ensureContextManager();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: 'quiver',
      [ATTR_SERVICE_VERSION]: options.version,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.otelSampling) }),
    spanProcessors: processors,
  });
  return {
    enabled: true,
    tracer: provider.getTracer('quiver', options.version),
    inject: (ctx) => injectInto(ctx),
    extract: (carrier) => propagator.extract(context.active(), carrier, defaultTextMapGetter),
    shutdown: () => provider.shutdown(),
  };
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

/** Runs `fn` in a new active span; records an error and ends the span when `fn` settles. */
export async function withSpan<T>(
  tracer: Tracer | undefined,
  name: string,
  attributes: Attributes,
  fn: (span: Span | undefined) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
  parent?: Context,
): Promise<T> {
  if (!tracer) return fn(undefined);
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
