import { QuiverError } from './errors.js';

export interface OrderBy {
  field: string;
  desc: boolean;
}

/** The orders each list accepts (the storage adapter keeps one index per order). */
export const ORDER_FIELDS = {
  namespaces: ['name', 'namespace_id', 'create_time'],
  models: ['name', 'model_id', 'create_time', 'update_time', 'latest_version'],
  versions: ['version', 'name', 'create_time', 'update_time'],
  datasets: ['name', 'dataset_id', 'create_time'],
  runs: ['name', 'run_id', 'create_time'],
} as const;

export const DEFAULT_ORDER = {
  namespaces: { field: 'name', desc: false },
  models: { field: 'name', desc: false },
  versions: { field: 'version', desc: true },
  datasets: { field: 'name', desc: false },
  runs: { field: 'create_time', desc: true },
} as const satisfies Record<keyof typeof ORDER_FIELDS, OrderBy>;

/** Parses AIP-132 `order_by`: one field, optionally followed by `asc` or `desc`. */
export function parseOrderBy(raw: string | undefined, resource: keyof typeof ORDER_FIELDS): OrderBy {
  const allowed: readonly string[] = ORDER_FIELDS[resource];
  if (raw === undefined || raw.trim() === '') return DEFAULT_ORDER[resource];
  const parts = raw.trim().split(/\s+/);
  const [field, direction, ...rest] = parts;
  const problem =
    rest.length > 0 || raw.includes(',')
      ? 'only one field may be given'
      : !allowed.includes(field!)
        ? `unknown field '${field!.slice(0, 40)}'`
        : direction !== undefined && direction !== 'asc' && direction !== 'desc'
          ? `direction must be 'asc' or 'desc', not '${direction.slice(0, 20)}'`
          : null;
  if (problem) {
    throw new QuiverError(
      'INVALID_ORDER_BY',
      `order_by: ${problem}. Allowed fields: ${allowed.join(', ')}.`,
      {
        details: { field: 'order_by', allowed: [...allowed] },
      },
    );
  }
  return { field: field!, desc: direction === 'desc' };
}
