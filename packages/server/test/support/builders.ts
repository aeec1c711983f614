import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { QuiverError, type Reason } from '../../src/domain/errors.js';
import type { Labels } from '../../src/domain/resources.js';
import type {
  BulkModel,
  BulkVersion,
  ListQuery,
  NewHistoryEntry,
  NewVersion,
} from '../../src/ports/repositories.js';

/** 2024-01-01T00:00:00Z: a fixed clock for stored times. */
export const T0 = Date.UTC(2024, 0, 1);
export const MINUTE = 60_000;

let seq = 0;
/** A process-unique suffix, so tests sharing one store never collide on ids. */
export const unique = (prefix: string) => `${prefix}-${(++seq).toString(36)}-${randomUUID().slice(0, 6)}`;
export const newUid = () => randomUUID();

export function newNamespace(
  overrides: Partial<{ namespace_id: string; description: string; time: number }> = {},
) {
  return { uid: newUid(), namespace_id: unique('ns'), description: '', time: T0, ...overrides };
}

export function newModel(
  namespace_pk: number,
  overrides: Partial<{ model_id: string; description: string; labels: Labels; time: number }> = {},
) {
  return {
    uid: newUid(),
    namespace_pk,
    model_id: unique('model'),
    description: '',
    labels: {},
    time: T0,
    ...overrides,
  };
}

export function newVersion(
  model_pk: number,
  version: number,
  overrides: Partial<NewVersion> = {},
): NewVersion {
  return {
    uid: newUid(),
    model_pk,
    version,
    status: 'registered',
    description: '',
    labels: {},
    metadata: {},
    source_uri: `s3://bucket/models/${model_pk}/${version}`,
    created_by: 'alice',
    time: T0 + version * MINUTE,
    ...overrides,
  };
}

export function newBulkModel(namespace_pk: number, overrides: Partial<BulkModel> = {}): BulkModel {
  return {
    uid: newUid(),
    namespace_pk,
    model_id: unique('bulk'),
    description: '',
    labels: {},
    aliases: {},
    latest_version: 0,
    time: T0,
    ...overrides,
  };
}

export function newBulkVersion(
  model_pk: number,
  version: number,
  overrides: Partial<BulkVersion> = {},
): BulkVersion {
  return { ...newVersion(model_pk, version), aliases: [], ...overrides };
}

export function newHistoryEntry(
  model_pk: number,
  version: number,
  overrides: Partial<NewHistoryEntry> = {},
): NewHistoryEntry {
  return {
    model_pk,
    version,
    kind: 'transition',
    from_status: 'registered',
    to_status: 'validated',
    alias: null,
    actor: 'alice',
    reason: '',
    time: T0,
    ...overrides,
  };
}

export function listQuery(overrides: Partial<ListQuery> = {}): ListQuery {
  return {
    filter: null,
    orderBy: { field: 'create_time', desc: false },
    after: null,
    limit: 1000,
    ...overrides,
  };
}

/** Awaits a rejection and checks it is a QuiverError with this reason; returns it for more checks. */
export async function expectQuiverError(promise: Promise<unknown>, reason: Reason): Promise<QuiverError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a QuiverError ${reason}`).toBeInstanceOf(QuiverError);
  expect((err as QuiverError).reason).toBe(reason);
  return err as QuiverError;
}
