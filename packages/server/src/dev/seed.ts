import type { VersionStatus } from '../domain/lifecycle.js';
import type { Clock, Ids } from '../ports/clock.js';
import type { BulkVersion } from '../ports/repositories.js';
import type { Store } from '../ports/unit-of-work.js';

export interface SeedOptions {
  models: number;
  versionsPerModel: number;
  /** Models are spread over this many namespaces (`ns-000`, `ns-001`, …); keep it the same across runs that extend a dataset. Default 100. */
  namespaces?: number;
  /** Models written per transaction. */
  batchSize?: number;
  onProgress?: (p: SeedProgress) => void;
}

export interface SeedProgress {
  models: number;
  totalModels: number;
  versions: number;
}

export const SEED_TEAMS = [
  'fraud',
  'risk',
  'vision',
  'nlp',
  'ads',
  'search',
  'health',
  'ops',
  'growth',
  'core',
] as const;
const TIERS = ['gold', 'silver', 'bronze'] as const;

/**
 * Loads a benchmark dataset through the repository layer in bulk: models labelled
 * `team` and `tier`, versions along the lifecycle, `champion` on the newest approved
 * version and `challenger` on the newest. Deterministic for a given size; models that
 * already exist are kept, so a second run only fills in what is missing.
 */
export async function seed(
  store: Store,
  clock: Clock,
  ids: Ids,
  options: SeedOptions,
): Promise<SeedProgress> {
  const nsCount = Math.max(1, options.namespaces ?? 100);
  const batch = options.batchSize ?? 500;
  const perModel = options.versionsPerModel;
  const namespacePks: number[] = [];
  for (let n = 0; n < nsCount; n++) {
    const namespace_id = `ns-${String(n).padStart(3, '0')}`;
    namespacePks.push(
      await store.write(async (repos) => {
        const existing = await repos.namespaces.pkOf(namespace_id);
        if (existing !== undefined) return existing;
        await repos.namespaces.create({
          uid: ids.uid(),
          namespace_id,
          description: 'seeded for benchmarks',
          time: clock.now(),
        });
        return (await repos.namespaces.pkOf(namespace_id))!;
      }),
    );
  }
  const progress: SeedProgress = { models: 0, totalModels: options.models, versions: 0 };
  for (let start = 0; start < options.models; start += batch) {
    const end = Math.min(options.models, start + batch);
    await store.write(async (repos) => {
      const wanted = [];
      for (let i = start; i < end; i++) {
        const ns = i % nsCount;
        const model_id = `model-${String(i).padStart(6, '0')}`;
        wanted.push({ i, ns, model_id });
      }
      const fresh = [];
      for (const w of wanted) {
        if (!(await repos.models.key(`ns-${String(w.ns).padStart(3, '0')}`, w.model_id))) fresh.push(w);
      }
      const time = clock.now();
      const pks = await repos.bulk.insertModels(
        fresh.map((w) => ({
          uid: ids.uid(),
          namespace_pk: namespacePks[w.ns]!,
          model_id: w.model_id,
          description: `Seeded model ${w.i}`,
          // Labels vary within each namespace (model i lives in namespace i % nsCount).
          labels: {
            team: SEED_TEAMS[Math.floor(w.i / nsCount) % SEED_TEAMS.length]!,
            tier: TIERS[w.i % TIERS.length]!,
          },
          aliases: seedAliases(perModel),
          latest_version: perModel,
          time,
        })),
      );
      const versions: BulkVersion[] = [];
      fresh.forEach((w, k) => {
        for (let v = 1; v <= perModel; v++) {
          const status = statusFor(v, perModel);
          const aliases = Object.entries(seedAliases(perModel))
            .filter(([, target]) => target === v)
            .map(([alias]) => alias);
          versions.push({
            uid: ids.uid(),
            model_pk: pks[k]!,
            version: v,
            status,
            description: `Version ${v} of ${w.model_id}`,
            labels: { stage: v === perModel ? 'candidate' : 'released' },
            metadata: { framework: 'onnx', accuracy: 0.8 + (v % 10) / 100 },
            source_uri: `s3://bench/${w.model_id}/v${v}`,
            created_by: 'seed',
            time: time + v,
            aliases,
          });
        }
      });
      await repos.bulk.insertVersions(versions);
      progress.versions += versions.length;
    });
    progress.models = end;
    options.onProgress?.({ ...progress });
  }
  // Fresh statistics let the planner choose between index orders for filtered lists.
  await store.optimize();
  return progress;
}

/** Older versions are further along the lifecycle; the newest is freshly registered. */
function statusFor(v: number, total: number): VersionStatus {
  if (v === total) return 'registered';
  if (v === total - 1) return 'validated';
  if (v === lastApproved(total)) return 'approved';
  if (v === 1 && total > 4) return 'archived';
  return 'deprecated';
}

/** `champion` on the newest approved version, `challenger` on the newest. */
function seedAliases(total: number): Record<string, number> {
  return { champion: lastApproved(total), challenger: total };
}

function lastApproved(total: number): number {
  return Math.max(1, total - 2);
}
