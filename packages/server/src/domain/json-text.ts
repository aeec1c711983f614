declare const shape: unique symbol;

/**
 * A resource already serialised as the JSON the REST API answers with (snake_case fields, as the
 * domain objects are). The read cache keeps versions this way: a string is one object for the
 * garbage collector to trace where a parsed version is about twenty, and a batch answer is the
 * cached texts joined rather than each version serialised again.
 */
export type JsonText<T> = string & { readonly [shape]: T };

export function toJsonText<T>(value: T): JsonText<T> {
  return JSON.stringify(value) as JsonText<T>;
}

export function fromJsonText<T>(text: JsonText<T>): T {
  return JSON.parse(text) as T;
}

/** `{"<field>":[…items…],"missing":[…]}`: a batch answer put together from serialised items. */
export function batchJson<T>(
  field: string,
  items: readonly JsonText<T>[],
  missing: readonly string[],
): string {
  return `{${JSON.stringify(field)}:[${items.join(',')}],"missing":${JSON.stringify(missing)}}`;
}
