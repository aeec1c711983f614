import type { Span, Tracer } from '@opentelemetry/api';
import { pickByWeight } from '../../domain/deployments.js';
import { QuiverError } from '../../domain/errors.js';
import { parseVersionRef } from '../../domain/names.js';
import { checkInputs, checkRequestedOutputs } from '../../domain/tensor-check.js';
import type { Tensor } from '../../domain/tensors.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import type { Clock } from '../../ports/clock.js';
import type { ServingMetrics } from '../../ports/metrics.js';
import type { LoadedModel, ModelRuntime } from '../../ports/model-runtime.js';
import type { DeploymentRecord, DeploymentStatus, ResolvedTarget } from '../../ports/serving.repositories.js';
import type { UnitOfWork } from '../../ports/unit-of-work.js';
import { withSpan } from '../../telemetry/tracing.js';
import type { CallContext } from '../context.js';
import { deploymentNotFound } from '../deployment.service.js';
import { DynamicBatcher } from './batcher.js';
import type { Inference, InferRequest, InferResult, ModelMetadata } from './types.js';

export interface InferenceServiceDeps {
  store: UnitOfWork;
  runtime: ModelRuntime;
  artifacts: ArtifactStore;
  clock: Clock;
  version: string;
  /** How often the deployment table is re-read (rollouts done by other processes show up within this). */
  refreshMs?: number;
  logger?: { warn(o: object, m: string): void };
  /** Inference durations, batch sizes and model load times. */
  metrics?: ServingMetrics;
  /** When tracing: `model.infer` and `model.load` spans. */
  tracer?: Tracer | undefined;
}

const ALIAS_TTL_MS = 1_000;
/** How often one deployment name may be looked up in the database when the table cannot answer. */
const RECHECK_MS = 100;

const servable = (d: DeploymentRecord) => d.status !== 'deleting' && d.resolved.length > 0;

/** Every how many refreshes the whole deployment table is read again (deletions by other instances show up then). */
const FULL_READ_EVERY = 30;
/** Incremental reads look this far back, for changes stamped by instances whose clocks run behind. */
const CLOCK_OVERLAP_MS = 5_000;
/**
 * Deployments per read of the table. Requests get the event loop between pages: reading 250,000
 * deployments at once held it for seconds, and a second's 3,000 new deployments (re-read for
 * five seconds by the overlap) for tens of milliseconds, every refresh.
 */
const READ_PAGE = 500;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Serves deployments. Keeps the deployment table in memory (re-read periodically and on
 * in-process changes), routes each request to a version by the traffic split, a version
 * number or an alias, loads models on demand (a process that did not run the rollout), checks
 * inputs against the model's signature, and runs them, merged into batches when configured.
 */
export class InferenceService implements Inference {
  readonly #table = new Map<string, DeploymentRecord>();
  readonly #batchers = new Map<string, DynamicBatcher>();
  readonly #loading = new Map<string, Promise<LoadedModel>>();
  readonly #aliases = new Map<string, { version: number | undefined; until: number }>();
  readonly #rechecked = new Map<string, number>();
  readonly #checks = new Map<string, Promise<DeploymentRecord | undefined>>();
  #refreshing: Promise<void> | undefined;
  #refreshAgain = false;
  /** A counter that orders table snapshots and stores (a logical clock). */
  #stamp = 0;
  readonly #storedAt = new Map<string, number>();
  #loaded = false;
  #timer: NodeJS.Timeout | undefined;
  #lastFullRead = Number.NEGATIVE_INFINITY;
  /** Every 30 refresh periods (30 s by default) the whole table is read again. */
  readonly #fullReadMs: number;
  /** update_time from which the next incremental read starts. */
  #changesFrom = 0;

  constructor(private readonly deps: InferenceServiceDeps) {
    this.#fullReadMs = (deps.refreshMs ?? 1_000) * FULL_READ_EVERY;
  }

  async start(): Promise<void> {
    await this.refresh();
    const tick = () => {
      this.#timer = setTimeout(() => void this.refresh().finally(tick), this.deps.refreshMs ?? 1_000);
      this.#timer.unref();
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.#timer);
  }

  /**
   * Brings the table up to date. Most refreshes read only the deployments changed since the last
   * one (an index range on update_time, with an overlap for clocks of other instances); every
   * FULL_READ_EVERY refresh periods the whole table is read again, which is how deletions made by other instances
   * show up (a deletion in this process is seen at once through `changed`). Refreshes run one at
   * a time, and an entry is only replaced by a newer revision of itself: a slow read that started
   * before a rollout committed can never put an older state back.
   */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#refreshAgain = false;
        const full = performance.now() - this.#lastFullRead >= this.#fullReadMs;
        await (full ? this.#readTable() : this.#readChanges());
      } while (this.#refreshAgain);
    })().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #readTable(): Promise<void> {
    const started = ++this.#stamp;
    const readAt = performance.now();
    try {
      const seen = new Set<string>();
      let latest = 0;
      for (let after: number | null = null; ; await nextTurn()) {
        const page = await this.deps.store.read((repos) => repos.deployments.list(after, READ_PAGE));
        for (const d of page) {
          seen.add(d.deployment_id);
          this.#remember(d);
        }
        latest = newest(page, latest);
        if (page.length < READ_PAGE) break;
        after = page.at(-1)!.pk;
      }
      this.#changesFrom = latest - CLOCK_OVERLAP_MS;
      // Only entries stored before this snapshot began may be dropped for being absent from it.
      for (const [id, storedAt] of [...this.#storedAt]) {
        if (!seen.has(id) && storedAt < started) this.#forget(id);
      }
      this.#lastFullRead = readAt;
      this.#loaded = true;
    } catch (err) {
      this.deps.logger?.warn({ err }, 'could not refresh the deployment table');
    }
  }

  async #readChanges(): Promise<void> {
    try {
      let latest = this.#changesFrom;
      for (let from = { time: this.#changesFrom, pk: 0 }; ; await nextTurn()) {
        const page = await this.deps.store.read((repos) => repos.deployments.changedSince(from, READ_PAGE));
        for (const d of page) this.#remember(d);
        latest = newest(page, latest);
        const last = page.at(-1);
        if (!last || page.length < READ_PAGE) break;
        from = { time: last.update_time, pk: last.pk };
      }
      // The window follows the newest change seen (the writers' clocks), never this process's clock.
      this.#changesFrom = Math.max(this.#changesFrom, latest - CLOCK_OVERLAP_MS);
    } catch (err) {
      this.deps.logger?.warn({ err }, 'could not read the deployments that changed');
    }
  }

  /** Keeps the newer of what the table holds and `d` (same deployment: higher revision wins). */
  #remember(d: DeploymentRecord): DeploymentRecord {
    const before = this.#table.get(d.deployment_id);
    if (before && before.pk === d.pk && before.revision > d.revision) return before;
    if (before && before.generation !== d.generation) this.#dropBatchers(d.deployment_id);
    this.#table.set(d.deployment_id, d);
    this.#storedAt.set(d.deployment_id, ++this.#stamp);
    return d;
  }

  #forget(id: string): void {
    this.#table.delete(id);
    this.#storedAt.delete(id);
    this.#dropBatchers(id);
  }

  /**
   * A change made in this process: read that one deployment at once instead of waiting for the
   * next tick (thousands of rollouts each re-reading the whole table was quadratic).
   */
  changed(deploymentId: string): void {
    const started = ++this.#stamp;
    void this.deps.store
      .read((repos) => repos.deployments.get(deploymentId))
      .then((d) => {
        if (d) this.#remember(d);
        else if ((this.#storedAt.get(deploymentId) ?? 0) < started) this.#forget(deploymentId);
      })
      .catch((err: unknown) =>
        this.deps.logger?.warn({ err, deploymentId }, 'could not read a changed deployment'),
      );
  }

  /** Deployments in the in-memory table by status (what the metrics report). */
  deploymentCounts(): Record<DeploymentStatus, number> {
    const counts: Record<DeploymentStatus, number> = {
      pending: 0,
      loading: 0,
      ready: 0,
      failed: 0,
      deleting: 0,
    };
    for (const d of this.#table.values()) counts[d.status]++;
    return counts;
  }

  live(): boolean {
    return true;
  }

  async ready(): Promise<boolean> {
    return this.#loaded;
  }

  serverMetadata() {
    return { name: 'quiver', version: this.deps.version, extensions: ['model_repository'] };
  }

  async modelReady(_ctx: CallContext, name: string, version: string): Promise<boolean> {
    const d = await this.#deployment(name);
    try {
      await this.#target(d, version);
      return true;
    } catch (err) {
      if (err instanceof QuiverError && (err.reason === 'MODEL_NOT_READY' || err.code === 'NOT_FOUND'))
        return false;
      throw err;
    }
  }

  async modelMetadata(_ctx: CallContext, name: string, version: string): Promise<ModelMetadata> {
    const d = await this.#deployment(name);
    const target = await this.#target(d, version);
    const model = await this.#model(target.artifact_digest);
    return {
      name,
      versions: d.resolved.map((t) => String(t.version)),
      platform: 'onnxruntime_onnx',
      signature: model.signature,
    };
  }

  infer(ctx: CallContext, request: InferRequest): Promise<InferResult> {
    return withSpan(this.deps.tracer, 'model.infer', { 'quiver.deployment': request.model_name }, (span) =>
      this.#infer(ctx, request, span),
    );
  }

  async #infer(_ctx: CallContext, request: InferRequest, span: Span | undefined): Promise<InferResult> {
    const started = performance.now();
    // A deployment in the table, served by a version number (or the split) of a loaded model,
    // needs no lookup to wait for; any other call takes the awaited way.
    const d = this.#servableNow(request.model_name) ?? (await this.#deployment(request.model_name));
    const target =
      this.#targetNow(d, request.model_version) ?? (await this.#target(d, request.model_version));
    const model =
      this.deps.runtime.get(target.artifact_digest) ?? (await this.#model(target.artifact_digest));
    span?.setAttributes({
      'quiver.version': String(target.version),
      'quiver.batch_size': Number(request.inputs[0]?.shape[0] ?? 1),
    });
    checkInputs(model.signature, request.inputs);
    checkRequestedOutputs(model.signature, request.outputs);
    const outputs = await this.#run(d, target, model, request.inputs);
    const wanted = request.outputs.length ? new Set(request.outputs) : null;
    this.deps.metrics?.inference(
      d.deployment_id,
      String(target.version),
      (performance.now() - started) / 1000,
    );
    return {
      model_name: d.deployment_id,
      model_version: String(target.version),
      id: request.id,
      outputs: wanted ? outputs.filter((t: Tensor) => wanted.has(t.name)) : outputs,
    };
  }

  /** Runs once; a model evicted between lookup and run (memory budget) is loaded again and run once more. */
  async #run(
    d: DeploymentRecord,
    target: ResolvedTarget,
    model: LoadedModel,
    inputs: Tensor[],
  ): Promise<Tensor[]> {
    const attempt = (m: LoadedModel) =>
      d.batching ? this.#batcher(d, target, m).submit(inputs) : m.run(inputs);
    try {
      return await attempt(model);
    } catch (err) {
      if (!(err instanceof QuiverError) || err.reason !== 'MODEL_NOT_READY') throw err;
      this.#dropBatchers(d.deployment_id);
      return attempt(await this.#model(target.artifact_digest));
    }
  }

  #servableNow(name: string): DeploymentRecord | undefined {
    const cached = this.#table.get(name);
    return cached && servable(cached) ? cached : undefined;
  }

  /** `#target` when it needs no alias lookup and finds its version; undefined for every other case. */
  #targetNow(d: DeploymentRecord, version: string): ResolvedTarget | undefined {
    if (!servable(d)) return undefined;
    if (version === '') return pickByWeight(d.resolved, Math.random() * 100);
    if (!/^[1-9]\d{0,8}$/.test(version)) return undefined;
    const number = Number(version);
    return d.resolved.find((t) => t.version === number);
  }

  /**
   * The deployment from the in-memory table. When it is missing or cannot serve, the database is
   * asked directly (at most every RECHECK_MS per name), so a rollout that just finished here or in
   * another process serves at once, and status and inference never disagree for long.
   */
  async #deployment(name: string): Promise<DeploymentRecord> {
    const now = this.#servableNow(name);
    if (now) return now;
    const fresh = await this.#recheck(name);
    if (!fresh) throw deploymentNotFound(name);
    return fresh;
  }

  /** One database read per name at a time, and at most one per RECHECK_MS; concurrent callers share it. */
  #recheck(name: string): Promise<DeploymentRecord | undefined> {
    const inFlight = this.#checks.get(name);
    if (inFlight) return inFlight;
    if ((this.#rechecked.get(name) ?? -Infinity) + RECHECK_MS > this.deps.clock.now())
      return Promise.resolve(this.#table.get(name));
    const check = this.deps.store
      .read((repos) => repos.deployments.get(name))
      .then((fresh) => {
        if (this.#rechecked.size > 10_000) this.#rechecked.clear();
        this.#rechecked.set(name, this.deps.clock.now());
        if (fresh) return this.#remember(fresh);
        this.#table.delete(name);
        this.#storedAt.delete(name);
        return undefined;
      })
      .finally(() => this.#checks.delete(name));
    this.#checks.set(name, check);
    return check;
  }

  /** The version to answer with. During a rollout of a new spec the previous one keeps serving. */
  async #target(d: DeploymentRecord, version: string): Promise<ResolvedTarget> {
    if (d.status === 'deleting' || d.resolved.length === 0) {
      throw new QuiverError(
        'MODEL_NOT_READY',
        `Deployment '${d.deployment_id}' is ${d.status} (${d.status_message}); it cannot serve yet.`,
        {
          details: { resource: `deployments/${d.deployment_id}`, status: d.status },
        },
      );
    }
    if (version === '') return pickByWeight(d.resolved, Math.random() * 100);
    const ref = parseVersionRef(version, 'model_version');
    const number = ref.kind === 'number' ? ref.version : await this.#alias(d, ref.alias);
    const target = d.resolved.find((t) => t.version === number);
    if (!target) {
      const serving = d.resolved.map((t) => t.version).join(', ');
      throw new QuiverError(
        'VERSION_NOT_FOUND',
        `Deployment '${d.deployment_id}' does not serve version ${version}; it serves ${serving}.`,
        {
          details: { resource: `deployments/${d.deployment_id}`, serving: d.resolved.map((t) => t.version) },
        },
      );
    }
    return target;
  }

  async #alias(d: DeploymentRecord, alias: string): Promise<number | undefined> {
    const key = `${d.model_pk}/${alias}`;
    const now = this.deps.clock.now();
    const cached = this.#aliases.get(key);
    if (cached && cached.until > now) return cached.version;
    const version = await this.deps.store.read((repos) => repos.aliases.resolve(d.model_pk, alias));
    this.#aliases.set(key, { version, until: now + ALIAS_TTL_MS });
    return version;
  }

  /** The loaded model, loading it once (single flight) when this process does not hold it. */
  async #model(digest: string): Promise<LoadedModel> {
    const loaded = this.deps.runtime.get(digest);
    if (loaded) return loaded;
    let pending = this.#loading.get(digest);
    if (!pending) {
      pending = this.deps.artifacts
        .read(digest)
        .then(async (bytes) => {
          const started = performance.now();
          const model = await withSpan(
            this.deps.tracer,
            'model.load',
            { 'quiver.artifact.digest': digest },
            () => this.deps.runtime.load(digest, bytes, { warmup: true }),
          );
          this.deps.metrics?.modelLoad((performance.now() - started) / 1000);
          return model;
        })
        .finally(() => this.#loading.delete(digest));
      this.#loading.set(digest, pending);
    }
    return pending;
  }

  #batcher(d: DeploymentRecord, target: ResolvedTarget, model: LoadedModel): DynamicBatcher {
    const key = `${d.deployment_id}/${d.generation}/${target.version}`;
    let b = this.#batchers.get(key);
    if (!b) {
      b = new DynamicBatcher({
        maxBatchSize: d.batching!.max_batch_size,
        maxQueueDelayMicros: d.batching!.max_queue_delay_us,
        run: (inputs) => (this.deps.runtime.get(target.artifact_digest) ?? model).run(inputs),
        ...(this.deps.metrics ? { onRun: (rows: number) => this.deps.metrics?.batch(rows) } : {}),
      });
      this.#batchers.set(key, b);
    }
    return b;
  }

  #dropBatchers(deploymentId: string): void {
    for (const key of [...this.#batchers.keys()])
      if (key.startsWith(`${deploymentId}/`)) this.#batchers.delete(key);
  }
}

/** The latest update_time among `rows` (or `fallback`). */
function newest(rows: readonly DeploymentRecord[], fallback: number): number {
  let max = fallback;
  for (const r of rows) if (r.update_time > max) max = r.update_time;
  return max;
}
