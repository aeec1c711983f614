import { QuiverError } from '../domain/errors.js';
import {
  DATASET_DIGEST_PATTERN,
  type Dataset,
  type DatasetVersion,
  datasetName,
  datasetVersionName,
  URI_PATTERN,
} from '../domain/lineage.js';
import { assertId, preview } from '../domain/names.js';
import { type PageTokenCodec, pageSize } from '../domain/page-token.js';
import type { Labels, Page } from '../domain/resources.js';
import { checkLabels, checkMetadata, checkText, LIMITS } from '../domain/validation.js';
import type { Clock, Ids } from '../ports/clock.js';
import type { DatasetKey } from '../ports/lineage.repositories.js';
import type { Repositories } from '../ports/repositories.js';
import type { UnitOfWork } from '../ports/unit-of-work.js';
import type { CallContext, ListRequest } from './context.js';
import { listPage } from './listing.js';
import type { Mutations } from './mutations.js';
import { namespaceNotFound } from './namespace.service.js';

export interface DatasetServiceDeps {
  store: UnitOfWork;
  /** Every change goes through here: idempotency, the audit log, cache invalidation. */
  mutations: Mutations;
  clock: Clock;
  ids: Ids;
  tokens: PageTokenCodec;
}

export interface NewDatasetVersionInput {
  uri: string;
  digest: string;
  size_bytes?: number | undefined;
  format?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
}

const DIGEST_RE = new RegExp(DATASET_DIGEST_PATTERN);
const URI_RE = new RegExp(URI_PATTERN);
const FORMAT_RE = /^[a-z0-9][a-z0-9.+_-]{0,31}$/;

/** Datasets (`namespaces/{ns}/datasets/{dataset}`) and their immutable versions, identified by URI + digest. */
export class DatasetService {
  constructor(private readonly deps: DatasetServiceDeps) {}

  async create(
    ctx: CallContext,
    namespace: string,
    input: { dataset_id: string; description?: string | undefined; labels?: Labels | undefined },
  ): Promise<Dataset> {
    assertId('namespace', namespace);
    const dataset_id = assertId('dataset', input.dataset_id);
    const description = checkText(input.description, 'description', LIMITS.description);
    const labels = checkLabels(input.labels);
    const { clock, ids } = this.deps;
    return this.deps.mutations.run(
      ctx,
      {
        action: 'CreateDataset',
        resource: datasetName(namespace, dataset_id),
        request: { namespace, dataset_id, description, labels },
      },
      async (repos) => {
        const namespace_pk = await repos.namespaces.pkOf(namespace);
        if (namespace_pk === undefined) throw namespaceNotFound(namespace);
        const time = clock.now();
        await repos.datasets.create({ uid: ids.uid(), namespace_pk, dataset_id, description, labels, time });
        return (await repos.datasets.get(namespace, dataset_id))!;
      },
    );
  }

  async get(_ctx: CallContext, namespace: string, dataset: string): Promise<Dataset> {
    return this.deps.store.read(async (repos) => {
      await requireDataset(repos, namespace, dataset);
      return (await repos.datasets.get(namespace, dataset))!;
    });
  }

  async list(_ctx: CallContext, namespace: string, request: ListRequest): Promise<Page<Dataset>> {
    assertId('namespace', namespace);
    return this.deps.store.read(async (repos) => {
      const pk = await repos.namespaces.pkOf(namespace);
      if (pk === undefined) throw namespaceNotFound(namespace);
      return listPage(this.deps.tokens, 'datasets', namespace, request, (query) =>
        repos.datasets.list(pk, query),
      );
    });
  }

  /** Records the next version of a dataset: what the data was (URI + digest) when a model used it. */
  async createVersion(
    ctx: CallContext,
    namespace: string,
    dataset: string,
    input: NewDatasetVersionInput,
  ): Promise<DatasetVersion> {
    const uri = checkText(input.uri, 'uri', LIMITS.uri);
    if (!URI_RE.test(uri)) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `uri must be a URI with a scheme (s3://…, gs://…, file:///…); got ${preview(uri)}.`,
        {
          details: { field: 'uri' },
        },
      );
    }
    if (typeof input.digest !== 'string' || !DIGEST_RE.test(input.digest)) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `digest must be algorithm:hex (e.g. sha256:…), matching ${DATASET_DIGEST_PATTERN}; got ${preview(input.digest)}.`,
        { details: { field: 'digest', pattern: DATASET_DIGEST_PATTERN } },
      );
    }
    const size_bytes = input.size_bytes ?? null;
    if (size_bytes !== null && (!Number.isSafeInteger(size_bytes) || size_bytes < 0)) {
      throw new QuiverError('INVALID_ARGUMENT', 'size_bytes must be a non-negative integer.', {
        details: { field: 'size_bytes' },
      });
    }
    const format = input.format ?? null;
    if (format !== null && !FORMAT_RE.test(format)) {
      throw new QuiverError(
        'INVALID_ARGUMENT',
        `format must match ${FORMAT_RE.source} (parquet, csv, tfrecord…).`,
        {
          details: { field: 'format' },
        },
      );
    }
    const metadata = checkMetadata(input.metadata);
    const { clock, ids } = this.deps;
    const digest = input.digest;
    return this.deps.mutations.run(
      ctx,
      {
        action: 'CreateDatasetVersion',
        resource: datasetName(namespace, dataset),
        request: { namespace, dataset, uri, digest, size_bytes, format, metadata },
      },
      async (repos) => {
        const key = await requireDataset(repos, namespace, dataset);
        const time = clock.now();
        // Taking the number first locks the dataset row, so the duplicate check below cannot race.
        const version = await repos.datasets.nextVersion(key.pk, time);
        const existing = await repos.datasets.findVersion(key.pk, uri, digest);
        if (existing !== undefined) {
          const name = datasetVersionName(namespace, dataset, existing);
          throw new QuiverError('DATASET_VERSION_EXISTS', `${name} already records this URI and digest.`, {
            details: { resource: name },
          });
        }
        await repos.datasets.insertVersion({
          uid: ids.uid(),
          dataset_pk: key.pk,
          version,
          uri,
          digest,
          size_bytes,
          format,
          metadata,
          created_by: ctx.actor.principal,
          time,
        });
        return (await repos.datasets.getVersion(key.pk, version))!;
      },
    );
  }

  async getVersion(
    _ctx: CallContext,
    namespace: string,
    dataset: string,
    version: number,
  ): Promise<DatasetVersion> {
    return this.deps.store.read(async (repos) => {
      const key = await requireDataset(repos, namespace, dataset);
      const found = await repos.datasets.getVersion(key.pk, version);
      if (!found) throw datasetVersionNotFound(namespace, dataset, version, key);
      return found;
    });
  }

  async listVersions(
    _ctx: CallContext,
    namespace: string,
    dataset: string,
    request: { page_size?: number | undefined; page_token?: string | undefined },
  ): Promise<Page<DatasetVersion>> {
    return this.deps.store.read(async (repos) => {
      const key = await requireDataset(repos, namespace, dataset);
      const limit = pageSize(request.page_size);
      const query = `dataset versions ${namespace}/${dataset}`;
      const after = request.page_token ? Number(this.deps.tokens.decode(query, request.page_token)[0]) : null;
      const rows = await repos.datasets.listVersions(key.pk, after, limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((r) => r.item),
        next_page_token: rows.length > limit && last ? this.deps.tokens.encode(query, last.keyset) : '',
      };
    });
  }
}

/** Finds a dataset by its path, telling a missing namespace apart from a missing dataset. */
export async function requireDataset(
  repos: Repositories,
  namespace: string,
  dataset: string,
): Promise<DatasetKey> {
  assertId('namespace', namespace);
  assertId('dataset', dataset);
  const key = await repos.datasets.key(namespace, dataset);
  if (key) return key;
  if ((await repos.namespaces.pkOf(namespace)) === undefined) throw namespaceNotFound(namespace);
  throw new QuiverError(
    'DATASET_NOT_FOUND',
    `Dataset '${dataset}' does not exist in namespace '${namespace}'.`,
    {
      details: { resource: datasetName(namespace, dataset) },
    },
  );
}

export function datasetVersionNotFound(
  namespace: string,
  dataset: string,
  version: number,
  key: DatasetKey,
): QuiverError {
  const name = datasetVersionName(namespace, dataset, version);
  return new QuiverError(
    'DATASET_VERSION_NOT_FOUND',
    `Dataset '${dataset}' has no version ${version} (latest is ${key.latest_version || 'none'}).`,
    { details: { resource: name } },
  );
}
