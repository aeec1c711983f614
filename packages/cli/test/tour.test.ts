import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, quiver, startServer } from './support.js';

let server: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

describe('the README tour through the CLI', () => {
  it('registers, moves and finds a model the way the README shows', async () => {
    const url = server.url;
    expect(await ok(url, ['namespaces', 'create', 'fraud', '--description', 'Fraud detection'])).toMatch(
      /namespace_id\s+fraud/,
    );
    const model = await ok(url, [
      'models',
      'create',
      'fraud/scorer',
      '--label',
      'team=risk',
      '--label',
      'tier=gold',
    ]);
    expect(model).toMatch(/labels\s+team=risk, tier=gold/);
    await ok(url, ['models', 'create', 'fraud/other', '--label', 'team=ops']);

    const v1 = await ok(url, [
      'versions',
      'create',
      'fraud/scorer',
      '--description',
      'XGBoost, 2026-11',
      '--metadata',
      '{"auc":0.941}',
    ]);
    expect(v1).toMatch(/version\s+1\n/);
    expect(v1).toMatch(/metadata\s+\{"auc":0.941\}/);
    const v2 = await ok(url, ['versions', 'create', 'fraud/scorer', '--source-uri', 's3://models/scorer/2']);
    expect(v2).toMatch(/version\s+2\n/);

    const moved = await ok(url, [
      'versions',
      'transition',
      'fraud/scorer@1',
      'validated',
      '--reason',
      'offline eval passed',
    ]);
    expect(moved).toMatch(/status\s+validated/);

    expect(await ok(url, ['aliases', 'set', 'fraud/scorer', 'champion', '1'])).toContain(
      'fraud/scorer@champion → version 1',
    );
    const champion = await ok(url, ['versions', 'get', 'fraud/scorer@champion']);
    expect(champion).toMatch(/name\s+namespaces\/fraud\/models\/scorer\/versions\/1/);
    expect(champion).toMatch(/aliases\s+champion/);
    expect(await ok(url, ['versions', 'get', 'fraud/scorer/2'])).toMatch(
      /source_uri\s+s3:\/\/models\/scorer\/2/,
    );

    const table = await ok(url, ['models', 'list', '-', '--filter', 'labels.team="risk"']);
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^MODEL\s+LATEST\s+ALIASES\s+LABELS/);
    expect(lines.slice(1)).toHaveLength(1);
    expect(lines[1]).toMatch(/^fraud\/scorer\s+2\s+champion=1\s+team=risk, tier=gold/);

    const json = JSON.parse(
      await ok(url, ['models', 'list', '-', '--filter', 'labels.team="risk"', '--output', 'json']),
    );
    expect(json.items.map((m: any) => m.name)).toEqual(['namespaces/fraud/models/scorer']);
    expect(json.next_page_token).toBe('');

    const history = await ok(url, ['versions', 'history', 'fraud/scorer@champion']);
    expect(history).toMatch(/transition\s+registered\s+validated\s+-\s+admin\s+offline eval passed/);
    expect(history).toMatch(/alias_set.*champion/);

    const version = JSON.parse(await ok(url, ['-o', 'json', 'versions', 'get', 'fraud/scorer@1']));
    expect(version).toMatchObject({ version: 1, status: 'validated', metadata: { auc: 0.941 } });
  });

  it('reports a bad request as "error: CODE: message (field)" with exit code 1', async () => {
    const bad = await quiver(server.url, ['namespaces', 'create', 'Not Valid']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^error: INVALID_ARGUMENT: .*\(field: namespace_id\)\n$/);

    const missing = await quiver(server.url, ['models', 'get', 'fraud/nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: NOT_FOUND: /);

    const illegal = await quiver(server.url, ['versions', 'transition', 'fraud/scorer@2', 'archived']);
    expect(illegal.code).toBe(1);
    expect(illegal.stderr).toContain('error: FAILED_PRECONDITION:');
    expect(illegal.stderr).toContain('validated, rejected');

    const badRef = await quiver(server.url, ['versions', 'get', 'fraud/scorer']);
    expect(badRef.code).toBe(1);
    expect(badRef.stderr).toMatch(/^error: INVALID_ARGUMENT: .*fraud\/scorer@3/);

    const badStatus = await quiver(server.url, ['versions', 'transition', 'fraud/scorer@2', 'shipped']);
    expect(badStatus.code).toBe(1);
    expect(badStatus.stderr).toContain("'shipped' is invalid for argument 'status'");

    const badLabel = await quiver(server.url, ['models', 'create', 'fraud/x', '--label', 'novalue']);
    expect(badLabel.code).toBe(1);
    expect(badLabel.stderr).toContain('key=value');

    const badJson = await quiver(server.url, ['versions', 'create', 'fraud/scorer', '--metadata', '{oops']);
    expect(badJson.code).toBe(1);
    expect(badJson.stderr).toMatch(/^error: INVALID_ARGUMENT: --metadata is not valid JSON/);
  });

  it('says how to fix an unreachable server', async () => {
    const result = await quiver('http://127.0.0.1:9', ['namespaces', 'list']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot reach Quiver at http://127.0.0.1:9; is `quiver serve` running?');
  });

  it('pages through lists and fetches every page with --all', async () => {
    await ok(server.url, ['namespaces', 'create', 'paged']);
    for (let i = 0; i < 5; i++) await ok(server.url, ['models', 'create', `paged/m${i}`]);
    const first = await quiver(server.url, ['models', 'list', 'paged', '--page-size', '2']);
    expect(first.stdout.trimEnd().split('\n')).toHaveLength(3);
    const token = /--page-token (\S+)/.exec(first.stderr)?.[1];
    expect(token).toBeDefined();
    const second = await ok(server.url, [
      'models',
      'list',
      'paged',
      '--page-size',
      '2',
      '--page-token',
      token!,
    ]);
    expect(second).toContain('paged/m2');

    const all = JSON.parse(
      await ok(server.url, ['models', 'list', 'paged', '--all', '--page-size', '2', '-o', 'json']),
    );
    expect(all.items).toHaveLength(5);
    expect(all.next_page_token).toBe('');
  });

  it('updates labels by merging them and deletes with --force', async () => {
    await ok(server.url, ['namespaces', 'create', 'edits']);
    await ok(server.url, ['models', 'create', 'edits/m', '--label', 'a=1', '--label', 'b=2']);
    await ok(server.url, ['versions', 'create', 'edits/m', '--label', 'stage=new']);
    const updated = JSON.parse(
      await ok(server.url, [
        'models',
        'update',
        'edits/m',
        '--label',
        'c=3',
        '--remove-label',
        'a',
        '-o',
        'json',
      ]),
    );
    expect(updated.labels).toEqual({ b: '2', c: '3' });
    const version = JSON.parse(
      await ok(server.url, ['versions', 'update', 'edits/m@1', '--description', 'first', '-o', 'json']),
    );
    expect(version).toMatchObject({ description: 'first', labels: { stage: 'new' } });

    const refused = await quiver(server.url, ['models', 'delete', 'edits/m']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--force');
    expect(await ok(server.url, ['models', 'delete', 'edits/m', '--force'])).toContain(
      'Deleted model edits/m',
    );
  });

  it('reads many versions at once with batch-get', async () => {
    const out = await ok(server.url, [
      'versions',
      'batch-get',
      'fraud/scorer@champion',
      'fraud/scorer@2',
      'fraud/scorer@9',
    ]);
    expect(out).toMatch(/fraud\/scorer@1\s+validated/);
    expect(out).toMatch(/fraud\/scorer@2\s+registered/);
    const json = JSON.parse(await ok(server.url, ['versions', 'batch-get', 'fraud/scorer@9', '-o', 'json']));
    expect(json).toEqual({ versions: [], missing: ['namespaces/fraud/models/scorer/versions/9'] });
  });

  it('unsets an alias', async () => {
    await ok(server.url, ['aliases', 'set', 'fraud/scorer', 'challenger', '@champion']);
    expect(await ok(server.url, ['aliases', 'unset', 'fraud/scorer', 'challenger'])).toContain(
      'Removed alias challenger',
    );
    const again = await quiver(server.url, ['aliases', 'unset', 'fraud/scorer', 'challenger']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: NOT_FOUND:/);
  });
});
