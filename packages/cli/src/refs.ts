import { QuiverError, type VersionRef } from '@quiver/sdk';

/**
 * The short names users type on the command line, and their resource-name twins:
 *
 *   fraud                      namespaces/fraud
 *   fraud/scorer               namespaces/fraud/models/scorer
 *   fraud/scorer@3             namespaces/fraud/models/scorer/versions/3
 *   fraud/scorer@champion      namespaces/fraud/models/scorer/versions/@champion
 *   fraud/scorer/3, fraud/scorer/@champion
 */
export interface ModelRef {
  namespace: string;
  model: string;
}

export interface VersionRefParts extends ModelRef {
  version: VersionRef;
}

const MODEL_NAME = /^namespaces\/([^/]+)\/models\/([^/@]+)$/;
const VERSION_NAME = /^namespaces\/([^/]+)\/models\/([^/@]+)\/versions\/([^/]+)$/;

function invalid(field: string, message: string): QuiverError {
  return new QuiverError('INVALID_ARGUMENT', message, { details: { reason: 'INVALID_NAME', field } });
}

export function parseNamespace(text: string, field = 'namespace', allowAll = false): string {
  if (allowAll && text === '-') return text;
  const id = text.replace(/^namespaces\//, '');
  if (!id || id.includes('/')) {
    throw invalid(field, `${field}: expected a namespace id such as 'fraud'; got '${text}'.`);
  }
  return id;
}

/** `ns/model` or `namespaces/ns/models/model`. */
export function parseModelRef(text: string, field = 'model'): ModelRef {
  const full = MODEL_NAME.exec(text);
  if (full) return { namespace: full[1]!, model: full[2]! };
  const parts = text.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1] || text.includes('@')) {
    throw invalid(field, `${field}: expected <namespace>/<model>, e.g. fraud/scorer; got '${text}'.`);
  }
  return { namespace: parts[0], model: parts[1] };
}

/** A version on its own: `3`, `@champion`, or a bare alias name `champion`. */
export function parseVersion(text: string, field = 'version'): VersionRef {
  if (/^[1-9][0-9]*$/.test(text)) return Number(text);
  const alias = text.startsWith('@') ? text.slice(1) : text;
  if (!alias || /^[0-9]+$/.test(alias) || alias.includes('@') || alias.includes('/')) {
    throw invalid(
      field,
      `${field}: expected a version number (1, 2, …) or an alias (champion); got '${text}'.`,
    );
  }
  return `@${alias}`;
}

/** `ns/model@ref`, `ns/model/ref` or `namespaces/ns/models/model/versions/ref`. */
export function parseVersionRef(text: string, field = 'version'): VersionRefParts {
  const full = VERSION_NAME.exec(text);
  if (full) return { namespace: full[1]!, model: full[2]!, version: parseVersion(full[3]!, field) };
  const parts = text.split('/');
  const at = text.indexOf('@');
  let model: string;
  let ref: string;
  if (parts.length === 3) {
    model = `${parts[0]}/${parts[1]}`;
    ref = parts[2]!;
  } else if (at > 0) {
    model = text.slice(0, at);
    ref = text.slice(at + 1);
  } else {
    throw invalid(
      field,
      `${field}: expected <namespace>/<model>@<version|alias>, e.g. fraud/scorer@3 or fraud/scorer@champion; got '${text}'.`,
    );
  }
  return { ...parseModelRef(model, field), version: parseVersion(ref, field) };
}

/** The resource name the API uses for a version reference. */
export function versionResourceName(ref: VersionRefParts): string {
  return `namespaces/${ref.namespace}/models/${ref.model}/versions/${ref.version}`;
}

/** How a version reads back to the user: `fraud/scorer@3`, `fraud/scorer@champion`. */
export function formatVersionRef(ref: VersionRefParts): string {
  return `${ref.namespace}/${ref.model}@${String(ref.version).replace(/^@/, '')}`;
}
