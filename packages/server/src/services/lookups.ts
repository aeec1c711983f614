import { QuiverError } from '../domain/errors.js';
import { assertId, modelName, type VersionRef, versionName } from '../domain/names.js';
import type { ModelKey, Repositories, VersionKey } from '../ports/repositories.js';
import { namespaceNotFound } from './namespace.service.js';

/** Finds a model by its path, telling a missing namespace apart from a missing model. */
export async function requireModel(repos: Repositories, namespace: string, model: string): Promise<ModelKey> {
  assertId('namespace', namespace);
  assertId('model', model);
  const key = await repos.models.key(namespace, model);
  if (key) return key;
  throw await missingModel(repos, namespace, model);
}

/** The error for a model that is not there: its namespace missing, or the model itself. */
export async function missingModel(
  repos: Repositories,
  namespace: string,
  model: string,
): Promise<QuiverError> {
  assertId('namespace', namespace);
  assertId('model', model);
  if ((await repos.namespaces.pkOf(namespace)) === undefined) return namespaceNotFound(namespace);
  return modelNotFound(namespace, model);
}

export function modelNotFound(namespace: string, model: string): QuiverError {
  return new QuiverError('MODEL_NOT_FOUND', `Model '${model}' does not exist in namespace '${namespace}'.`, {
    details: { resource: modelName(namespace, model) },
  });
}

/** Turns `3` or `@champion` into a version number of this model. */
export async function resolveRef(repos: Repositories, model: ModelKey, ref: VersionRef): Promise<number> {
  if (ref.kind === 'number') return ref.version;
  const version = await repos.aliases.resolve(model.pk, ref.alias);
  if (version === undefined) {
    throw new QuiverError('ALIAS_NOT_FOUND', `Model '${model.model_id}' has no alias '${ref.alias}'.`, {
      details: { resource: `${modelName(model.namespace, model.model_id)}/aliases/${ref.alias}` },
    });
  }
  return version;
}

export async function requireVersion(
  repos: Repositories,
  model: ModelKey,
  ref: VersionRef,
): Promise<VersionKey> {
  const number = await resolveRef(repos, model, ref);
  const key = await repos.versions.key(model.pk, number);
  if (!key) throw versionNotFound(model, number);
  return key;
}

export function versionNotFound(model: ModelKey, version: number): QuiverError {
  return new QuiverError(
    'VERSION_NOT_FOUND',
    `Model '${model.model_id}' has no version ${version} (latest is ${model.latest_version || 'none'}).`,
    { details: { resource: versionName(model.namespace, model.model_id, version) } },
  );
}

/** `If-Match` handling shared by every update: a stale ETag fails before anything changes. */
export function checkEtag(ifMatch: string | undefined, current: string): void {
  if (ifMatch === undefined || ifMatch === '*' || ifMatch === current) return;
  throw new QuiverError(
    'ETAG_MISMATCH',
    `The resource changed since it was read (its ETag is now ${current}); read it again and retry.`,
    {
      details: { field: 'If-Match', etag: current },
    },
  );
}

/** The ETag matched, but another write committed before ours (the compare-and-set lost). */
export function staleEtag(): QuiverError {
  return new QuiverError(
    'ETAG_MISMATCH',
    'The resource changed while this update was applied; read it again and retry.',
    {
      details: { field: 'If-Match' },
    },
  );
}
