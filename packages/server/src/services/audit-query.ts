import { QuiverError } from '../domain/errors.js';
import { AUDIT_OUTCOMES, type AuditFilter, type AuditOutcome } from '../ports/audit.js';

/** An audit listing or export as callers ask for it (REST query parameters). */
export interface AuditQuery {
  principal?: string | undefined;
  /** An exact resource name; a trailing `*` matches every name starting with what precedes it. */
  resource?: string | undefined;
  action?: string | undefined;
  outcome?: string | undefined;
  /** RFC 3339; events at or after it. */
  since?: string | undefined;
  /** RFC 3339; events before it. */
  until?: string | undefined;
  /** `seq` (default, oldest first) or `seq desc` (newest first); `time` is a synonym of `seq`. */
  order_by?: string | undefined;
  page_size?: number | undefined;
  page_token?: string | undefined;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const MAX_TEXT = 1_000;

export function parseAuditQuery(query: AuditQuery): { filter: AuditFilter; desc: boolean } {
  const filter: AuditFilter = {};
  if (query.principal) filter.principal = text(query.principal, 'principal');
  if (query.action) filter.action = text(query.action, 'action');
  if (query.resource) {
    const resource = text(query.resource, 'resource');
    filter.resourcePrefix = resource.endsWith('*');
    filter.resource = filter.resourcePrefix ? resource.slice(0, -1) : resource;
  }
  if (query.outcome) {
    if (!(AUDIT_OUTCOMES as readonly string[]).includes(query.outcome)) {
      throw invalid('outcome', `outcome must be one of ${AUDIT_OUTCOMES.join(', ')}.`);
    }
    filter.outcome = query.outcome as AuditOutcome;
  }
  if (query.since) filter.since = instant(query.since, 'since');
  if (query.until) filter.until = instant(query.until, 'until');
  return { filter, desc: direction(query.order_by) };
}

function direction(orderBy: string | undefined): boolean {
  const words = (orderBy ?? '').trim().toLowerCase().split(/\s+/).filter(Boolean);
  const [field = 'seq', dir = 'asc', ...rest] = words;
  if ((field === 'seq' || field === 'time') && (dir === 'asc' || dir === 'desc') && rest.length === 0) {
    return dir === 'desc';
  }
  throw new QuiverError(
    'INVALID_ORDER_BY',
    `Audit events are ordered by 'seq' or 'seq desc' (time follows seq); got '${orderBy?.slice(0, 100)}'.`,
    { details: { field: 'order_by' } },
  );
}

function text(value: string, field: string): string {
  if (value.length > MAX_TEXT) throw invalid(field, `${field} is longer than ${MAX_TEXT} characters.`);
  return value;
}

function instant(value: string, field: string): number {
  const ms = Date.parse(value);
  if (!RFC3339.test(value) || Number.isNaN(ms)) {
    throw invalid(
      field,
      `${field} must be an RFC 3339 time such as 2026-01-31T00:00:00Z; got '${value.slice(0, 64)}'.`,
    );
  }
  return ms;
}

function invalid(field: string, message: string): QuiverError {
  return new QuiverError('INVALID_ARGUMENT', message, { details: { field } });
}
