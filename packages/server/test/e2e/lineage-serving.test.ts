import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQuiver, type Quiver } from '../../src/main.js';
import { backends, type TestDatabase, testDatabase } from '../support/databases.js';
import { tinyMlp } from '../support/onnx-models.js';
import { httpApi, waitFor } from '../support/serving.js';

const BACKENDS = await backends();

/**
 * What an auditor asks after a data incident, answered with real deployments made by the worker:
 * which deployed models were trained on this dataset? And the timeline of each version records
 * when it started and stopped serving.
 */
describe.each(BACKENDS)('lineage of deployed models (%s)', (backend) => {
  let db: TestDatabase;
  let quiver: Quiver;
  let base: string;
  const api = httpApi(() => base);
  const ok = async (method: string, path: string, body?: unknown) => {
    const res = await api(method, path, body);
    expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
    return res.body;
  };
  const settled = (id: string) =>
    waitFor(
      () => api('GET', `/v1/deployments/${id}`).then((r) => r.body),
      (d) => d.status === 'ready' || d.status === 'failed',
      20_000,
      `${id} to settle`,
    );

  beforeAll(async () => {
    db = await testDatabase(backend, {
      QUIVER_HTTP_PORT: '0',
      QUIVER_GRPC_PORT: '0',
      QUIVER_HTTP_HOST: '127.0.0.1',
    });
    quiver = await createQuiver(db.config, {
      logger: false,
      pollMs: 50,
      ...(db.schema ? { postgresSchema: db.schema } : {}),
    });
    base = await quiver.listen();
  });
  afterAll(async () => {
    await quiver?.close();
    await db?.drop();
  });

  it('finds the deployments serving models trained on a dataset, and their descendants', async () => {
    await ok('POST', '/v1/namespaces', { namespace_id: 'med' });
    await ok('POST', '/v1/namespaces/med/models', { model_id: 'scan' });
    await ok('POST', '/v1/namespaces/med/models', { model_id: 'scan-lite' });
    await ok('POST', '/v1/namespaces/med/datasets', { dataset_id: 'xrays' });
    const xrays = await ok('POST', '/v1/namespaces/med/datasets/xrays/versions', {
      uri: 's3://med-lake/xrays/2024-03/',
      digest: `sha256:${'e'.repeat(64)}`,
    });
    const { digest } = await ok('POST', '/v1/artifacts', tinyMlp({ seed: 3 }).bytes);
    const scan = await ok('POST', '/v1/namespaces/med/models/scan/versions', {
      artifact: { digest },
      lineage: { trained_on: [xrays.name] },
    });
    // Distilled from the scan model: downstream of the dataset through derived-from.
    const lite = await ok('POST', '/v1/namespaces/med/models/scan-lite/versions', {
      artifact: { digest },
      lineage: { derived_from: [scan.name] },
    });
    await ok('POST', '/v1/deployments', { deployment_id: 'scan-prod', model: scan.model, version: 1 });
    await ok('POST', '/v1/deployments', { deployment_id: 'lite-edge', model: lite.model, version: 1 });
    expect((await settled('scan-prod')).status).toBe('ready');
    expect((await settled('lite-edge')).status).toBe('ready');

    const graph = await ok('GET', `/v1/${xrays.name}/lineage?direction=downstream&depth=5`);
    const byName = Object.fromEntries(graph.nodes.map((n: any) => [n.name, n]));
    expect(Object.keys(byName).sort()).toEqual(
      [xrays.name, scan.name, lite.name, 'deployments/scan-prod', 'deployments/lite-edge'].sort(),
    );
    expect(byName['deployments/scan-prod']).toMatchObject({
      type: 'deployment',
      status: 'ready',
      depth: 2,
      model: scan.model,
      serving: [{ version: 1, percent: 100 }],
    });
    expect(byName['deployments/lite-edge'].depth).toBe(3);
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        { source: scan.name, target: xrays.name, kind: 'trained_on' },
        { source: lite.name, target: scan.name, kind: 'derived_from' },
        { source: 'deployments/scan-prod', target: scan.name, kind: 'serves' },
        { source: 'deployments/lite-edge', target: lite.name, kind: 'serves' },
      ]),
    );
    // Upstream reads never list deployments.
    const up = await ok('GET', `/v1/${lite.name}/lineage?direction=upstream&depth=5`);
    expect(up.nodes.map((n: any) => n.type)).not.toContain('deployment');
  });

  it('records deployments and undeployments in the version timeline', async () => {
    const version = 'namespaces/med/models/scan/versions/1';
    const op = await ok('DELETE', '/v1/deployments/scan-prod');
    await waitFor(
      () => api('GET', `/v1/${op.name}`).then((r) => r.body),
      (o) => o.done === true,
      20_000,
      'the undeploy to finish',
    );
    const timeline = await ok('GET', `/v1/${version}/timeline`);
    const kinds = timeline.entries.map((e: any) => e.kind);
    expect(kinds).toEqual(['created', 'lineage_recorded', 'deployed', 'undeployed']);
    const [created, , deployed, undeployed] = timeline.entries;
    expect(deployed).toMatchObject({
      actor: created.actor,
      summary: expect.stringContaining('deployments/scan-prod'),
      details: { deployment: 'deployments/scan-prod', percent: 100, previous_percent: 0 },
    });
    expect(undeployed.details).toMatchObject({ deployment: 'deployments/scan-prod', previous_percent: 100 });
    const after = await ok('GET', '/v1/namespaces/med/datasets/xrays/versions/1/lineage?depth=5');
    expect(after.nodes.map((n: any) => n.name)).not.toContain('deployments/scan-prod');
    expect(after.nodes.map((n: any) => n.name)).toContain('deployments/lite-edge');
  });
});
