import { QuiverError } from './errors.js';

export const VERSION_STATUSES = [
  'registered',
  'validated',
  'approved',
  'deprecated',
  'archived',
  'rejected',
] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

/** The lifecycle: registered → validated → approved → deprecated → archived, plus rejected from the first two. */
export const TRANSITIONS: Readonly<Record<VersionStatus, readonly VersionStatus[]>> = {
  registered: ['validated', 'rejected'],
  validated: ['approved', 'rejected'],
  approved: ['deprecated'],
  deprecated: ['archived'],
  archived: [],
  rejected: [],
};

export function allowedTransitions(from: VersionStatus): readonly VersionStatus[] {
  return TRANSITIONS[from];
}

export function isVersionStatus(value: unknown): value is VersionStatus {
  return typeof value === 'string' && (VERSION_STATUSES as readonly string[]).includes(value);
}

/** Throws FAILED_PRECONDITION (ILLEGAL_TRANSITION) naming the allowed targets when `from → to` is not a lifecycle step. */
export function assertTransition(from: VersionStatus, to: VersionStatus): void {
  const allowed = TRANSITIONS[from];
  if (allowed.includes(to)) return;
  const list = allowed.length ? allowed.join(', ') : 'none (it is final)';
  throw new QuiverError(
    'ILLEGAL_TRANSITION',
    `A version in status '${from}' cannot move to '${to}'. Allowed from '${from}': ${list}.`,
    {
      details: { from, to, allowed: [...allowed] },
    },
  );
}
