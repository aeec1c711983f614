import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlStore } from '../../src/adapters/sql/store.js';
import { parseFilter } from '../../src/domain/filter.js';
import type { Repositories } from '../../src/ports/repositories.js';
import {
  expectQuiverError,
  listQuery,
  MINUTE,
  newModel,
  newNamespace,
  newUid,
  newVersion,
  T0,
  unique,
} from '../support/builders.js';
import { backends, testStore } from '../support/databases.js';

const BACKENDS = await backends();

/** The lineage repositories (datasets, runs, edges and the walks over them), on every backend. */
describe.each(BACKENDS)('lineage repositories (%s)', (backend) => {
  let store: SqlStore;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ store, close } = await testStore(backend));
  });
  afterAll(async () => {
    await close?.();
  });
  const write = <T>(work: (repos: Repositories) => Promise<T>) => store.write(work);
  const read = <T>(work: (repos: Repositories) => Promise<T>) => store.read(work);

  /** A namespace, a model with versions 1..n, a dataset with versions 1..d and a run; returns their keys. */
  async function seed(n: number, d = 2) {
    const ns = newNamespace();
    const model = newModel(0);
    const dataset = unique('ds');
    const run = unique('run');
    return write(async (r) => {
      await r.namespaces.create(ns);
      const nsPk = (await r.namespaces.pkOf(ns.namespace_id))!;
      await r.models.create({ ...model, namespace_pk: nsPk });
      const key = (await r.models.key(ns.namespace_id, model.model_id))!;
      const versions: number[] = [];
      for (let v = 1; v <= n; v++) {
        await r.models.nextVersion(key.pk, T0);
        await r.versions.insert(newVersion(key.pk, v));
        versions.push((await r.versions.key(key.pk, v))!.pk);
      }
      await r.datasets.create({
        uid: newUid(),
        namespace_pk: nsPk,
        dataset_id: dataset,
        description: '',
        labels: {},
        time: T0,
      });
      const ds = (await r.datasets.key(ns.namespace_id, dataset))!;
      for (let v = 1; v <= d; v++) {
        const number = await r.datasets.nextVersion(ds.pk, T0);
        await r.datasets.insertVersion({
          uid: newUid(),
          dataset_pk: ds.pk,
          version: number,
          uri: `s3://data/${dataset}/${v}`,
          digest: `sha256:${String(v).repeat(64).slice(0, 64)}`,
          size_bytes: v === 1 ? 1024 : null,
          format: 'parquet',
          metadata: { v },
          created_by: 'alice',
          time: T0 + v * MINUTE,
        });
      }
      await r.runs.create({
        uid: newUid(),
        namespace_pk: nsPk,
        run_id: run,
        kind: 'training',
        status: 'succeeded',
        description: '',
        labels: {},
        code_commit: 'abc123',
        parameters: { lr: 0.1 },
        metrics: {},
        environment: {},
        start_time: T0,
        end_time: null,
        created_by: 'alice',
        time: T0,
      });
      const paths = Array.from({ length: d }, (_, i) => ({
        namespace: ns.namespace_id,
        dataset,
        version: i + 1,
      }));
      const dsPks = (await r.datasets.resolveVersions(paths)).map((f) => f.pk);
      const runPk = (await r.runs.key(ns.namespace_id, run))!.pk;
      return { ns: ns.namespace_id, nsPk, model: key, versions, dataset, ds, dsPks, run, runPk };
    });
  }

  it('stores datasets with numbered versions found by URI + digest, and refuses duplicate ids', async () => {
    const s = await seed(0, 3);
    const ds = await read((r) => r.datasets.get(s.ns, s.dataset));
    expect(ds).toMatchObject({
      dataset_id: s.dataset,
      latest_version: 3,
      name: `namespaces/${s.ns}/datasets/${s.dataset}`,
    });
    const v1 = await read((r) => r.datasets.getVersion(s.ds.pk, 1));
    expect(v1).toMatchObject({
      version: 1,
      uri: `s3://data/${s.dataset}/1`,
      size_bytes: 1024,
      format: 'parquet',
      metadata: { v: 1 },
    });
    expect(
      await read((r) => r.datasets.findVersion(s.ds.pk, `s3://data/${s.dataset}/2`, v1!.digest)),
    ).toBeUndefined();
    expect(await read((r) => r.datasets.findVersion(s.ds.pk, v1!.uri, v1!.digest))).toBe(1);
    const newest = await read((r) => r.datasets.listVersions(s.ds.pk, null, 2));
    expect(newest.map((l) => l.item.version)).toEqual([3, 2]);
    const rest = await read((r) => r.datasets.listVersions(s.ds.pk, Number(newest[1]!.keyset[0]), 2));
    expect(rest.map((l) => l.item.version)).toEqual([1]);
    await expectQuiverError(
      write((r) =>
        r.datasets.create({
          uid: newUid(),
          namespace_pk: s.nsPk,
          dataset_id: s.dataset,
          description: '',
          labels: {},
          time: T0,
        }),
      ),
      'DATASET_EXISTS',
    );
  });

  it('resolves many dataset versions in one call and leaves out the ones that do not exist', async () => {
    const s = await seed(0, 2);
    const found = await read((r) =>
      r.datasets.resolveVersions([
        { namespace: s.ns, dataset: s.dataset, version: 2 },
        { namespace: s.ns, dataset: s.dataset, version: 9 },
        { namespace: s.ns, dataset: 'nope', version: 1 },
        { namespace: s.ns, dataset: s.dataset, version: 1 },
      ]),
    );
    expect(found.map((f) => f.index).sort()).toEqual([0, 3]);
  });

  it('stores runs, lists them with filters and updates them by compare-and-set', async () => {
    const s = await seed(0, 0);
    const run = await read((r) => r.runs.get(s.ns, s.run));
    expect(run).toMatchObject({
      kind: 'training',
      status: 'succeeded',
      parameters: { lr: 0.1 },
      end_time: null,
    });
    const page = await read((r) =>
      r.runs.list(s.nsPk, listQuery({ filter: parseFilter('kind = training AND code_commit = "abc123"') })),
    );
    expect(page.map((l) => l.item.run_id)).toEqual([s.run]);
    const key = (await read((r) => r.runs.key(s.ns, s.run)))!;
    expect(
      await write((r) =>
        r.runs.update(key.pk, key.revision, { metrics: { auc: 0.9 }, end_time: T0 + MINUTE }, T0),
      ),
    ).toBe(true);
    expect(await write((r) => r.runs.update(key.pk, key.revision, { status: 'failed' }, T0))).toBe(false);
    expect(await read((r) => r.runs.get(s.ns, s.run))).toMatchObject({
      metrics: { auc: 0.9 },
      status: 'succeeded',
    });
    await expectQuiverError(
      write((r) =>
        r.runs.create({
          uid: newUid(),
          namespace_pk: s.nsPk,
          run_id: s.run,
          kind: 'evaluation',
          status: 'running',
          description: '',
          labels: {},
          code_commit: '',
          parameters: {},
          metrics: {},
          environment: {},
          start_time: null,
          end_time: null,
          created_by: 'bob',
          time: T0,
        }),
      ),
      'RUN_EXISTS',
    );
  });

  it('records edges once each and reads them back in both directions', async () => {
    const s = await seed(3);
    const [v1, v2, v3] = s.versions as [number, number, number];
    await write(async (r) => {
      await r.lineage.addDatasets(v2, 'trained_on', s.dsPks, T0);
      await r.lineage.addDatasets(v2, 'trained_on', s.dsPks, T0); // again: kept once
      await r.lineage.addDatasets(v2, 'evaluated_on', [s.dsPks[1]!], T0);
      await r.lineage.setRun(v2, s.runPk, T0);
      await r.lineage.addParents(v2, [v1], T0);
      await r.lineage.addParents(v3, [v2], T0);
    });
    const up = await read((r) => r.lineage.upstreamOf([v2]));
    expect(up).toEqual(
      expect.arrayContaining([
        { version_pk: v2, kind: 'trained_on', target_pk: s.dsPks[0] },
        { version_pk: v2, kind: 'trained_on', target_pk: s.dsPks[1] },
        { version_pk: v2, kind: 'evaluated_on', target_pk: s.dsPks[1] },
        { version_pk: v2, kind: 'produced_by', target_pk: s.runPk },
        { version_pk: v2, kind: 'derived_from', target_pk: v1 },
      ]),
    );
    expect(up).toHaveLength(5);
    expect(await read((r) => r.lineage.childrenOf([v1, v2]))).toEqual([
      { version_pk: v2, parent_pk: v1 },
      { version_pk: v3, parent_pk: v2 },
    ]);
    const consumers = await read((r) => r.lineage.consumersOf([s.dsPks[1]!]));
    expect(consumers.map((c) => c.role).sort()).toEqual(['evaluated_on', 'trained_on']);
    expect(await read((r) => r.lineage.isAncestor(v1, [v3]))).toBe(true);
    expect(await read((r) => r.lineage.isAncestor(v3, [v1]))).toBe(false);
  });

  it('ends the ancestor walk even on a cyclic graph written behind its back', async () => {
    const s = await seed(2);
    const [v1, v2] = s.versions as [number, number];
    await write(async (r) => {
      await r.lineage.addParents(v1, [v2], T0);
      await r.lineage.addParents(v2, [v1], T0);
    });
    expect(await read((r) => r.lineage.isAncestor(v1, [v1]))).toBe(true);
    expect(await read((r) => r.lineage.isAncestor(999_999, [v1]))).toBe(false);
  });

  it('describes nodes of every kind in one query each', async () => {
    const s = await seed(2, 1);
    const versions = await read((r) => r.lineage.describeVersions(s.versions));
    expect(versions.map((v) => v.version).sort()).toEqual([1, 2]);
    expect(versions[0]).toMatchObject({ namespace: s.ns, model_id: s.model.model_id, status: 'registered' });
    const [ds] = await read((r) => r.lineage.describeDatasetVersions(s.dsPks));
    expect(ds).toMatchObject({ namespace: s.ns, dataset_id: s.dataset, version: 1, format: 'parquet' });
    const [run] = await read((r) => r.lineage.describeRuns([s.runPk]));
    expect(run).toMatchObject({ run_id: s.run, kind: 'training', code_commit: 'abc123', start_time: T0 });
    expect(await read((r) => r.lineage.describeVersions([]))).toEqual([]);
  });

  it('holds a version only while its status is the one expected', async () => {
    const s = await seed(1);
    const pk = s.versions[0]!;
    expect(await write((r) => r.lineage.holdVersion(pk, 'registered'))).toBe(true);
    expect(await write((r) => r.versions.setStatus(pk, 'registered', 'validated', T0))).toBe(true);
    expect(await write((r) => r.lineage.holdVersion(pk, 'registered'))).toBe(false);
    await write((r) => r.lineage.lockParents());
    await write((r) => r.lineage.lockParents());
  });

  it('drops the edges of versions removed with their model, and keeps the timeline details', async () => {
    const s = await seed(2);
    const [v1, v2] = s.versions as [number, number];
    await write(async (r) => {
      await r.lineage.addParents(v2, [v1], T0);
      await r.lineage.addDatasets(v1, 'trained_on', s.dsPks, T0);
      await r.history.append({
        model_pk: s.model.pk,
        version: 1,
        kind: 'deployed',
        from_status: null,
        to_status: null,
        alias: null,
        actor: 'alice',
        reason: 'rollout v1 100%',
        time: T0,
        details: { deployment: 'deployments/prod', percent: 100 },
      });
    });
    const [entry] = await read((r) => r.lineage.timeline(s.model.pk, 1, null, 10));
    expect(entry!.item).toMatchObject({
      kind: 'deployed',
      details: { deployment: 'deployments/prod', percent: 100 },
    });
    await write((r) => r.models.delete(s.model.pk));
    expect(await read((r) => r.lineage.consumersOf(s.dsPks))).toEqual([]);
    expect(await read((r) => r.lineage.upstreamOf([v2]))).toEqual([]);
  });
});
