import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceMlp, tinyMlp } from '../../server/test/support/onnx-models.js';
import { ok, quiver, startServer, TEST_TOKEN } from './support.js';

let server: Awaited<ReturnType<typeof startServer>>;
let dir: string;
let modelFile: string;
const mlp = tinyMlp({ seed: 5 }); // 575 bytes
const digest = `sha256:${createHash('sha256').update(mlp.bytes).digest('hex')}`;
const x = [0.5, -1, 2, 3, 1, 1, 1, 1];

const run = (argv: string[]) => quiver(server.url, argv);
const cli = (argv: string[]) => ok(server.url, argv);

function expectClose(actual: number[], expected: number[], tolerance = 1e-5) {
  expect(actual).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++)
    expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThan(tolerance);
}

beforeAll(async () => {
  server = await startServer({ pollMs: 50 });
  dir = await mkdtemp(join(tmpdir(), 'quiver-cli-model-'));
  modelFile = join(dir, 'model.onnx');
  await writeFile(modelFile, mlp.bytes);
  await cli(['namespaces', 'create', 'fraud']);
  await cli(['models', 'create', 'fraud/scorer']);
});
afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('serving through the CLI', () => {
  it('uploads a model file and registers it in one step, with progress on stderr', async () => {
    const created = await run(['versions', 'create', 'fraud/scorer', '--artifact', modelFile]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/version\s+1\n/);
    expect(created.stdout).toContain(`artifact     ${digest} (${mlp.bytes.length} bytes, onnx)`);
    expect(created.stdout).toMatch(/signature\s+input:FP32\[-1,4\] → output:FP32\[-1,3\]/);
    expect(created.stderr).toMatch(/^Hashed model\.onnx: 575 B in [\d.]+ s \([\d.]+ [kMG]?B\/s\)$/m);
    expect(created.stderr).toMatch(/^Uploaded model\.onnx: 575 B in [\d.]+ s/m);

    // The same bytes again: hashed, found on the server, not sent twice.
    const again = await run(['versions', 'create', 'fraud/scorer', '--artifact', modelFile, '-o', 'json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`Already stored as ${digest}; not uploading it again.`);
    expect(again.stderr).not.toContain('Uploaded');
    expect(JSON.parse(again.stdout)).toMatchObject({ version: 2, artifact: { digest, format: 'onnx' } });

    // A digest keeps working as before.
    const byDigest = await cli([
      'versions',
      'create',
      'fraud/scorer',
      '--artifact',
      digest,
      '--format',
      'onnx',
    ]);
    expect(byDigest).toMatch(/version\s+3\n/);
  });

  it('deploys with --wait, showing the rollout, then serves inference equal to the reference model', async () => {
    await cli(['aliases', 'set', 'fraud/scorer', 'champion', '1']);
    const deployed = await run(['deploy', 'fraud/scorer@champion', '--name', 'fraud-prod', '--wait']);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stdout).toMatch(/name\s+deployments\/fraud-prod\n/);
    expect(deployed.stdout).toMatch(/status\s+ready\n/);
    expect(deployed.stdout).toMatch(/serving\s+v1 100% \(sha256:/);
    // The watch shows the steps it sees (a fast rollout may pass one between two reads), then the end.
    expect(deployed.stderr).toMatch(
      /^Deploying fraud-prod: \d+% (queued|resolving versions|loading version 1)/m,
    );
    expect(deployed.stderr).toMatch(/^Deploying fraud-prod: 100% serving v1 100%$/m);

    const input = `input:FP32:[2,4]:${x.join(',')}`;
    const answer = await run(['infer', 'fraud-prod', '--input', input]);
    expect(answer.code, answer.stderr).toBe(0);
    expect(answer.stderr).toContain('fraud-prod version 1 answered.');
    const [header, row] = answer.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^OUTPUT\s+DATATYPE\s+SHAPE\s+DATA$/);
    expect(row).toMatch(/^output\s+FP32\s+\[2,3\]\s+\[\[/);
    const shown = JSON.parse(row!.slice(row!.indexOf('[[')));
    expect(shown).toHaveLength(2);
    expectClose(shown.flat(), referenceMlp(mlp.weights, x), 1e-5);

    const json = JSON.parse(
      await cli(['infer', 'fraud-prod', '--input', input, '--version', 'champion', '-o', 'json']),
    );
    expect(json).toMatchObject({ model_name: 'fraud-prod', model_version: '1' });
    expect(json.outputs[0]).toMatchObject({ name: 'output', datatype: 'FP32', shape: [2, 3] });
    expectClose(json.outputs[0].data, referenceMlp(mlp.weights, x), 1e-6);

    const request = join(dir, 'request.json');
    await writeFile(
      request,
      JSON.stringify({
        id: 'r-1',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [[1, 2, 3, 4]] }],
      }),
    );
    const fromFile = JSON.parse(
      await cli(['infer', 'deployments/fraud-prod', '--json', request, '-o', 'json']),
    );
    expect(fromFile.id).toBe('r-1');
    expectClose(fromFile.outputs[0].data, referenceMlp(mlp.weights, [1, 2, 3, 4]), 1e-6);
  });

  it('infers over gRPC with --grpc (or QUIVER_GRPC_URL), with the same answer as over REST', async () => {
    const input = `input:FP32:[2,4]:${x.join(',')}`;
    const grpc = `127.0.0.1:${server.quiver.grpcPort()}`;
    const answer = await run(['--grpc', grpc, 'infer', 'fraud-prod', '--input', input]);
    expect(answer.code, answer.stderr).toBe(0);
    expect(answer.stderr).toContain('fraud-prod version 1 answered over gRPC.');
    const viaEnv = await quiver(server.url, ['infer', 'fraud-prod', '--input', input, '-o', 'json'], {
      env: { QUIVER_URL: server.url, QUIVER_TOKEN: TEST_TOKEN, QUIVER_GRPC_URL: grpc },
    });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    const json = JSON.parse(viaEnv.stdout);
    expect(json).toMatchObject({ model_name: 'fraud-prod', model_version: '1' });
    expectClose(json.outputs[0].data, referenceMlp(mlp.weights, x), 1e-6);

    // Really gRPC, not REST: a port where nothing listens fails the call, although REST is up.
    const nowhere = await run(['--grpc', '127.0.0.1:1', 'infer', 'fraud-prod', '--input', input]);
    expect(nowhere.code).not.toBe(0);
    expect(nowhere.stderr).toMatch(/cannot reach Quiver at 127\.0\.0\.1:1\b/);
  });

  it('fails a deploy whose version has no model with exit 1 and the reason', async () => {
    await cli(['versions', 'create', 'fraud/scorer', '--description', 'metadata only']); // version 4
    const failed = await run(['deploy', 'fraud/scorer@4', '--name', 'nothing', '--wait']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      /^error: INVALID_ARGUMENT: Version 4 of 'fraud\/scorer' has no ONNX artifact/m,
    );
    expect(failed.stderr).toMatch(/^Deploying nothing: \d+% failed: Version 4/m);
    expect(failed.stdout).toBe('');
    expect(await cli(['deployments', 'get', 'nothing'])).toMatch(/status\s+failed\n/);
  });

  it('starts a rollout without --wait, then follows it through operations and deployments', async () => {
    const started = await run(['deploy', 'fraud/scorer@1', '--name', 'fraud-b', '--replicas', '2']);
    expect(started.code, started.stderr).toBe(0);
    const name = started.stdout.trim();
    expect(name).toMatch(/^operations\/[0-9a-f-]{36}$/);
    expect(started.stderr).toContain(`quiver operations wait ${name}`);

    const waited = await run(['operations', 'wait', name, '--timeout', '60']);
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stdout).toMatch(/done\s+true\n/);
    expect(waited.stdout).toMatch(/progress\s+100%\n/);
    expect(await cli(['operations', 'get', name.replace('operations/', '')])).toMatch(
      /target\s+deployments\/fraud-b\n/,
    );

    const canary = await run([
      'deployments',
      'update',
      'fraud-b',
      '--traffic',
      '1=90,3=10',
      '--batch-size',
      '8',
      '--wait',
    ]);
    expect(canary.code, canary.stderr).toBe(0);
    expect(canary.stdout).toMatch(/serving\s+v1 90% \(sha256:\w+\), v3 10%/);
    expect(canary.stdout).toMatch(/batching\s+max 8 requests, wait ≤ 1000 µs\n/);

    const promoted = JSON.parse(
      await cli([
        'deployments',
        'update',
        'fraud-b',
        '--version',
        '3',
        '--no-batching',
        '--wait',
        '-o',
        'json',
      ]),
    );
    expect(promoted).toMatchObject({ serving: [{ version: 3, percent: 100 }], batching: null, replicas: 2 });

    const list = await cli(['deployments', 'list']);
    expect(list).toMatch(/^DEPLOYMENT\s+MODEL\s+STATUS\s+SERVING/);
    expect(list).toMatch(/fraud-b\s+fraud\/scorer\s+ready\s+v3 100%\s+2/);
    expect(list).toMatch(/nothing\s+fraud\/scorer\s+failed/);

    const batch = await run(['deployments', 'batch-get', 'fraud-prod', 'fraud-b', 'ghost']);
    expect(batch.stdout).toMatch(/fraud-prod\s+fraud\/scorer\s+ready/);
    expect(batch.stderr).toContain('not found: ghost');

    const deleted = await run(['deployments', 'delete', 'fraud-b', '--wait']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe('Deleted deployment fraud-b.\n');
    const gone = await run(['deployments', 'get', 'fraud-b']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^error: NOT_FOUND:/);
  });

  it('uploads and downloads artifacts', async () => {
    const uploaded = JSON.parse(await cli(['artifacts', 'upload', modelFile, '-o', 'json']));
    expect(uploaded).toEqual({
      digest,
      size_bytes: mlp.bytes.length,
      media_type: 'application/octet-stream',
    });
    expect(await cli(['artifacts', 'get', digest])).toMatch(
      new RegExp(`^digest\\s+${digest}\\nsize_bytes\\s+${mlp.bytes.length} `),
    );
    expect(JSON.parse(await cli(['artifacts', 'get', digest, '-o', 'json']))).toEqual(uploaded);

    const copy = join(dir, 'copy.onnx');
    const got = await run(['artifacts', 'get', digest, '-o', copy]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stderr).toMatch(/^Downloaded copy\.onnx: /m);
    expect(new Uint8Array(await readFile(copy))).toEqual(mlp.bytes);

    const missing = await run(['artifacts', 'get', `sha256:${'0'.repeat(64)}`, '-o', join(dir, 'none.bin')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: NOT_FOUND: No artifact is stored/m);
    await expect(readFile(join(dir, 'none.bin.partial'))).rejects.toThrow();
  });

  it('explains command-line mistakes before calling the server', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['versions', 'create', 'fraud/scorer', '--artifact', join(dir, 'absent.onnx')],
        /--artifact: no such file/,
      ],
      [['versions', 'create', 'fraud/scorer', '--artifact', 'sha256:abc'], /64 hex digits/],
      [['versions', 'create', 'fraud/scorer', '--format', 'onnx'], /pass --artifact too/],
      [
        ['infer', 'fraud-prod', '--input', 'input:FP32:[2,4]:1,2,3'],
        /'input' has 3 values; shape \[2,4\] holds 8/,
      ],
      [['infer', 'fraud-prod', '--input', 'input:FLOAT:[1]:1'], /expected name:DATATYPE:\[shape\]:values/],
      [['infer', 'fraud-prod', '--input', 'input:INT32:[1]:1.5'], /takes whole numbers/],
      [['infer', 'fraud-prod'], /--input \(repeatable\) or --json/],
      [['deploy', 'fraud/scorer', '--name', 'x'], /Which version\?/],
      [['deploy', 'fraud/scorer@1', '--name', 'x', '--traffic', '1=50,3=50'], /not both/],
      [['deploy', 'fraud/scorer@1', '--name', 'x', '--traffic', '1=abc'], /version=percent pairs/],
      [['deploy', 'fraud/scorer@1', '--name', 'x', '--batch-delay-us', '10'], /needs --batch-size/],
      [['deployments', 'update', 'fraud-prod'], /Nothing to update/],
      [['-o', 'yaml', 'deployments', 'list'], /Allowed choices are table, json/],
    ];
    for (const [argv, message] of cases) {
      const result = await run(argv);
      expect(result.code, argv.join(' ')).toBe(1);
      expect(result.stderr, argv.join(' ')).toMatch(message);
    }
  });

  it('reports an inference the model refuses with the tensor at fault', async () => {
    const wrong = await run(['infer', 'fraud-prod', '--input', 'wrong:FP32:[1,4]:1,2,3,4']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error: INVALID_ARGUMENT: .*wrong/m);
    const unknown = await run(['infer', 'ghost', '--input', 'input:FP32:[1,4]:1,2,3,4']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: NOT_FOUND:/m);
  });
});
