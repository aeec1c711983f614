import { QuiverError } from './errors.js';
import { assertId, parseVersionName, preview, type VersionPath } from './names.js';
import type { JsonObject, Labels } from './resources.js';
import { LIMITS } from './validation.js';

/** Lineage vocabulary: datasets and their versions, runs, and the edges from a model version to them. */
export const RUN_KINDS = ['training', 'evaluation'] as const;
export type RunKind = (typeof RUN_KINDS)[number];
export const RUN_STATUSES = ['running', 'succeeded', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const LINEAGE_DIRECTIONS = ['upstream', 'downstream', 'both'] as const;
export type LineageDirection = (typeof LINEAGE_DIRECTIONS)[number];
/** `serves` links a deployment to a version it serves; the others link a version to its inputs. */
export const EDGE_KINDS = ['trained_on', 'evaluated_on', 'produced_by', 'derived_from', 'serves'] as const;
export type EdgeKind = (typeof EDGE_KINDS)[number];
/** How a model version used a dataset version. */
export type DatasetRole = 'trained_on' | 'evaluated_on';
export const NODE_TYPES = ['model_version', 'dataset_version', 'run', 'deployment'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** `algorithm:hex`, e.g. `sha256:…` or `md5:…`: what the data was when it was used. */
export const DATASET_DIGEST_PATTERN = '^[a-z0-9]{2,16}:[0-9a-f]{16,128}$';
/** Any URI with a scheme: `s3://…`, `gs://…`, `file:///…`, `https://…`. */
export const URI_PATTERN = '^[A-Za-z][A-Za-z0-9+.-]*:[^\\s]+$';

export const datasetName = (ns: string, dataset: string) => `namespaces/${ns}/datasets/${dataset}`;
export const datasetVersionName = (ns: string, dataset: string, version: number) =>
  `${datasetName(ns, dataset)}/versions/${version}`;
export const runName = (ns: string, run: string) => `namespaces/${ns}/runs/${run}`;

export interface Dataset {
  name: string;
  uid: string;
  namespace: string;
  dataset_id: string;
  description: string;
  labels: Labels;
  latest_version: number;
  create_time: string;
  update_time: string;
  etag: string;
}

export interface DatasetVersion {
  name: string;
  uid: string;
  dataset: string;
  version: number;
  uri: string;
  digest: string;
  size_bytes: number | null;
  format: string | null;
  metadata: JsonObject;
  created_by: string;
  create_time: string;
}

export interface Run {
  name: string;
  uid: string;
  namespace: string;
  run_id: string;
  kind: RunKind;
  status: RunStatus;
  description: string;
  labels: Labels;
  code_commit: string;
  parameters: JsonObject;
  metrics: JsonObject;
  environment: JsonObject;
  start_time: string | null;
  end_time: string | null;
  created_by: string;
  create_time: string;
  update_time: string;
  etag: string;
}

/** A node of a lineage graph; fields beyond name/type/depth depend on the type. */
export interface LineageNode {
  name: string;
  type: NodeType;
  /** Hops from the node the graph was asked for (0). */
  depth: number;
  status?: string;
  model?: string;
  version?: number;
  artifact_digest?: string | null;
  dataset?: string;
  uri?: string;
  digest?: string;
  run_kind?: RunKind;
  code_commit?: string;
  serving?: { version: number; percent: number }[];
}

/** `source` is the subject: "source trained_on target", "deployment serves version". */
export interface LineageEdge {
  source: string;
  target: string;
  kind: EdgeKind;
}

export interface LineageGraph {
  root: string;
  direction: LineageDirection;
  depth: number;
  nodes: LineageNode[];
  edges: LineageEdge[];
  /** True when the node cap (LIMITS.lineageNodes) cut the walk short. */
  truncated: boolean;
  /** Nodes left out because the caller may not read them (set when the graph is answered). */
  hidden?: number;
}

/** The lineage a caller asks to record, names parsed and de-duplicated. */
export interface LineageRequest {
  trained_on: DatasetVersionPath[];
  evaluated_on: DatasetVersionPath[];
  produced_by: RunPath | null;
  derived_from: VersionPath[];
}

export interface DatasetVersionPath {
  namespace: string;
  dataset: string;
  version: number;
}

export interface RunPath {
  namespace: string;
  run: string;
}

const DATASET_VERSION_RE = /^namespaces\/([^/]+)\/datasets\/([^/]+)\/versions\/([^/]+)$/;
const RUN_RE = /^namespaces\/([^/]+)\/runs\/([^/]+)$/;

export function parseDatasetVersionName(name: unknown, field: string): DatasetVersionPath {
  const m = typeof name === 'string' ? DATASET_VERSION_RE.exec(name) : null;
  if (!m || !/^[1-9][0-9]{0,9}$/.test(m[3]!) || Number(m[3]) > 2_147_483_647) {
    throw new QuiverError(
      'INVALID_NAME',
      `${field} must look like namespaces/{namespace}/datasets/{dataset}/versions/{number}; got ${preview(name)}.`,
      { details: { field } },
    );
  }
  return {
    namespace: assertId('namespace', m[1], field),
    dataset: assertId('dataset', m[2], field),
    version: Number(m[3]),
  };
}

export function parseRunName(name: unknown, field: string): RunPath {
  const m = typeof name === 'string' ? RUN_RE.exec(name) : null;
  if (!m) {
    throw new QuiverError(
      'INVALID_NAME',
      `${field} must look like namespaces/{namespace}/runs/{run}; got ${preview(name)}.`,
      { details: { field } },
    );
  }
  return { namespace: assertId('namespace', m[1], field), run: assertId('run', m[2], field) };
}

/** Parses the `lineage` object of a request; counts are checked here, totals with what is stored later. */
export function checkLineageRequest(raw: unknown, field = 'lineage'): LineageRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new QuiverError('INVALID_ARGUMENT', `${field} must be an object.`, { details: { field } });
  }
  const input = raw as Record<string, unknown>;
  const list = (key: string, max: number): unknown[] => {
    const value = input[key];
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      throw new QuiverError('INVALID_ARGUMENT', `${field}.${key} must be an array of names.`, {
        details: { field: `${field}.${key}` },
      });
    }
    if (value.length > max) throw tooLarge(`${field}.${key}`, key, value.length, max);
    return value;
  };
  const unique = <T>(items: T[], key: (t: T) => string) => [
    ...new Map(items.map((t) => [key(t), t])).values(),
  ];
  const dsKey = (d: DatasetVersionPath) => datasetVersionName(d.namespace, d.dataset, d.version);
  const trained_on = unique(
    list('trained_on', LIMITS.lineageTrainedOn).map((n, i) =>
      parseDatasetVersionName(n, `${field}.trained_on[${i}]`),
    ),
    dsKey,
  );
  const evaluated_on = unique(
    list('evaluated_on', LIMITS.lineageEvaluatedOn).map((n, i) =>
      parseDatasetVersionName(n, `${field}.evaluated_on[${i}]`),
    ),
    dsKey,
  );
  const derived_from = unique(
    list('derived_from', LIMITS.lineageDerivedFrom).map((n, i) =>
      parseVersionName(n, `${field}.derived_from[${i}]`),
    ),
    (v) => `${v.namespace}/${v.model}/${v.ref.kind === 'number' ? v.ref.version : `@${v.ref.alias}`}`,
  );
  const produced_by =
    input.produced_by === undefined || input.produced_by === null
      ? null
      : parseRunName(input.produced_by, `${field}.produced_by`);
  return { trained_on, evaluated_on, produced_by, derived_from };
}

export function isEmptyLineage(l: LineageRequest): boolean {
  return !l.trained_on.length && !l.evaluated_on.length && !l.derived_from.length && !l.produced_by;
}

export function tooLarge(field: string, what: string, count: number, max: number): QuiverError {
  return new QuiverError(
    'LINEAGE_TOO_LARGE',
    `A version may record at most ${max} ${what.replace(/_/g, '-')} edges; this request would make ${count}.`,
    { details: { field, max, count } },
  );
}

/** A cycle as users read it: `a/versions/1 → b/versions/2 → a/versions/1`. */
export function cycleError(path: readonly string[]): QuiverError {
  return new QuiverError(
    'LINEAGE_CYCLE',
    `derived_from would create a cycle: ${path.join(' → ')}. A version cannot derive from its own descendants.`,
    { details: { field: 'lineage.derived_from', cycle: [...path] } },
  );
}

/** The depth a graph read may walk: 1..LIMITS.lineageDepth, default 3. */
export function checkDepth(raw: number | undefined): number {
  if (raw === undefined) return 3;
  if (!Number.isInteger(raw) || raw < 1 || raw > LIMITS.lineageDepth) {
    throw new QuiverError('INVALID_ARGUMENT', `depth must be an integer from 1 to ${LIMITS.lineageDepth}.`, {
      details: { field: 'depth', max: LIMITS.lineageDepth },
    });
  }
  return raw;
}
