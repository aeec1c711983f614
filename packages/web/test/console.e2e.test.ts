import { createClient, type QuiverClient } from '@quiver/sdk';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQuiver, type Quiver } from '../../server/src/main.js';
import { TEST_TOKEN, type TestDatabase, testDatabase } from '../../server/test/support/databases.js';
import { referenceMlp, tinyMlp } from '../../server/test/support/onnx-models.js';
import { browserAvailable, buildConsole, launch, newPage, screenshot } from './browser.js';

const MODELS_PER_NAMESPACE = 60;
const NAMESPACES = ['fraud', 'retail', 'health'];

/**
 * The console in a real headless Chromium against a real server (SQLite: the console only
 * talks to the API, whose storage suites run on both databases): sign in, find a model among
 * many, register a version, approve it, deploy it, watch it become ready, split traffic to a
 * canary and promote it, run an inference, verify the audit log.
 */
describe.skipIf(!browserAvailable())('web console in Chromium', () => {
  let db: TestDatabase;
  let quiver: Quiver;
  let base: string;
  let sdk: QuiverClient;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const v1 = tinyMlp({ seed: 11 });
  const v2 = tinyMlp({ seed: 12 });

  const heading = (text: string) => page.getByRole('heading', { level: 1 }).filter({ hasText: text });
  const statusIs = (status: string) => page.locator('h1 .badge', { hasText: status }).waitFor();
  const rolloutDone = async () => {
    await page.locator('[data-testid=operation][data-state=done]').waitFor({ timeout: 30_000 });
    await page.getByTestId('deployment-status').filter({ hasText: 'ready' }).waitFor();
  };

  beforeAll(async () => {
    buildConsole();
    db = await testDatabase('sqlite', {
      QUIVER_HTTP_PORT: '0',
      QUIVER_GRPC_PORT: '0',
      QUIVER_HTTP_HOST: '127.0.0.1',
    });
    quiver = await createQuiver(db.config, { logger: false, pollMs: 50 });
    base = await quiver.listen();
    sdk = createClient({ baseUrl: base, token: TEST_TOKEN });
    for (const ns of NAMESPACES) {
      await sdk.namespaces.create({ namespace_id: ns });
      await Promise.all(
        Array.from({ length: MODELS_PER_NAMESPACE }, (_, i) =>
          sdk.models.create(ns, {
            model_id: `${ns}-model-${String(i).padStart(3, '0')}`,
            labels: { team: ns, tier: i % 3 === 0 ? 'gold' : 'silver' },
          }),
        ),
      );
    }
    await sdk.models.create('fraud', {
      model_id: 'card-scorer',
      description: 'Card fraud scorer',
      labels: { team: 'risk', pii: 'none' },
    });
    await sdk.datasets.create('fraud', { dataset_id: 'transactions', description: 'Card transactions' });
    await sdk.datasets.createVersion('fraud', 'transactions', {
      uri: 's3://data/transactions/2026-10/',
      digest: `sha256:${'ab'.repeat(32)}`,
    });
    await sdk.runs.create('fraud', { run_id: 'train-1011', kind: 'training', code_commit: '3f2c1e9' });
    browser = await launch();
    page = await newPage(browser, pageErrors);
  });
  afterAll(async () => {
    await browser?.close();
    await quiver?.close();
    await db?.drop();
  });

  it('serves the console at / to browsers and a JSON description to other clients', async () => {
    const html = await fetch(`${base}/`, { headers: { accept: 'text/html' } });
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    const asset = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(await html.text())?.[1];
    expect(asset).toBeDefined();
    const script = await fetch(base + asset);
    expect(script.status).toBe(200);
    expect(script.headers.get('cache-control')).toContain('immutable');
    const json = await fetch(`${base}/`, { headers: { accept: 'application/json' } });
    expect(((await json.json()) as { name: string }).name).toBe('Quiver');
  });

  it('signs in with an API token', async () => {
    await page.goto(`${base}/`);
    await page.getByLabel('API token').fill(TEST_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading('Models').waitFor();
    expect(await page.getByRole('banner').textContent()).toContain('admin');
  });

  it('pages through many models and finds one by searching', async () => {
    const rows = page.locator('table tbody tr');
    await page.getByRole('button', { name: 'Next →' }).waitFor();
    expect(await rows.count()).toBe(25);
    await screenshot(page, 'console-models');
    await page.getByRole('button', { name: 'Next →' }).click();
    await page.getByText('Page 2', { exact: true }).waitFor();
    await page.getByLabel('Search models').fill('card');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'card-scorer' }).waitFor();
    expect(await rows.count()).toBe(1);
    await page.getByRole('link', { name: 'card-scorer' }).click();
    await heading('card-scorer').waitFor();
  });

  it('registers a version by uploading its ONNX file', async () => {
    await page.getByText('Register a new version').click();
    await page.getByLabel('Model file (ONNX)').setInputFiles({
      name: 'scorer.onnx',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(v1.bytes),
    });
    await page.getByLabel('Description').fill('first scorer');
    await page.getByRole('button', { name: 'Register version' }).click();
    await heading('card-scorer v1').waitFor();
    await statusIs('registered');
    expect(await page.getByTestId('artifact-digest').textContent()).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await page.getByRole('table', { name: 'Inputs' }).textContent()).toContain('input');
  });

  it('approves the version, with its lineage drawn as a graph and its timeline', async () => {
    // The training pipeline records lineage through the API, as it would.
    await sdk.lineage.record('fraud', 'card-scorer', 1, {
      trained_on: ['namespaces/fraud/datasets/transactions/versions/1'],
      produced_by: 'namespaces/fraud/runs/train-1011',
    });
    await page.reload();
    await page.getByLabel('Reason (recorded in the history)').fill('offline eval AUC 0.93');
    await page.getByRole('button', { name: 'Mark validated' }).click();
    await statusIs('validated');
    await page.getByRole('button', { name: 'Approve' }).click();
    await statusIs('approved');
    await page.getByRole('list', { name: 'Lifecycle timeline' }).getByText('approval').waitFor();
    const graph = page.getByTestId('lineage-graph');
    await graph.waitFor();
    expect(await graph.locator('g.node').count()).toBe(3);
    expect(await graph.textContent()).toContain('transactions v1');
    expect(await graph.textContent()).toContain('trained on');
    await screenshot(page, 'console-version');
  });

  it('deploys the version and watches the rollout until it is ready', async () => {
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await heading('card-scorer-v1').waitFor();
    expect(page.url()).toContain('op=operations');
    await rolloutDone();
    expect(await page.getByTestId('serving').textContent()).toContain('v1 100%');
  });

  it('sends 10 % to a canary, then promotes it', async () => {
    await sdk.versions.create('fraud', 'card-scorer', {
      artifact: { digest: (await sdk.artifacts.upload(v2.bytes)).digest },
    });
    await sdk.versions.transition('fraud', 'card-scorer', 2, { status: 'validated' });
    await sdk.versions.transition('fraud', 'card-scorer', 2, { status: 'approved' });
    await page.getByLabel('Percent of row 1').fill('90');
    await page.getByRole('button', { name: 'Add version' }).click();
    await page.getByLabel('Version of row 2').fill('2');
    await page.getByLabel('Percent of row 2').fill('10');
    await page.getByRole('button', { name: 'Apply split' }).click();
    await page.getByTestId('serving').filter({ hasText: 'v2 10%' }).waitFor({ timeout: 30_000 });
    await rolloutDone();
    await screenshot(page, 'console-deployment');
    await page.getByRole('button', { name: 'Promote v2 to 100%' }).click();
    await page.getByTestId('serving').filter({ hasText: 'v2 100%' }).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('serving').textContent()).not.toContain('v1');
  });

  it('runs an inference in the playground and shows the result and latency', async () => {
    await page.getByRole('link', { name: 'Try it in the playground' }).click();
    const inputs = page.getByLabel(/Input tensors/);
    // Filled from the signature of the version the deployment serves.
    await expect.poll(() => inputs.inputValue(), { timeout: 10_000 }).not.toBe('');
    expect(JSON.parse(await inputs.inputValue())).toEqual([
      { name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 1, 1, 1] },
    ]);
    await page.getByRole('button', { name: 'Run inference' }).click();
    const result = page.getByTestId('inference-result');
    await result.waitFor();
    expect(await page.getByTestId('latency').textContent()).toMatch(/^\d+\.\d ms$/);
    const shown = JSON.parse((await result.locator('pre').textContent()) ?? '[]') as number[];
    const expected = referenceMlp(v2.weights, [1, 1, 1, 1]);
    expect(shown).toHaveLength(expected.length);
    for (const [i, x] of shown.entries()) expect(Math.abs(x - expected[i]!)).toBeLessThan(1e-4);
    await screenshot(page, 'console-playground');
  });

  it('lists the audit events, filters them, and verifies the chain with its signed checkpoint', async () => {
    const checkpoint = await sdk.audit.checkpoint();
    await page.getByRole('link', { name: 'Audit' }).click();
    await heading('Audit log').waitFor();
    await page
      .getByTestId('checkpoint')
      .filter({ hasText: `seq ${checkpoint.seq}` })
      .waitFor();
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    const verdict = page.getByTestId('verify-result');
    await verdict.waitFor();
    expect(await verdict.textContent()).toMatch(
      /^Intact: \d+ events and [1-9]\d* signed checkpoints? verified/,
    );
    await page.getByLabel('Action').fill('TransitionVersion');
    await page.getByRole('button', { name: 'Search' }).click();
    const actions = page.getByTestId('audit-events').locator('tbody tr td:nth-child(4)');
    // Two transitions through the console, two through the SDK.
    await expect.poll(() => actions.count(), { timeout: 10_000 }).toBe(4);
    expect(new Set(await actions.allTextContents())).toEqual(new Set(['TransitionVersion']));
    await screenshot(page, 'console-audit');
  });

  it('raised no uncaught error in the page along the way', () => {
    expect(pageErrors).toEqual([]);
  });
});
