import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, quiver, startServer } from './support.js';

let server: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

describe('lineage through the CLI', () => {
  it('records datasets, runs and lineage, then shows the graph, the timeline and OpenLineage', async () => {
    const url = server.url;
    await ok(url, ['namespaces', 'create', 'med']);
    await ok(url, ['models', 'create', 'med/scan']);
    expect(await ok(url, ['datasets', 'create', 'med/xrays', '--description', 'Chest X-rays'])).toMatch(
      /name\s+namespaces\/med\/datasets\/xrays/,
    );
    const dv = await ok(url, [
      'datasets',
      'add-version',
      'med/xrays',
      '--uri',
      's3://med-lake/xrays/2024-03/',
      '--digest',
      `sha256:${'b'.repeat(64)}`,
      '--format',
      'dicom',
    ]);
    expect(dv).toMatch(/name\s+namespaces\/med\/datasets\/xrays\/versions\/1/);
    expect(await ok(url, ['datasets', 'versions', 'med/xrays'])).toMatch(
      /1\s+s3:\/\/med-lake\/xrays\/2024-03\//,
    );
    const run = await ok(url, [
      'runs',
      'create',
      'med/train-1',
      '--kind',
      'training',
      '--commit',
      'c0ffee',
      '--params',
      '{"lr":0.1}',
    ]);
    expect(run).toMatch(/status\s+succeeded/);
    expect(await ok(url, ['runs', 'list', 'med'])).toMatch(/train-1\s+training\s+succeeded\s+c0ffee/);

    await ok(url, ['versions', 'create', 'med/scan']);
    const recorded = await ok(url, [
      'lineage',
      'record',
      'med/scan@1',
      '--trained-on',
      'med/xrays@1',
      '--produced-by',
      'med/train-1',
    ]);
    expect(recorded).toMatch(/trained_on\s+namespaces\/med\/datasets\/xrays\/versions\/1/);
    expect(recorded).toMatch(/produced_by\s+namespaces\/med\/runs\/train-1/);

    const shown = await ok(url, ['lineage', 'show', 'med/scan@1', '--depth', '2']);
    expect(shown).toMatch(/0\s+model_version\s+namespaces\/med\/models\/scan\/versions\/1\s+registered/);
    expect(shown).toMatch(
      /1\s+dataset_version\s+namespaces\/med\/datasets\/xrays\/versions\/1\s+s3:\/\/med-lake/,
    );
    expect(shown).toMatch(/versions\/1\s+trained_on\s+namespaces\/med\/datasets\/xrays\/versions\/1/);
    const downstream = JSON.parse(await ok(url, ['lineage', 'dataset', 'med/xrays@1', '--output', 'json']));
    expect(downstream.nodes.map((n: any) => n.name)).toContain('namespaces/med/models/scan/versions/1');

    await ok(url, ['versions', 'transition', 'med/scan@1', 'validated']);
    await ok(url, ['versions', 'transition', 'med/scan@1', 'approved', '--reason', 'reader study passed']);
    const timeline = await ok(url, ['versions', 'timeline', 'med/scan@1']);
    const kinds = timeline
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s{2,}/)[1]);
    expect(kinds).toEqual(['created', 'lineage_recorded', 'transition', 'approval']);
    expect(timeline).toContain('validated → approved: reader study passed');

    const events = JSON.parse(await ok(url, ['lineage', 'openlineage', 'med/scan@1']));
    expect(events.events[0]).toMatchObject({ eventType: 'COMPLETE', job: { name: 'models/scan/training' } });
  });

  it('reports frozen lineage and malformed names as errors', async () => {
    const url = server.url;
    const frozen = await quiver(url, ['lineage', 'record', 'med/scan@1', '--trained-on', 'med/xrays@1']);
    expect(frozen.code).toBe(1);
    expect(frozen.stderr).toContain('FAILED_PRECONDITION');
    const bad = await quiver(url, ['lineage', 'record', 'med/scan@1', '--trained-on', 'med/xrays']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('INVALID_ARGUMENT');
    const depth = await quiver(url, ['lineage', 'show', 'med/scan@1', '--direction', 'sideways']);
    expect(depth.code).toBe(1);
  });
});
