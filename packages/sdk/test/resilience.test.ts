import { createClient, type FetchLike } from '@quiver/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, startServer, TEST_TOKEN } from './server.js';

let server: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  server = await startServer();
  const client = createClient({ baseUrl: server.url, token: TEST_TOKEN });
  await client.namespaces.create({ namespace_id: 'retry' });
  await client.models.create('retry', { model_id: 'm' });
});
afterAll(() => server?.close());

interface Attempt {
  url: string;
  method: string;
  key: string | undefined;
}

/** A fetch that records every attempt and lets a test decide how each one goes. */
function scripted(
  behaviour: (n: number, url: string, init: Parameters<FetchLike>[1]) => ReturnType<FetchLike>,
) {
  const attempts: Attempt[] = [];
  const fetchLike: FetchLike = (url, init) => {
    attempts.push({ url, method: init.method, key: init.headers['idempotency-key'] });
    return behaviour(attempts.length, url, init);
  };
  return { attempts, fetch: fetchLike };
}

const refused = () => Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }));
const hang = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

describe('SDK retries, idempotency and cancellation', () => {
  it('returns the same version for the same idempotency key', async () => {
    const client = createClient({ baseUrl: server.url, token: TEST_TOKEN });
    const a = await client.versions.create(
      'retry',
      'm',
      { description: 'x' },
      { idempotencyKey: 'same-key-1' },
    );
    const b = await client.versions.create(
      'retry',
      'm',
      { description: 'x' },
      { idempotencyKey: 'same-key-1' },
    );
    expect(b).toEqual(a);
    const c = await client.versions.create('retry', 'm', { description: 'x' });
    expect(c.version).toBe(a.version + 1);
  });

  it('retries UNAVAILABLE network failures with the same key, then succeeds', async () => {
    const script = scripted((n, url, init) => (n <= 2 ? refused() : fetch(url, init)));
    const client = createClient({
      baseUrl: server.url,
      token: TEST_TOKEN,
      fetch: script.fetch,
      retryDelayMs: 5,
    });
    const before = (await createClient({ baseUrl: server.url, token: TEST_TOKEN }).models.get('retry', 'm'))
      .latest_version;

    const created = await client.versions.create('retry', 'm', { description: 'after two failures' });

    expect(created.version).toBe(before + 1);
    expect(script.attempts).toHaveLength(3);
    const keys = new Set(script.attempts.map((a) => a.key));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('does not register twice when the answer of a committed write is lost', async () => {
    const script = scripted(async (n, url, init) => {
      const res = await fetch(url, init);
      if (n === 1) throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      return res;
    });
    const client = createClient({
      baseUrl: server.url,
      token: TEST_TOKEN,
      fetch: script.fetch,
      retryDelayMs: 5,
    });
    const direct = createClient({ baseUrl: server.url, token: TEST_TOKEN });
    const before = (await direct.models.get('retry', 'm')).latest_version;

    const created = await client.versions.create('retry', 'm', { description: 'lost answer' });

    expect(script.attempts).toHaveLength(2);
    expect(created.version).toBe(before + 1);
    expect((await direct.models.get('retry', 'm')).latest_version).toBe(before + 1);
  });

  it('retries a 503 envelope and reads are retried too', async () => {
    const unavailable = {
      status: 503,
      headers: { get: () => null },
      text: async () =>
        JSON.stringify({
          error: {
            code: 'UNAVAILABLE',
            message: 'busy',
            details: { reason: 'DATABASE_UNAVAILABLE' },
            request_id: 'r1',
          },
        }),
    };
    const script = scripted((n, url, init) => (n === 1 ? Promise.resolve(unavailable) : fetch(url, init)));
    const client = createClient({
      baseUrl: server.url,
      token: TEST_TOKEN,
      fetch: script.fetch,
      retryDelayMs: 5,
    });
    expect((await client.models.get('retry', 'm')).model_id).toBe('m');
    expect(script.attempts.map((a) => a.key)).toEqual([undefined, undefined]);
  });

  it('gives up after the configured retries with UNAVAILABLE and a useful message', async () => {
    const script = scripted(() => refused());
    const client = createClient({
      baseUrl: 'http://127.0.0.1:9',
      fetch: script.fetch,
      retries: 2,
      retryDelayMs: 1,
    });
    const err = await failure(client.namespaces.list());
    expect(err).toMatchObject({ code: 'UNAVAILABLE', reason: 'NETWORK_ERROR', httpStatus: undefined });
    expect(err.message).toContain('ECONNREFUSED');
    expect(script.attempts).toHaveLength(3);
  });

  it('reports a refused connection from the real fetch as UNAVAILABLE', async () => {
    const client = createClient({ baseUrl: 'http://127.0.0.1:9', retries: 0 });
    const err = await failure(client.namespaces.get('x'));
    expect(err).toMatchObject({ code: 'UNAVAILABLE', reason: 'NETWORK_ERROR' });
  });

  it('does not retry errors that are not transient', async () => {
    const script = scripted((_, url, init) => fetch(url, init));
    const client = createClient({ baseUrl: server.url, token: TEST_TOKEN, fetch: script.fetch });
    await failure(client.models.get('retry', 'missing'));
    expect(script.attempts).toHaveLength(1);
  });

  it('aborts an in-flight call with CANCELLED and does not retry it', async () => {
    const script = scripted((_, __, init) => hang(init.signal));
    const client = createClient({ baseUrl: server.url, token: TEST_TOKEN, fetch: script.fetch });
    const controller = new AbortController();
    const pending = client.versions.create('retry', 'm', {}, { signal: controller.signal });
    controller.abort();
    const err = await failure(pending);
    expect(err).toMatchObject({ code: 'CANCELLED', reason: 'CANCELLED' });
    expect(script.attempts).toHaveLength(1);
  });

  it('does not even send a call whose signal is already aborted', async () => {
    const script = scripted((_, url, init) => fetch(url, init));
    const client = createClient({ baseUrl: server.url, token: TEST_TOKEN, fetch: script.fetch });
    const err = await failure(client.namespaces.list({}, { signal: AbortSignal.abort() }));
    expect(err.code).toBe('CANCELLED');
    expect(script.attempts).toHaveLength(0);
  });

  it('cuts slow attempts after timeoutMs and retries them', async () => {
    const script = scripted((_, __, init) => hang(init.signal));
    const client = createClient({
      baseUrl: server.url,
      token: TEST_TOKEN,
      fetch: script.fetch,
      retries: 1,
      retryDelayMs: 1,
    });
    const err = await failure(client.namespaces.get('retry', { timeoutMs: 20 }));
    expect(err).toMatchObject({ code: 'UNAVAILABLE', reason: 'DEADLINE_EXCEEDED' });
    expect(err.message).toContain('20 ms');
    expect(script.attempts).toHaveLength(2);
  });

  it('treats a caller AbortSignal.timeout as a deadline', async () => {
    const script = scripted((_, __, init) => hang(init.signal));
    const client = createClient({ baseUrl: server.url, token: TEST_TOKEN, fetch: script.fetch });
    const err = await failure(client.namespaces.get('retry', { signal: AbortSignal.timeout(20) }));
    expect(err).toMatchObject({ code: 'UNAVAILABLE', reason: 'DEADLINE_EXCEEDED' });
    expect(script.attempts).toHaveLength(1);
  });

  it('maps a non-JSON proxy error by its HTTP status', async () => {
    const badGateway = {
      status: 502,
      headers: { get: () => null },
      text: async () => '<html>Bad Gateway</html>',
    };
    const client = createClient({
      baseUrl: server.url,
      token: TEST_TOKEN,
      fetch: async () => badGateway,
      retries: 0,
    });
    const err = await failure(client.namespaces.list());
    expect(err).toMatchObject({ code: 'UNAVAILABLE', httpStatus: 502 });
    expect(err.message).toContain('Bad Gateway');
  });
});
