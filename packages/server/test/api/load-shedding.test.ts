import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TOKEN, testQuiver } from '../support/databases.js';
import { adminMetadata, oipClient, waitFor } from '../support/serving.js';

describe('load shedding (QUIVER_MAX_IN_FLIGHT)', () => {
  let ctx: Awaited<ReturnType<typeof testQuiver>>;
  let base: string;
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };

  beforeAll(async () => {
    ctx = await testQuiver('sqlite', {
      env: { QUIVER_MAX_IN_FLIGHT: '2', QUIVER_HTTP_PORT: '0', QUIVER_GRPC_PORT: '0' },
    });
    base = await ctx.quiver.listen();
  });
  afterAll(async () => ctx?.close());

  const metric = async (name: string) => {
    const text = await (await fetch(`${base}/metrics`)).text();
    return Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1] ?? Number.NaN);
  };

  /** An artifact upload whose body arrives only when `finish` is called: a request that stays in flight. */
  function slowUpload(fill: number) {
    let finish!: () => void;
    const released = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new Uint8Array(1024).fill(fill));
        await released;
        controller.enqueue(new Uint8Array(1024));
        controller.close();
      },
    });
    const answer = fetch(`${base}/v1/artifacts`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body,
      duplex: 'half',
    } as RequestInit);
    return { finish, answer };
  }

  it('answers UNAVAILABLE with Retry-After past the limit, keeps probes answering, and recovers', async () => {
    const uploads = [slowUpload(1), slowUpload(2)];
    await waitFor(
      () => metric('quiver_requests_in_flight'),
      (n) => n === 2,
      10_000,
      'both uploads in flight',
    );

    const refused = await fetch(`${base}/v1/namespaces`, { headers: auth });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    const body = (await refused.json()) as { error: { code: string; details: { reason: string } } };
    expect(body.error.code).toBe('UNAVAILABLE');
    expect(body.error.details.reason).toBe('OVERLOADED');
    // Probes are how operators see a saturated process: never shed.
    expect((await fetch(`${base}/livez`)).status).toBe(200);

    // gRPC shares the limit and says the same.
    const grpc = oipClient(ctx.quiver.grpcPort());
    try {
      const err = await grpc.call('ServerLive', {}, adminMetadata()).then(
        () => undefined,
        (e: { code: number; metadata: { get(k: string): unknown[] } }) => e,
      );
      expect(err?.code).toBe(14);
      expect(err?.metadata.get('retry-after')).toEqual(['1']);
    } finally {
      grpc.close();
    }

    for (const u of uploads) u.finish();
    for (const u of uploads) expect((await u.answer).status).toBe(201);
    await waitFor(
      () => metric('quiver_requests_in_flight'),
      (n) => n === 0,
      10_000,
      'the uploads to finish',
    );
    expect((await fetch(`${base}/v1/namespaces`, { headers: auth })).status).toBe(200);
    expect(await metric('quiver_requests_shed_total')).toBeGreaterThanOrEqual(2);
  });
});
