import {
  collect,
  createClient,
  type FetchLike,
  type QuiverClient,
  QuiverError,
  versionName,
} from '@quiver/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, startServer, TEST_TOKEN } from './server.js';

let server: Awaited<ReturnType<typeof startServer>>;
let client: QuiverClient;

beforeAll(async () => {
  server = await startServer();
  client = createClient({ baseUrl: server.url, token: TEST_TOKEN });
});
afterAll(() => server?.close());

describe('SDK against a real server', () => {
  it('runs the registry flow: namespace, model, versions, lifecycle, aliases', async () => {
    const ns = await client.namespaces.create({ namespace_id: 'flow', description: 'the tour' });
    expect(ns).toMatchObject({ name: 'namespaces/flow', namespace_id: 'flow', description: 'the tour' });
    expect(await client.namespaces.get('flow')).toEqual(ns);

    const model = await client.models.create('flow', { model_id: 'scorer', labels: { team: 'risk' } });
    expect(model).toMatchObject({ name: 'namespaces/flow/models/scorer', latest_version: 0, aliases: {} });

    const v1 = await client.versions.create('flow', 'scorer', { metadata: { auc: 0.9 } });
    const v2 = await client.versions.create('flow', 'scorer', { source_uri: 's3://m/2' });
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect(v1.status).toBe('registered');

    const validated = await client.versions.transition('flow', 'scorer', 2, {
      status: 'validated',
      reason: 'offline eval ok',
    });
    expect(validated.status).toBe('validated');

    const alias = await client.aliases.set('flow', 'scorer', 'champion', 2);
    expect(alias).toMatchObject({ alias: 'champion', version: 2, previous_version: null });
    const champion = await client.versions.get('flow', 'scorer', '@champion');
    expect(champion).toMatchObject({ version: 2, aliases: ['champion'], status: 'validated' });

    const moved = await client.aliases.set('flow', 'scorer', 'champion', 1);
    expect(moved.previous_version).toBe(2);
    await client.aliases.unset('flow', 'scorer', 'champion');
    expect((await client.models.get('flow', 'scorer')).aliases).toEqual({});

    const history = await collect(client.versions.iterateHistory('flow', 'scorer', 2));
    expect(history.map((h) => h.kind)).toEqual(['created', 'transition', 'alias_set']);
    expect(history[1]).toMatchObject({
      from_status: 'registered',
      to_status: 'validated',
      reason: 'offline eval ok',
    });

    const updated = await client.versions.update('flow', 'scorer', 1, { labels: { stage: 'old' } });
    expect(updated.labels).toEqual({ stage: 'old' });

    const batch = await client.versions.batchGet([
      versionName('flow', 'scorer', 1),
      versionName('flow', 'scorer', 9),
    ]);
    expect(batch.versions.map((v) => v.version)).toEqual([1]);
    expect(batch.missing).toEqual(['namespaces/flow/models/scorer/versions/9']);

    const listed = await client.versions.list('flow', 'scorer');
    expect(listed.items.map((v) => v.version)).toEqual([2, 1]);
    expect(listed.next_page_token).toBe('');

    const patched = await client.models.update('flow', 'scorer', { description: 'scores' });
    expect(patched.description).toBe('scores');
    await expect(client.models.delete('flow', 'scorer')).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
    });
    await client.models.delete('flow', 'scorer', { force: true });
    await expect(client.models.get('flow', 'scorer')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('iterates across several pages, fetching one page at a time', async () => {
    let requests = 0;
    const counting: FetchLike = (url, init) => {
      requests++;
      return fetch(url, init);
    };
    const paged = createClient({ baseUrl: server.url, token: TEST_TOKEN, fetch: counting });
    await client.namespaces.create({ namespace_id: 'paging' });
    for (let i = 0; i < 7; i++) {
      await client.models.create('paging', { model_id: `m${i}`, labels: { team: i % 2 ? 'odd' : 'even' } });
    }
    const first = await paged.models.list('paging', { page_size: 3 });
    expect(first.items).toHaveLength(3);
    expect(first.next_page_token).not.toBe('');

    requests = 0;
    const names: string[] = [];
    for await (const m of paged.models.iterate('paging', { page_size: 3 })) names.push(m.model_id);
    expect(names).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    expect(requests).toBe(3);

    const rest = await collect(
      paged.models.iterate('paging', { page_size: 3, page_token: first.next_page_token }),
    );
    expect(rest.map((m) => m.model_id)).toEqual(['m3', 'm4', 'm5', 'm6']);

    const even = await collect(
      paged.models.iterate('paging', { filter: 'labels.team = "even"', page_size: 2 }),
    );
    expect(even.map((m) => m.model_id)).toEqual(['m0', 'm2', 'm4', 'm6']);

    const all = await collect(paged.models.iterate('-', { filter: 'model_id = "m5"' }));
    expect(all.map((m) => m.name)).toEqual(['namespaces/paging/models/m5']);
  });

  it('iterates a list call itself with for await, and awaits it as one page', async () => {
    let requests = 0;
    const counting: FetchLike = (url, init) => {
      requests++;
      return fetch(url, init);
    };
    const paged = createClient({ baseUrl: server.url, token: TEST_TOKEN, fetch: counting });
    await client.namespaces.create({ namespace_id: 'listing' });
    for (let i = 0; i < 5; i++) await client.models.create('listing', { model_id: `l${i}` });

    const names: string[] = [];
    for await (const m of paged.models.list('listing', { page_size: 2 })) names.push(m.model_id);
    expect(names).toEqual(['l0', 'l1', 'l2', 'l3', 'l4']);
    expect(requests).toBe(3); // the first page is not fetched twice

    const page = await paged.models.list('listing', { page_size: 2 });
    expect(page.items.map((m) => m.model_id)).toEqual(['l0', 'l1']);
    const after = await collect(
      paged.models.list('listing', { page_size: 2, page_token: page.next_page_token }),
    );
    expect(after.map((m) => m.model_id)).toEqual(['l2', 'l3', 'l4']);

    const firstTwo: string[] = [];
    requests = 0;
    for await (const m of paged.models.list('listing', { page_size: 2 })) {
      firstTwo.push(m.model_id);
      if (firstTwo.length === 2) break;
    }
    expect(requests).toBe(1); // stopping early fetches nothing more
  });

  it('reads the status of many versions at once with batchGetStatus', async () => {
    await client.models.create('listing', { model_id: 'statuses' });
    const v = await client.versions.create('listing', 'statuses', {});
    await client.versions.transition('listing', 'statuses', v.version, { status: 'validated' });
    const { versions, missing } = await client.versions.batchGetStatus([
      v.name,
      'namespaces/listing/models/statuses/versions/99',
    ]);
    expect(versions).toEqual([
      {
        name: v.name,
        version: v.version,
        status: 'validated',
        update_time: expect.any(String),
        etag: expect.any(String),
      },
    ]);
    expect(missing).toEqual(['namespaces/listing/models/statuses/versions/99']);
  });

  it('maps NOT_FOUND with the server reason, request id and HTTP status', async () => {
    const err = await failure(client.namespaces.get('nowhere'));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.reason).toBe('NAMESPACE_NOT_FOUND');
    expect(err.httpStatus).toBe(404);
    expect(err.requestId).toMatch(/.+/);
    expect(err.message).toContain('nowhere');
  });

  it('maps INVALID_ARGUMENT and names the field at fault', async () => {
    const err = await failure(client.namespaces.create({ namespace_id: 'Not Valid' }));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.httpStatus).toBe(400);
    expect(err.field).toBe('namespace_id');
    expect(err.details.field).toBe('namespace_id');

    const filter = await failure(client.models.list('-', { filter: 'nonsense ==' }));
    expect(filter).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'INVALID_FILTER', field: 'filter' });
  });

  it('maps ALREADY_EXISTS and illegal transitions', async () => {
    await client.namespaces.create({ namespace_id: 'dupes' });
    const dup = await failure(client.namespaces.create({ namespace_id: 'dupes' }));
    expect(dup).toMatchObject({ code: 'ALREADY_EXISTS', httpStatus: 409 });

    await client.models.create('dupes', { model_id: 'm' });
    await client.versions.create('dupes', 'm');
    const illegal = await failure(client.versions.transition('dupes', 'm', 1, { status: 'archived' }));
    expect(illegal).toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'ILLEGAL_TRANSITION' });
    expect(illegal.details.allowed).toEqual(['validated', 'rejected']);
  });

  it('honours ifMatch: a stale ETag fails with FAILED_PRECONDITION (412)', async () => {
    await client.namespaces.create({ namespace_id: 'etags' });
    const model = await client.models.create('etags', { model_id: 'm' });
    const updated = await client.models.update('etags', 'm', { description: 'one' }, { ifMatch: model.etag });
    expect(updated.etag).not.toBe(model.etag);

    const stale = await failure(
      client.models.update('etags', 'm', { description: 'two' }, { ifMatch: model.etag }),
    );
    expect(stale).toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'ETAG_MISMATCH', httpStatus: 412 });
    expect((await client.models.get('etags', 'm')).description).toBe('one');
  });

  it('sends the token as a bearer header and a user agent', async () => {
    const seen: Record<string, string>[] = [];
    const spy: FetchLike = (url, init) => {
      seen.push(init.headers);
      return fetch(url, init);
    };
    const authed = createClient({ baseUrl: `${server.url}/`, token: () => TEST_TOKEN, fetch: spy });
    await authed.namespaces.list();
    expect(seen[0]).toMatchObject({ authorization: `Bearer ${TEST_TOKEN}` });
    expect(seen[0]?.['user-agent']).toMatch(/^quiver-sdk-js\//);
    expect(seen[0]?.['idempotency-key']).toBeUndefined();
  });

  it('refuses a client without a usable baseUrl', () => {
    expect(() => createClient({})).toThrow(QuiverError);
    expect(() => createClient({ baseUrl: 'localhost:8080' })).toThrow(/http/);
  });
});
