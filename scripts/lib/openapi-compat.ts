/**
 * Finds changes between two OpenAPI documents that would break an existing client:
 * a removed operation, a new required input, an input no longer accepted, a changed
 * type, a removed response field or success status. Additions are fine.
 * This is the REST half of the 3-year compatibility guard (`buf breaking` is the gRPC half).
 */
type Schema = Record<string, any>;
type Doc = { paths?: Record<string, Record<string, any>>; components?: { schemas?: Record<string, Schema> } };

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

export function breakingChanges(before: Doc, after: Doc): string[] {
  const problems: string[] = [];
  for (const [path, ops] of Object.entries(before.paths ?? {})) {
    for (const method of METHODS) {
      const old = ops[method];
      if (!old) continue;
      const now = after.paths?.[path]?.[method];
      const where = `${method.toUpperCase()} ${path}`;
      if (!now) {
        problems.push(`${where}: operation removed`);
        continue;
      }
      compareParameters(where, old.parameters ?? [], now.parameters ?? [], problems);
      const oldBody = old.requestBody?.content?.['application/json']?.schema;
      const newBody = now.requestBody?.content?.['application/json']?.schema;
      if (!oldBody && newBody && now.requestBody?.required)
        problems.push(`${where}: request body became required`);
      if (oldBody && newBody)
        compareInput(
          `${where} body`,
          resolve(before, oldBody),
          resolve(after, newBody),
          before,
          after,
          problems,
          0,
        );
      for (const [status, response] of Object.entries<any>(old.responses ?? {})) {
        if (!/^2/.test(status)) continue;
        const next = now.responses?.[status];
        if (!next) {
          problems.push(`${where}: success response ${status} removed`);
          continue;
        }
        const a = response.content?.['application/json']?.schema;
        const b = next.content?.['application/json']?.schema;
        if (a && b)
          compareOutput(
            `${where} ${status}`,
            resolve(before, a),
            resolve(after, b),
            before,
            after,
            problems,
            0,
          );
      }
    }
  }
  return problems;
}

function compareParameters(where: string, old: any[], now: any[], problems: string[]) {
  const key = (p: any) => `${p.in}:${p.name}`;
  const oldByKey = new Map(old.map((p) => [key(p), p]));
  for (const p of now) {
    const before = oldByKey.get(key(p));
    if (!before && p.required) problems.push(`${where}: new required ${p.in} parameter '${p.name}'`);
    if (before && p.required && !before.required)
      problems.push(`${where}: ${p.in} parameter '${p.name}' became required`);
    if (before && typeOf(before.schema) !== typeOf(p.schema)) {
      problems.push(
        `${where}: ${p.in} parameter '${p.name}' changed type ${typeOf(before.schema)} → ${typeOf(p.schema)}`,
      );
    }
  }
  const nowKeys = new Set(now.map(key));
  for (const p of old)
    if (!nowKeys.has(key(p))) problems.push(`${where}: ${p.in} parameter '${p.name}' removed`);
}

/** Inputs: every request that was valid must stay valid. */
function compareInput(
  where: string,
  a: Schema,
  b: Schema,
  da: Doc,
  db: Doc,
  problems: string[],
  depth: number,
) {
  if (depth > 20) return;
  if (typeOf(a) !== typeOf(b) && typeOf(b) !== 'any') {
    problems.push(`${where}: type changed ${typeOf(a)} → ${typeOf(b)}`);
    return;
  }
  const oldRequired = new Set<string>(a.required ?? []);
  for (const r of b.required ?? [])
    if (!oldRequired.has(r)) problems.push(`${where}: new required field '${r}'`);
  for (const [name, prop] of Object.entries<Schema>(a.properties ?? {})) {
    const next = b.properties?.[name];
    if (!next) {
      if (b.additionalProperties === false) problems.push(`${where}: field '${name}' no longer accepted`);
      continue;
    }
    compareInput(`${where}.${name}`, resolve(da, prop), resolve(db, next), da, db, problems, depth + 1);
  }
  const oldEnum = enumOf(a);
  const newEnum = enumOf(b);
  if (oldEnum && newEnum) {
    for (const v of oldEnum)
      if (!newEnum.includes(v)) problems.push(`${where}: value ${JSON.stringify(v)} no longer accepted`);
  }
  if (a.items && b.items)
    compareInput(`${where}[]`, resolve(da, a.items), resolve(db, b.items), da, db, problems, depth + 1);
}

/** Outputs: every field a client may read must still be there, with the same type. */
function compareOutput(
  where: string,
  a: Schema,
  b: Schema,
  da: Doc,
  db: Doc,
  problems: string[],
  depth: number,
) {
  if (depth > 20) return;
  if (typeOf(a) !== typeOf(b) && typeOf(a) !== 'any') {
    problems.push(`${where}: type changed ${typeOf(a)} → ${typeOf(b)}`);
    return;
  }
  for (const [name, prop] of Object.entries<Schema>(a.properties ?? {})) {
    const next = b.properties?.[name];
    if (!next) {
      problems.push(`${where}: field '${name}' removed`);
      continue;
    }
    compareOutput(`${where}.${name}`, resolve(da, prop), resolve(db, next), da, db, problems, depth + 1);
  }
  const required = new Set<string>(b.required ?? []);
  for (const r of a.required ?? [])
    if (!required.has(r)) problems.push(`${where}: field '${r}' no longer always present`);
  if (a.items && b.items)
    compareOutput(`${where}[]`, resolve(da, a.items), resolve(db, b.items), da, db, problems, depth + 1);
}

function resolve(doc: Doc, schema: Schema, seen = 0): Schema {
  if (schema?.$ref && seen < 10) {
    const name = String(schema.$ref).replace(/^#\/components\/schemas\//, '');
    const target = doc.components?.schemas?.[name];
    return target ? resolve(doc, target, seen + 1) : schema;
  }
  return schema ?? {};
}

function enumOf(s: Schema): unknown[] | undefined {
  if (Array.isArray(s.enum)) return s.enum;
  const variants = s.anyOf ?? s.oneOf;
  if (Array.isArray(variants) && variants.every((v: Schema) => 'const' in v))
    return variants.map((v: Schema) => v.const);
  return undefined;
}

function typeOf(s: Schema | undefined): string {
  if (!s) return 'any';
  if (typeof s.type === 'string') return s.type;
  if (Array.isArray(s.type)) return [...s.type].sort().join('|');
  if ('const' in s) return typeof s.const === 'number' ? 'number' : typeof s.const;
  const variants = s.anyOf ?? s.oneOf;
  if (Array.isArray(variants)) return [...new Set(variants.map((v: Schema) => typeOf(v)))].sort().join('|');
  if (s.properties) return 'object';
  return 'any';
}
