import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LoopLag, lateLoopWarnings } from '../../src/transports/admission.js';
import { TEST_TOKEN, testQuiver } from '../support/databases.js';
import { tinyMlp } from '../support/onnx-models.js';
import { adminMetadata, deployVersion, httpApi, oipClient, waitFor } from '../support/serving.js';

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

describe('load shedding on event-loop delay (QUIVER_MAX_EVENT_LOOP_DELAY_MS)', () => {
  let ctx: Awaited<ReturnType<typeof testQuiver>>;
  let base: string;

  beforeAll(async () => {
    ctx = await testQuiver('sqlite', {
      env: { QUIVER_MAX_EVENT_LOOP_DELAY_MS: '150', QUIVER_HTTP_PORT: '0', QUIVER_GRPC_PORT: '0' },
    });
    base = await ctx.quiver.listen();
  });
  afterAll(async () => ctx?.close());

  /**
   * A client in another process asks one request after the other for `ms`; it prints a line when
   * its first answer came, then one JSON line per answer: status, Retry-After, error reason.
   */
  function steadyClient(ms: number) {
    const script = `
      const http = require('node:http');
      const agent = new http.Agent({ keepAlive: true });
      const until = Date.now() + ${ms};
      let first = true;
      const ask = () => http.get('${base}/v1/namespaces', { agent, headers: { authorization: 'Bearer ${TEST_TOKEN}' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          if (first) { first = false; console.log('started'); }
          let reason;
          try { reason = JSON.parse(body).error?.details?.reason; } catch {}
          console.log(JSON.stringify({ status: res.statusCode, retryAfter: res.headers['retry-after'], reason, body: body.slice(0, 200) }));
          if (Date.now() < until) ask(); else process.exit(0);
        });
      });
      ask();`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const started = new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk;
        if (out.includes('started')) resolve();
      }),
    );
    const done = new Promise<{ status: number; retryAfter?: string; reason?: string; body: string }[]>(
      (resolve) =>
        child.once('exit', () =>
          resolve(
            out
              .split('\n')
              .filter((l) => l.startsWith('{'))
              .map((l) => JSON.parse(l)),
          ),
        ),
    );
    return { started, done };
  }

  it('answers UNAVAILABLE with Retry-After while its loop runs late, then serves again', async () => {
    const client = steadyClient(1_500);
    await client.started;
    // Hold this process's loop for 600 ms, as a turn of hundreds of heavy requests would.
    const until = performance.now() + 600;
    while (performance.now() < until) {}
    const answers = await client.done;
    const refused = answers.filter((a) => a.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((a) => a.retryAfter === '1' && a.reason === 'OVERLOADED')).toBe(true);
    expect(refused[0]!.body).toMatch(/event loop is \d+ ms behind/);
    // Shedding stops once the loop keeps time again: the answers after the refusals are served.
    const lastRefused = answers.findLastIndex((a) => a.status === 503);
    expect(answers.slice(lastRefused + 1).length).toBeGreaterThan(0);
    expect(answers.slice(lastRefused + 1).every((a) => a.status === 200)).toBe(true);
    expect(answers.length - refused.length).toBeGreaterThan(refused.length);
  });
});

describe('late event-loop warnings', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('tells of the turns that ran later than the bound, with how late', async () => {
    const reports: number[] = [];
    const lag = new LoopLag(10, { overMs: 300, report: (ms) => reports.push(ms) }).start();
    try {
      // Hold the loop for 600 ms, as a turn of hundreds of heavy requests would.
      const until = performance.now() + 600;
      while (performance.now() < until) {}
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(reports.length).toBeGreaterThan(0);
      expect(reports.every((ms) => ms > 300)).toBe(true);
      expect(Math.max(...reports)).toBeGreaterThan(500);
    } finally {
      lag.stop();
    }
  });

  it('warns at once, then sums up the late turns of each interval in one warning', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] });
    const warnings: { fields: object; message: string }[] = [];
    const report = lateLoopWarnings((fields, message) => warnings.push({ fields, message }), 2000, 10_000);
    report(2100);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.fields).toEqual({ late_turns: 1, worst_ms: 2100, bound_ms: 2000 });
    expect(warnings[0]!.message).toMatch(/ran up to 2100 ms late .* refused with 503\/UNAVAILABLE/);
    vi.advanceTimersByTime(3_000);
    report(2500);
    report(3200.4);
    vi.advanceTimersByTime(3_000);
    report(2050);
    expect(warnings).toHaveLength(1);
    // No late turn follows: the interval's sum is still told when it ends.
    vi.advanceTimersByTime(4_000);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]!.fields).toEqual({ late_turns: 3, worst_ms: 3200, bound_ms: 2000 });
    // A late turn after a quiet interval is told at once again.
    vi.advanceTimersByTime(20_000);
    report(2300);
    expect(warnings).toHaveLength(3);
    expect(warnings[2]!.fields).toEqual({ late_turns: 1, worst_ms: 2300, bound_ms: 2000 });
  });
});

describe('load shedding: requests whose client leaves before the answer', () => {
  let ctx: Awaited<ReturnType<typeof testQuiver>>;
  let base: string;
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };
  const api = httpApi(() => base);
  const inFlight = async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    return Number(text.match(/^quiver_requests_in_flight (\S+)$/m)?.[1] ?? Number.NaN);
  };

  beforeAll(async () => {
    ctx = await testQuiver('sqlite', {
      env: { QUIVER_MAX_IN_FLIGHT: '3', QUIVER_HTTP_PORT: '0', QUIVER_GRPC_PORT: '0' },
    });
    base = await ctx.quiver.listen();
  });
  afterAll(async () => ctx?.close());

  it('gives the slot back when the connection closes, so the limit is never used up by clients that left', async () => {
    // A batch that waits up to a second for companions: every call stays in flight that long.
    await deployVersion(api, {
      ns: 'slow',
      model: 'mlp',
      deployment: 'slow-mlp',
      bytes: tinyMlp({ seed: 3 }).bytes,
      batching: { max_batch_size: 8, max_queue_delay_us: 1_000_000 },
    });
    const infer = (signal?: AbortSignal) =>
      fetch(`${base}/v2/models/slow-mlp/infer`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }],
        }),
        ...(signal ? { signal } : {}),
      });

    // Three clients, as many as the limit, each give up while their call waits for its batch.
    for (let round = 0; round < 2; round++) {
      const abort = new AbortController();
      const calls = [0, 1, 2].map(() => infer(abort.signal).catch((err: Error) => err));
      await waitFor(inFlight, (n) => n === 3, 10_000, 'three calls in flight');
      abort.abort();
      for (const c of await Promise.all(calls)) expect(c).toBeInstanceOf(Error);
      // Their answers, written once the batch runs, go to closed sockets; the slots come back.
      await waitFor(inFlight, (n) => n === 0, 10_000, 'the slots of the clients that left');
    }
    const served = await infer();
    expect(served.status).toBe(200);
  });
});
