import { QuiverError } from '../domain/errors.js';
import { fromJsonText, type JsonText, toJsonText } from '../domain/json-text.js';
import {
  assertTransition,
  isVersionStatus,
  VERSION_STATUSES,
  type VersionStatus,
} from '../domain/lifecycle.js';
import { checkLineageRequest } from '../domain/lineage.js';
import {
  assertId,
  formatVersionRef,
  modelName,
  parseVersionName,
  type VersionRef,
  versionName,
} from '../domain/names.js';
import { type PageTokenCodec, pageSize } from '../domain/page-token.js';
import {
  etagOf,
  type HistoryEntry,
  type JsonObject,
  type Labels,
  type Page,
  rfc3339,
  type Version,
  type VersionStatusView,
} from '../domain/resources.js';
import { checkLabels, checkMetadata, checkText, LIMITS } from '../domain/validation.js';
import type { ReadCache } from '../ports/cache.js';
import type { Clock, Ids } from '../ports/clock.js';
import type { ModelKey, Repositories, VersionKey, VersionLookup } from '../ports/repositories.js';
import type { UnitOfWork } from '../ports/unit-of-work.js';
import { cachedMember, cacheKeys, cacheTags, versionMember } from './cached-reads.js';
import type { CallContext, ListRequest } from './context.js';
import { assertMayReference } from './lineage-access.js';
import { recordLineage } from './lineage-record.js';
import { listPage } from './listing.js';
import {
  checkEtag,
  missingModel,
  requireModel,
  requireVersion,
  resolveRef,
  staleEtag,
  versionNotFound,
} from './lookups.js';
import { type ArtifactRef, describeArtifact, type ModelArtifactDeps } from './model-artifacts.js';
import type { Mutations } from './mutations.js';

export interface VersionServiceDeps {
  store: UnitOfWork;
  /** Every change goes through here: idempotency, the audit log, cache invalidation. */
  mutations: Mutations;
  clock: Clock;
  ids: Ids;
  tokens: PageTokenCodec;
  /** Version reads are served from here while no change has touched their model. */
  cache: ReadCache;
  /** Reads artifacts to detect their format and signature. */
  models: ModelArtifactDeps;
}

export interface NewVersionInput {
  description?: string | undefined;
  labels?: Labels | undefined;
  metadata?: JsonObject | undefined;
  source_uri?: string | undefined;
  artifact?: ArtifactRef | undefined;
  /** Lineage to record with the version (the same shape as `:recordLineage` takes). */
  lineage?: unknown;
}

export const MAX_BATCH_GET = 1000;

export class VersionService {
  constructor(private readonly deps: VersionServiceDeps) {}

  /** Registers the next version of a model. Numbers are 1, 2, 3… without gaps, also under concurrent creators. */
  async create(ctx: CallContext, namespace: string, model: string, input: NewVersionInput): Promise<Version> {
    const description = checkText(input.description, 'description', LIMITS.description);
    const labels = checkLabels(input.labels);
    const metadata = checkMetadata(input.metadata);
    const source_uri = checkText(input.source_uri, 'source_uri', LIMITS.sourceUri);
    const lineage = input.lineage === undefined ? null : checkLineageRequest(input.lineage);
    if (lineage) assertMayReference(ctx, lineage);
    const { clock, ids } = this.deps;
    // Parsing a model happens before the transaction: it must not hold the write lock.
    const artifact = input.artifact ? await describeArtifact(this.deps.models, input.artifact) : null;
    const request = {
      namespace,
      model,
      description,
      labels,
      metadata,
      source_uri,
      artifact: input.artifact ?? null,
      // Only present when given, so the fingerprint of a request without lineage is as before.
      ...(lineage ? { lineage } : {}),
    };
    return this.deps.mutations.run(
      ctx,
      { action: 'CreateVersion', resource: modelName(namespace, model), request: request },
      async (repos) => {
        assertId('namespace', namespace);
        assertId('model', model);
        const time = clock.now();
        const uid = ids.uid();
        const status: VersionStatus = 'registered';
        const created_by = ctx.actor.principal;
        const key = await repos.versions.register(namespace, model, {
          uid,
          status,
          description,
          labels,
          metadata,
          source_uri,
          created_by,
          time,
          artifact_digest: artifact?.digest ?? null,
          artifact_format: artifact?.format ?? null,
        });
        // No such model: the lookup names what is missing, the namespace or the model.
        if (!key) throw await missingModel(repos, namespace, model);
        const version = key.latest_version;
        if (lineage) {
          const vkey = (await repos.versions.key(key.pk, version))!;
          await recordLineage(repos, ctx, key, vkey, lineage, time);
        }
        return {
          name: versionName(namespace, model, version),
          uid,
          model: modelName(namespace, model),
          version,
          status,
          description,
          labels,
          metadata,
          source_uri,
          artifact: artifact
            ? {
                digest: artifact.digest,
                size_bytes: artifact.size_bytes,
                media_type: artifact.media_type,
                format: artifact.format,
              }
            : null,
          signature: artifact?.signature ?? null,
          aliases: [],
          created_by,
          create_time: rfc3339(time),
          update_time: rfc3339(time),
          etag: etagOf(1, uid),
        };
      },
    );
  }

  /** A version, from the read cache (where versions are kept serialised) while its model is unchanged. */
  async get(ctx: CallContext, namespace: string, model: string, ref: VersionRef): Promise<Version> {
    return fromJsonText(await this.getJson(ctx, namespace, model, ref));
  }

  async getJson(
    _ctx: CallContext,
    namespace: string,
    model: string,
    ref: VersionRef,
  ): Promise<JsonText<Version>> {
    const key = cacheKeys.versions(namespace, model);
    return cachedMember(this.deps.cache, key, formatVersionRef(ref), versionTags(namespace, model), () =>
      this.deps.store.read(async (repos) => {
        const key = await requireModel(repos, namespace, model);
        return toJsonText(await this.#load(repos, key, await resolveRef(repos, key, ref)));
      }),
    );
  }

  async list(
    _ctx: CallContext,
    namespace: string,
    model: string,
    request: ListRequest,
  ): Promise<Page<Version>> {
    return this.deps.store.read(async (repos) => {
      const key = await requireModel(repos, namespace, model);
      return listPage(this.deps.tokens, 'versions', `${namespace}/${model}`, request, (query) =>
        repos.versions.list(key.pk, query),
      );
    });
  }

  /** Edits what may change after creation: description and labels. Everything else is immutable. */
  async update(
    ctx: CallContext,
    namespace: string,
    model: string,
    ref: VersionRef,
    patch: { description?: string | undefined; labels?: Labels | undefined },
    ifMatch?: string,
  ): Promise<Version> {
    const clean: { description?: string; labels?: Labels } = {};
    if (patch.description !== undefined)
      clean.description = checkText(patch.description, 'description', LIMITS.description);
    if (patch.labels !== undefined) clean.labels = checkLabels(patch.labels);
    const { clock } = this.deps;
    const request = { namespace, model, ref, clean, ifMatch };
    return this.deps.mutations.run(
      ctx,
      {
        action: 'UpdateVersion',
        resource: `${modelName(namespace, model)}/versions/${formatVersionRef(ref)}`,
        request: request,
      },
      async (repos) => {
        const key = await requireModel(repos, namespace, model);
        const number = await resolveRef(repos, key, ref);
        // One read gives both the ETag to check and the revision to compare-and-set on.
        const vkey = await repos.versions.key(key.pk, number);
        if (!vkey) throw versionNotFound(key, number);
        checkEtag(ifMatch, etagOf(vkey.revision, vkey.uid));
        const time = clock.now();
        if (!(await repos.versions.update(vkey.pk, vkey.revision, clean, time))) {
          if (ifMatch !== undefined) throw staleEtag();
          throw new QuiverError(
            'CONCURRENT_UPDATE',
            `Version ${number} changed while it was being updated; retry.`,
            {
              details: { resource: versionName(namespace, model, number) },
            },
          );
        }
        const fields = Object.keys(clean).join(', ');
        await repos.history.append({
          ...historyBase(key, number, ctx, time),
          kind: 'updated',
          reason: `changed ${fields}`,
        });
        return this.#load(repos, key, number);
      },
    );
  }

  /** Moves a version along its lifecycle; illegal steps fail and name the allowed ones. */
  async transition(
    ctx: CallContext,
    namespace: string,
    model: string,
    ref: VersionRef,
    input: { status: string; reason?: string | undefined },
  ): Promise<Version> {
    if (!isVersionStatus(input.status)) {
      throw new QuiverError('INVALID_ARGUMENT', `status must be one of ${VERSION_STATUSES.join(', ')}.`, {
        details: { field: 'status', allowed: [...VERSION_STATUSES] },
      });
    }
    const to = input.status;
    const reason = checkText(input.reason, 'reason', LIMITS.reason);
    const { clock } = this.deps;
    return this.deps.mutations.run(
      ctx,
      {
        action: 'TransitionVersion',
        resource: `${modelName(namespace, model)}/versions/${formatVersionRef(ref)}`,
        request: { namespace, model, ref, to, reason },
      },
      async (repos) => {
        const key = await requireModel(repos, namespace, model);
        const vkey = await requireVersion(repos, key, ref);
        assertTransition(vkey.status, to);
        if (to === 'approved') await checkSeparationOfDuties(repos, key, vkey, ctx);
        const time = clock.now();
        if (!(await repos.versions.setStatus(vkey.pk, vkey.status, to, time))) {
          // Another writer moved it first: judge the request against the status it has now.
          const now = (await repos.versions.key(key.pk, vkey.version))!;
          assertTransition(now.status, to);
          throw new QuiverError(
            'CONCURRENT_UPDATE',
            `Version ${vkey.version} changed status concurrently; retry.`,
          );
        }
        await repos.history.append({
          ...historyBase(key, vkey.version, ctx, time),
          kind: 'transition',
          from_status: vkey.status,
          to_status: to,
          reason,
        });
        return this.#load(repos, key, vkey.version);
      },
    );
  }

  async history(
    _ctx: CallContext,
    namespace: string,
    model: string,
    ref: VersionRef,
    request: { page_size?: number | undefined; page_token?: string | undefined },
  ): Promise<Page<HistoryEntry>> {
    return this.deps.store.read(async (repos) => {
      const key = await requireModel(repos, namespace, model);
      const vkey = await requireVersion(repos, key, ref);
      const limit = pageSize(request.page_size);
      const query = `history ${namespace}/${model}/${vkey.version}`;
      const after = request.page_token ? Number(this.deps.tokens.decode(query, request.page_token)[0]) : null;
      const rows = await repos.history.list(key.pk, vkey.version, after, limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((r) => r.item),
        next_page_token: rows.length > limit && last ? this.deps.tokens.encode(query, last.keyset) : '',
      };
    });
  }

  /**
   * Reads up to 1000 versions by name in a bounded number of queries; cached versions cost none,
   * and the ones read are kept for the next reader while the cache has free room. The versions
   * come serialised (as the cache keeps them), ready to be joined into the answer.
   */
  batchGet(
    _ctx: CallContext,
    names: readonly string[],
  ): Promise<{ versions: JsonText<Version>[]; missing: string[] }> {
    return this.#batch(names, 'version', (repos, lookups) => repos.versions.batchGet(lookups));
  }

  /**
   * The batch status query: up to 1000 versions' name, number, status, update time and ETag.
   * Statuses in the read cache answer from memory; the others are read through a narrower query
   * than batchGet's (no labels, metadata or artifact), and kept as small status entries (into
   * free room only) that the next change to their model drops. The answer is a tenth of batchGet's.
   */
  batchGetStatus(
    _ctx: CallContext,
    names: readonly string[],
  ): Promise<{ versions: JsonText<VersionStatusView>[]; missing: string[] }> {
    return this.#batch(names, 'status', (repos, lookups) => repos.versions.batchGetStatus(lookups));
  }

  /**
   * A batch read through the cache. A name is looked up as it came: only well-formed names are
   * ever cached, so a hit needs no parsing, and each miss is parsed (and checked) before the
   * store is asked for all of them at once. What is read goes into the cache's free room only:
   * a sweep over thousands of versions never evicts the hot entries.
   */
  async #batch<T>(
    names: readonly string[],
    kind: 'version' | 'status',
    read: (repos: Repositories, lookups: VersionLookup[]) => Promise<{ index: number; version: T }[]>,
  ): Promise<{ versions: JsonText<T>[]; missing: string[] }> {
    checkBatch(names);
    const { cache } = this.deps;
    const found: (JsonText<T> | undefined)[] = new Array(names.length);
    const misses: Wanted[] = [];
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const at = cache.enabled ? versionMember(name, kind) : undefined;
      const hit = at && cache.getMember<JsonText<T>>(at.key, at.member);
      if (hit !== undefined) found[i] = hit;
      else misses.push(wanted(name, i, kind));
    }
    if (misses.length > 0) {
      const ticket = cache.ticket();
      const rows = await this.deps.store.read((repos) =>
        read(
          repos,
          misses.map((w) => w.lookup),
        ),
      );
      for (const { index, version } of rows) {
        const w = misses[index]!;
        const text = toJsonText(version);
        found[w.index] = text;
        cache.offerMember(w.key, w.member, text, w.tags, ticket);
      }
    }
    return collect(names, found);
  }

  async #load(repos: Repositories, key: ModelKey, version: number): Promise<Version> {
    const found = await repos.versions.get(key.pk, version);
    if (!found) throw versionNotFound(key, version);
    return found;
  }
}

function historyBase(key: ModelKey, version: number, ctx: CallContext, time: number) {
  return {
    model_pk: key.pk,
    version,
    from_status: null,
    to_status: null,
    alias: null,
    actor: ctx.actor.principal,
    reason: '',
    time,
  };
}

function versionTags(namespace: string, model: string): string[] {
  return [cacheTags.namespace(namespace), cacheTags.versions(namespace, model)];
}

/** With separation of duties on in the namespace, the creator of a version may not approve it. */
async function checkSeparationOfDuties(
  repos: Repositories,
  key: ModelKey,
  version: VersionKey,
  ctx: CallContext,
): Promise<void> {
  const policy = await repos.policies.get(key.namespace);
  if (!policy?.separation_of_duties || version.created_by !== ctx.actor.principal) return;
  throw new QuiverError(
    'SEPARATION_OF_DUTIES',
    `Namespace '${key.namespace}' separates duties: '${ctx.actor.principal}' created version ${version.version} and may not approve it; another principal with versions.approve must.`,
    {
      details: {
        resource: versionName(key.namespace, key.model_id, version.version),
        created_by: version.created_by,
      },
    },
  );
}

interface Wanted {
  index: number;
  /** The cache group (the model's versions or statuses) and member (the version) of what is read. */
  key: string;
  member: string;
  tags: string[];
  lookup: VersionLookup;
}

function checkBatch(names: readonly string[]): void {
  if (!Array.isArray(names)) {
    throw new QuiverError('INVALID_ARGUMENT', 'names must be an array of version resource names.', {
      details: { field: 'names' },
    });
  }
  if (names.length > MAX_BATCH_GET) {
    throw new QuiverError(
      'TOO_MANY_ITEMS',
      `names may hold at most ${MAX_BATCH_GET} entries; got ${names.length}.`,
      {
        details: { field: 'names', max: MAX_BATCH_GET },
      },
    );
  }
}

/** Checks one name of a batch (the `index`th) and keys it for the cache. */
function wanted(name: string, index: number, kind: 'version' | 'status'): Wanted {
  const path = parseVersionName(name, `names[${index}]`);
  const ref = formatVersionRef(path.ref);
  return {
    index,
    key: (kind === 'version' ? cacheKeys.versions : cacheKeys.statuses)(path.namespace, path.model),
    member: ref,
    tags: versionTags(path.namespace, path.model),
    lookup:
      path.ref.kind === 'number'
        ? { namespace: path.namespace, model: path.model, version: path.ref.version }
        : { namespace: path.namespace, model: path.model, alias: path.ref.alias },
  };
}

/** The found items in the order asked, and the names that named nothing. */
function collect<T>(
  names: readonly string[],
  found: readonly (T | undefined)[],
): { versions: T[]; missing: string[] } {
  const versions: T[] = [];
  const missing: string[] = [];
  for (let i = 0; i < names.length; i++) {
    const item = found[i];
    if (item) versions.push(item);
    else missing.push(names[i]!);
  }
  return { versions, missing };
}
