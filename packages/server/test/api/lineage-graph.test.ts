import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walkLineage } from '../../src/services/lineage-graph.js';
import { type Client, client, expectError, newModel, newNamespace } from '../support/api.js';
import { backends, testQuiver } from '../support/databases.js';
import { lineageBuilders } from '../support/lineage.js';
import { uniqueId } from './helpers.js';

const BACKENDS = await backends();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Reading lineage: graphs in both directions with depth, from versions and dataset versions, in a
 * number of queries bounded by depth; the timeline; the OpenLineage export.
 */
describe.each(BACKENDS)('lineage graphs, timeline, OpenLineage (%s)', (backend) => {
  let ctx: Awaited<ReturnType<typeof testQuiver>>;
  let api: Client;
  let b: ReturnType<typeof lineageBuilders>;
  let queries = 0;
  let ns: string;
  // A chain base ← v1 ← v2 ← v3 ← v4 (each derived from the previous), v1 trained on raw/1 by run r.
  let chain: string[];
  let raw: string;
  let holdout: string;
  let run: string;

  beforeAll(async () => {
    ctx = await testQuiver(backend, { onQuery: (e) => void (e.level === 'query' && queries++) });
    api = client(ctx.quiver.rest);
    b = lineageBuilders(api);
    ns = uniqueId('ns');
    await newNamespace(api, ns);
    await newModel(api, ns, 'base');
    await newModel(api, ns, 'tuned');
    await b.dataset(ns, 'raw');
    await b.dataset(ns, 'holdout');
    raw = await b.datasetVersion(ns, 'raw', {
      uri: 's3://lake/raw/2024/',
      size_bytes: 2048,
      format: 'parquet',
    });
    holdout = await b.datasetVersion(ns, 'holdout', { uri: 'file:///data/holdout.csv' });
    run = await b.run(ns, 'train-1', {
      code_commit: 'c0ffee',
      parameters: { lr: 0.1 },
      end_time: '2024-05-01T12:00:00Z',
    });
    const base = await b.version(ns, 'base');
    chain = [base];
    for (let i = 1; i <= 4; i++) {
      const lineage =
        i === 1
          ? { trained_on: [raw], evaluated_on: [holdout], produced_by: run, derived_from: [base] }
          : { derived_from: [chain[i - 1]!] };
      chain.push(await b.version(ns, 'tuned', lineage));
    }
  });
  afterAll(() => ctx.close());

  const names = (graph: any, type?: string) =>
    graph.nodes.filter((n: any) => !type || n.type === type).map((n: any) => n.name);

  it('walks upstream to the requested depth: parents, datasets and run', async () => {
    const v1 = chain[1]!;
    const one = await api.get(`/v1/${v1}/lineage?direction=upstream&depth=1`);
    expect(one.status, JSON.stringify(one.body)).toBe(200);
    expect(one.body).toMatchObject({ root: v1, direction: 'upstream', depth: 1, truncated: false });
    expect(names(one.body).sort()).toEqual([chain[0], v1, holdout, raw, run].sort());
    expect(one.body.edges).toEqual(
      expect.arrayContaining([
        { source: v1, target: raw, kind: 'trained_on' },
        { source: v1, target: holdout, kind: 'evaluated_on' },
        { source: v1, target: run, kind: 'produced_by' },
        { source: v1, target: chain[0], kind: 'derived_from' },
      ]),
    );
    expect(one.body.nodes.find((n: any) => n.name === raw)).toMatchObject({
      type: 'dataset_version',
      depth: 1,
      uri: 's3://lake/raw/2024/',
    });
    expect(one.body.nodes.find((n: any) => n.name === run)).toMatchObject({
      type: 'run',
      run_kind: 'training',
      code_commit: 'c0ffee',
    });
    const v4 = chain[4]!;
    const two = await api.get(`/v1/${v4}/lineage?depth=2`);
    expect(names(two.body)).toEqual([v4, chain[3], chain[2]]);
    const deep = await api.get(`/v1/${v4}/lineage?depth=10`);
    expect(names(deep.body, 'model_version')).toEqual([...chain].reverse());
    expect(deep.body.nodes.find((n: any) => n.name === raw).depth).toBe(4);
  });

  it('walks downstream and both ways from a version', async () => {
    const down = await api.get(`/v1/${chain[1]}/lineage?direction=downstream&depth=2`);
    expect(names(down.body)).toEqual([chain[1], chain[2], chain[3]]);
    expect(down.body.edges).toContainEqual({ source: chain[3], target: chain[2], kind: 'derived_from' });
    const both = await api.get(`/v1/${chain[2]}/lineage?direction=both&depth=1`);
    expect(names(both.body).sort()).toEqual([chain[1], chain[2], chain[3]].sort());
  });

  it('walks downstream from a dataset version to every model trained on it and their descendants', async () => {
    const graph = await api.get(`/v1/${raw}/lineage?depth=3`);
    expect(graph.status, JSON.stringify(graph.body)).toBe(200);
    expect(graph.body.root).toBe(raw);
    expect(names(graph.body)).toEqual([raw, chain[1], chain[2], chain[3]]);
    expect(graph.body.edges).toContainEqual({ source: chain[1], target: raw, kind: 'trained_on' });
    const held = await api.get(`/v1/${holdout}/lineage?direction=downstream&depth=1`);
    expect(held.body.edges).toEqual([{ source: chain[1], target: holdout, kind: 'evaluated_on' }]);
  });

  it('caps the node count and says so', async () => {
    const v1 = await ctx.quiver.store.read(async (repos) => {
      const model = (await repos.models.key(ns, 'tuned'))!;
      return (await repos.versions.key(model.pk, 1))!.pk;
    });
    const graph = await ctx.quiver.store.read((repos) =>
      walkLineage(repos, { kind: 'version', pk: v1 }, 'both', 10, 3),
    );
    expect(graph.nodes).toHaveLength(3);
    expect(graph.truncated).toBe(true);
    for (const e of graph.edges)
      expect(graph.nodes.map((n) => n.name)).toEqual(expect.arrayContaining([e.source, e.target]));
  });

  it('reads a lineage graph in a number of queries bounded by its depth, not its size', async () => {
    const count = async (url: string) => {
      queries = 0;
      const res = await api.get(url);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return { n: queries, nodes: res.body.nodes.length };
    };
    // A wide graph: 30 children of one parent, each trained on its own dataset version.
    await newModel(api, ns, 'wide');
    const parent = await b.version(ns, 'wide');
    await b.dataset(ns, 'shards');
    for (let i = 0; i < 30; i++) {
      await b.version(ns, 'wide', {
        derived_from: [parent],
        trained_on: [await b.datasetVersion(ns, 'shards')],
      });
    }
    const narrow = await count(`/v1/${chain[1]}/lineage?direction=downstream&depth=1`);
    const wide = await count(`/v1/${parent}/lineage?direction=downstream&depth=1`);
    expect(wide.nodes).toBe(31);
    expect(wide.n).toBe(narrow.n);
    const deepUp = await count(`/v1/${chain[4]}/lineage?direction=upstream&depth=10`);
    // Lookups (model, version) + one query per level walked (5: four parents, then none) + one per node type.
    expect(deepUp.n).toBeLessThanOrEqual(3 + 5 + 3);
    const deepBoth = await count(`/v1/${chain[4]}/lineage?direction=both&depth=10`);
    expect(deepBoth.n).toBeLessThanOrEqual(3 + 10 + 2 + 4);
    const fromData = await count(`/v1/${raw}/lineage?depth=10`);
    expect(fromData.n).toBeLessThanOrEqual(3 + 10 + 4);
  });

  it('refuses bad directions and depths, and unknown roots', async () => {
    expectError(await api.get(`/v1/${chain[1]}/lineage?direction=sideways`), 400, 'INVALID_ARGUMENT');
    expectError(await api.get(`/v1/${chain[1]}/lineage?depth=11`), 400, 'INVALID_ARGUMENT');
    expectError(await api.get(`/v1/${chain[1]}/lineage?depth=0`), 400, 'INVALID_ARGUMENT');
    expectError(
      await api.get(`/v1/namespaces/${ns}/models/tuned/versions/99/lineage`),
      404,
      'NOT_FOUND',
      'VERSION_NOT_FOUND',
    );
    expectError(
      await api.get(`/v1/namespaces/${ns}/datasets/raw/versions/9/lineage`),
      404,
      'NOT_FOUND',
      'DATASET_VERSION_NOT_FOUND',
    );
  });

  it('tells the whole life of a version in order, approvals and lineage included', async () => {
    const v = await b.version(ns, 'tuned');
    await b.record(v, { trained_on: [raw] });
    await b.transition(v, 'validated');
    expect(
      (
        await api.put(`/v1/namespaces/${ns}/models/tuned/aliases/candidate`, {
          version: Number(v.split('/').at(-1)),
        })
      ).status,
    ).toBe(200);
    const reason = 'offline eval ok';
    expect((await api.post(`/v1/${v}:transition`, { status: 'approved', reason })).status).toBe(200);
    expect((await api.delete(`/v1/namespaces/${ns}/models/tuned/aliases/candidate`)).status).toBe(204);
    const res = await api.get(`/v1/${v}/timeline`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.entries.map((e: any) => e.kind)).toEqual([
      'created',
      'lineage_recorded',
      'transition',
      'alias_set',
      'approval',
      'alias_unset',
    ]);
    const [created, lineage, , alias, approval] = res.body.entries;
    expect(created).toMatchObject({ details: { status: 'registered' } });
    expect(created.actor.length).toBeGreaterThan(0);
    expect(res.body.entries.every((e: any) => e.actor === created.actor)).toBe(true);
    expect(lineage.details).toEqual({
      trained_on: [raw],
      evaluated_on: [],
      produced_by: null,
      derived_from: [],
    });
    expect(alias.details.alias).toBe('candidate');
    expect(approval).toMatchObject({
      summary: `validated → approved: ${reason}`,
      details: { from: 'validated', to: 'approved', reason },
    });
    const times = res.body.entries.map((e: any) => Date.parse(e.time));
    expect([...times].sort((x, y) => x - y)).toEqual(times);
    const first = await api.get(`/v1/${v}/timeline?page_size=4`);
    const rest = await api.get(
      `/v1/${v}/timeline?page_size=4&page_token=${encodeURIComponent(first.body.next_page_token)}`,
    );
    expect([...first.body.entries, ...rest.body.entries]).toEqual(res.body.entries);
  });

  it('exports a version as an OpenLineage COMPLETE RunEvent', async () => {
    const v1 = chain[1]!;
    const res = await api.get(`/v1/${v1}/lineage:openlineage`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [event] = res.body.events;
    const runRecord = (await api.get(`/v1/namespaces/${ns}/runs/train-1`)).body;
    expect(event).toMatchObject({
      eventType: 'COMPLETE',
      eventTime: '2024-05-01T12:00:00.000Z',
      run: { runId: runRecord.uid },
      job: { namespace: `quiver/${ns}`, name: 'models/tuned/training' },
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    });
    expect(event.run.runId).toMatch(UUID);
    expect(event.producer).toMatch(/^urn:quiver:server:/);
    expect(event.run.facets.quiver_run).toMatchObject({ code_commit: 'c0ffee', parameters: { lr: 0.1 } });
    const inputs = Object.fromEntries(event.inputs.map((i: any) => [`${i.namespace} ${i.name}`, i]));
    expect(Object.keys(inputs).sort()).toEqual(
      ['file /data/holdout.csv', 's3://lake raw/2024/', `quiver/${ns} models/base/versions/1`].sort(),
    );
    expect(inputs['s3://lake raw/2024/'].facets).toMatchObject({
      version: { datasetVersion: expect.stringMatching(/^sha256:/) },
      quiver_dataset_version: { name: raw, role: 'trained_on', size_bytes: 2048, format: 'parquet' },
    });
    for (const facet of Object.values<any>(inputs['s3://lake raw/2024/'].facets)) {
      expect(facet._producer).toBe(event.producer);
      expect(facet._schemaURL).toMatch(/^https:\/\/openlineage\.io\/spec\//);
    }
    expect(event.outputs).toEqual([
      expect.objectContaining({ namespace: `quiver/${ns}`, name: 'models/tuned/versions/1' }),
    ]);
    const bare = (await api.get(`/v1/${chain[0]}/lineage:openlineage`)).body.events[0];
    expect(bare).toMatchObject({ job: { name: 'models/base/registration' }, inputs: [] });
    expect(bare.run.runId).toBe((await api.get(`/v1/${chain[0]}`)).body.uid);
  });
});
