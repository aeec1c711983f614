/**
 * The vocabulary guard (DESIGN.md: "one vocabulary, one set of names across REST and gRPC"):
 * the names of resources and fields that appear in both the OpenAPI document and the proto
 * files must be spelled the same. Two spellings are "the same name" when they differ only in
 * case, `_` or `-` (`model_name`, `modelName`, `ModelName`); such a pair is a finding.
 */

export interface Vocabulary {
  /** Field names (JSON properties, query and path parameters; proto fields). */
  fields: Set<string>;
  /** Resource and message names (schema names and titles; proto messages, enums, services). */
  types: Set<string>;
}

/** Names that JSON must spell as another standard does, not as Quiver would (OpenLineage's camelCase). */
export const FOREIGN_SPELLINGS = new Set(['eventType', 'eventTime', 'runId', 'schemaURL']);

const fold = (name: string) => name.toLowerCase().replace(/[_-]/g, '');

/** Every name spelled differently on the two sides, as `openapi ≠ proto` lines. */
export function spellingConflicts(openapi: Vocabulary, proto: Vocabulary): string[] {
  const out: string[] = [];
  for (const kind of ['fields', 'types'] as const) {
    const protoByFold = new Map<string, Set<string>>();
    for (const name of proto[kind]) {
      const set = protoByFold.get(fold(name)) ?? new Set<string>();
      set.add(name);
      protoByFold.set(fold(name), set);
    }
    for (const name of [...openapi[kind]].sort()) {
      if (FOREIGN_SPELLINGS.has(name)) continue;
      for (const other of protoByFold.get(fold(name)) ?? []) {
        if (other !== name) out.push(`${kind}: OpenAPI '${name}' ≠ proto '${other}'`);
      }
    }
  }
  return out;
}

type Json = Record<string, unknown>;

/** The names an OpenAPI document uses: schema property names, parameters, schema names and titles. */
export function openApiVocabulary(doc: Json): Vocabulary {
  const fields = new Set<string>();
  const types = new Set<string>(Object.keys((doc.components as Json | undefined)?.schemas ?? {}));
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const n = node as Json;
    if (typeof n.in === 'string' && typeof n.name === 'string') fields.add(n.name);
    if (typeof n.title === 'string') types.add(n.title);
    if (typeof n.properties === 'object' && n.properties !== null) {
      for (const key of Object.keys(n.properties)) fields.add(key);
    }
    for (const value of Object.values(n)) walk(value);
  };
  walk(doc.paths);
  walk(doc.components);
  return { fields, types };
}

interface ProtoNode {
  name: string;
  fieldsArray?: { name: string }[];
  nestedArray?: ProtoNode[];
  methodsArray?: unknown[];
  values?: Record<string, number>;
}

/** The names of a loaded protobufjs root: fields, messages, enums and services (not packages). */
export function protoVocabulary(root: ProtoNode): Vocabulary {
  const fields = new Set<string>();
  const types = new Set<string>();
  const walk = (node: ProtoNode, isRoot: boolean) => {
    const isPackage = !node.fieldsArray && !node.values && !node.methodsArray;
    if (!isRoot && !isPackage) types.add(node.name);
    for (const f of node.fieldsArray ?? []) fields.add(f.name);
    for (const child of node.nestedArray ?? []) walk(child, false);
  };
  walk(root, true);
  return { fields, types };
}
