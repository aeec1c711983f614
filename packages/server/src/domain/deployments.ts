import { QuiverError } from './errors.js';
import { parseVersionRef, preview, type VersionRef } from './names.js';

/** Deployment names are DNS labels (RFC 1123), so they can name hosts, metrics and OIP models alike. */
export const DEPLOYMENT_ID_PATTERN = '^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$';
const DEPLOYMENT_ID_RE = new RegExp(DEPLOYMENT_ID_PATTERN);
export const MAX_TRAFFIC_TARGETS = 10;
export const MAX_REPLICAS = 64;
export const MAX_BATCH_SIZE = 1024;
export const MAX_QUEUE_DELAY_US = 1_000_000;

export const deploymentName = (id: string) => `deployments/${id}`;

export function assertDeploymentId(id: unknown, field = 'deployment_id'): string {
  if (typeof id !== 'string' || !DEPLOYMENT_ID_RE.test(id)) {
    throw new QuiverError(
      'INVALID_NAME',
      `${field} must be a DNS label: 1-63 lowercase letters, digits or '-', starting with a letter and not ending with '-'; got ${preview(id)}.`,
      {
        details: { field, pattern: DEPLOYMENT_ID_PATTERN },
      },
    );
  }
  return id;
}

export interface TrafficInput {
  version: string | number;
  percent: number;
}

/**
 * A deployment serves one version (`version`) or a split (`traffic`, percentages summing to 100,
 * each version once): exactly one of the two. Returns the split with parsed references.
 */
export function normaliseTraffic(input: {
  version?: string | number | undefined;
  traffic?: TrafficInput[] | undefined;
}): {
  ref: VersionRef;
  version: string;
  percent: number;
}[] {
  if ((input.version === undefined) === (input.traffic === undefined)) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      'Give exactly one of version (one version or @alias) and traffic (a split).',
      {
        details: { field: input.version === undefined ? 'version' : 'traffic' },
      },
    );
  }
  const split = input.traffic ?? [{ version: input.version!, percent: 100 }];
  if (!Array.isArray(split) || split.length === 0 || split.length > MAX_TRAFFIC_TARGETS) {
    throw new QuiverError('INVALID_ARGUMENT', `traffic must list 1 to ${MAX_TRAFFIC_TARGETS} targets.`, {
      details: { field: 'traffic' },
    });
  }
  const seen = new Set<string>();
  let total = 0;
  const out = split.map((t, i) => {
    const field = input.traffic ? `traffic[${i}].version` : 'version';
    const ref = parseVersionRef(String(t.version), field);
    const key = ref.kind === 'number' ? String(ref.version) : `@${ref.alias}`;
    if (seen.has(key))
      throw new QuiverError('INVALID_ARGUMENT', `${key} appears twice in traffic.`, { details: { field } });
    seen.add(key);
    if (!Number.isInteger(t.percent) || t.percent < 1 || t.percent > 100) {
      throw new QuiverError('INVALID_ARGUMENT', 'Each traffic percent must be an integer from 1 to 100.', {
        details: { field: `traffic[${i}].percent` },
      });
    }
    total += t.percent;
    return { ref, version: key, percent: t.percent };
  });
  if (total !== 100) {
    throw new QuiverError(
      'INVALID_ARGUMENT',
      `traffic percents must add up to 100; they add up to ${total}.`,
      {
        details: { field: 'traffic' },
      },
    );
  }
  return out;
}

/** Picks a target by weight: `roll` in [0, 100). */
export function pickByWeight<T extends { percent: number }>(targets: readonly T[], roll: number): T {
  let acc = 0;
  for (const t of targets) {
    acc += t.percent;
    if (roll < acc) return t;
  }
  return targets[targets.length - 1]!;
}
