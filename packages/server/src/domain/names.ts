import { QuiverError } from './errors.js';

/** Ids of namespaces, models and aliases: lowercase letters, digits, `-` and `_`, 1–63 chars, starting with a letter or digit. */
export const ID_PATTERN = '^[a-z0-9][a-z0-9_-]{0,62}$';
const ID_RE = new RegExp(ID_PATTERN);
/** Aliases share the id pattern but may not be all digits, so `@3` can never be confused with version 3. */
export const ALIAS_PATTERN = '^(?![0-9]+$)[a-z0-9][a-z0-9_-]{0,62}$';
const ALIAS_RE = new RegExp(ALIAS_PATTERN);
export const MAX_VERSION = 2_147_483_647;

export function isValidId(id: string): boolean {
  return ID_RE.test(id);
}

export function assertId(kind: string, id: unknown, field = `${kind}_id`): string {
  if (typeof id !== 'string' || !ID_RE.test(id)) {
    throw new QuiverError(
      'INVALID_NAME',
      `${field} must be 1-63 characters of lowercase letters, digits, '-' or '_', starting with a letter or digit; got ${preview(id)}.`,
      { details: { field, pattern: ID_PATTERN } },
    );
  }
  return id;
}

export function assertAlias(alias: unknown, field = 'alias'): string {
  if (typeof alias !== 'string' || !ALIAS_RE.test(alias)) {
    throw new QuiverError(
      'INVALID_NAME',
      `${field} must match ${ALIAS_PATTERN} (an id that is not only digits); got ${preview(alias)}.`,
      { details: { field, pattern: ALIAS_PATTERN } },
    );
  }
  return alias;
}

/** A version reference as users write it: a number (`3`) or an alias (`@champion`). */
export type VersionRef = { kind: 'number'; version: number } | { kind: 'alias'; alias: string };

export function parseVersionRef(raw: string, field = 'version'): VersionRef {
  if (raw.startsWith('@')) return { kind: 'alias', alias: assertAlias(raw.slice(1), field) };
  if (/^[1-9][0-9]{0,9}$/.test(raw)) {
    const version = Number(raw);
    if (version <= MAX_VERSION) return { kind: 'number', version };
  }
  throw new QuiverError(
    'INVALID_ARGUMENT',
    `${field} must be a version number (1, 2, …) or an alias such as @champion; got ${preview(raw)}.`,
    {
      details: { field },
    },
  );
}

export function formatVersionRef(ref: VersionRef): string {
  return ref.kind === 'number' ? String(ref.version) : `@${ref.alias}`;
}

export const namespaceName = (ns: string) => `namespaces/${ns}`;
export const modelName = (ns: string, model: string) => `namespaces/${ns}/models/${model}`;
export const versionName = (ns: string, model: string, version: number) =>
  `namespaces/${ns}/models/${model}/versions/${version}`;

export interface VersionPath {
  namespace: string;
  model: string;
  ref: VersionRef;
}

const VERSION_NAME_RE = /^namespaces\/([^/]+)\/models\/([^/]+)\/versions\/([^/]+)$/;

/** Parses `namespaces/{ns}/models/{model}/versions/{n|@alias}`. */
export function parseVersionName(name: unknown, field = 'name'): VersionPath {
  const m = typeof name === 'string' ? VERSION_NAME_RE.exec(name) : null;
  if (!m) {
    throw new QuiverError(
      'INVALID_NAME',
      `${field} must look like namespaces/{namespace}/models/{model}/versions/{version}; got ${preview(name)}.`,
      { details: { field } },
    );
  }
  return {
    namespace: assertId('namespace', m[1], field),
    model: assertId('model', m[2], field),
    ref: parseVersionRef(m[3]!, field),
  };
}

const MODEL_NAME_RE = /^namespaces\/([^/]+)\/models\/([^/]+)$/;

export function parseModelName(name: unknown, field = 'model'): { namespace: string; model: string } {
  const m = typeof name === 'string' ? MODEL_NAME_RE.exec(name) : null;
  if (!m) {
    throw new QuiverError(
      'INVALID_NAME',
      `${field} must look like namespaces/{namespace}/models/{model}; got ${preview(name)}.`,
      {
        details: { field },
      },
    );
  }
  return { namespace: assertId('namespace', m[1], field), model: assertId('model', m[2], field) };
}

/** A short, safe rendering of user input for error messages. */
export function preview(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
