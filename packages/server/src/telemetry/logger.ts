import { context, trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/config.js';

/**
 * Fields that may hold a credential, wherever they appear in a logged object (two levels deep):
 * request headers, token secrets, configuration. Their values are replaced, never written.
 */
export const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.authorization',
  '*.headers.authorization',
  'cookie',
  '*.cookie',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'password',
  '*.password',
  'bootstrapToken',
  '*.bootstrapToken',
  'auditSigningKey',
  '*.auditSigningKey',
];

/**
 * Quiver's pino logger: JSON lines, credentials redacted, and, when tracing is on, the trace and
 * span ids of the active span on every line (a mixin costs a call per line, so only then).
 */
export function quiverLogger(level: LogLevel, traced: boolean, stream?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...(traced ? { mixin: traceIds } : {}),
  };
  return stream ? pino(options, stream) : pino(options);
}

function traceIds(): Record<string, string> {
  const sc = trace.getSpanContext(context.active());
  return sc && trace.isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}
