// One load step with autocannon; records every response time to report exact percentiles.
import autocannon from 'autocannon';

/** The admin token the benchmark servers start with (QUIVER_BOOTSTRAP_TOKEN): authentication stays on. */
export const BENCH_TOKEN = 'qvr_quiver-bench-token-0123456789abcdefghij';
export const AUTH = { authorization: `Bearer ${BENCH_TOKEN}` };

/** One step: `request`, or `requests` (each connection cycles through them in order). */
export async function load({ url, connections, duration, request, requests, warmup = 1 }) {
  const list = requests ?? [request];
  if (warmup > 0) await run({ url, connections, duration: warmup, list, times: null });
  const times = [];
  const result = await run({ url, connections, duration, list, times });
  times.sort((a, b) => a - b);
  const pct = (p) =>
    times.length ? times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] : 0;
  const avg = times.reduce((a, b) => a + b, 0) / Math.max(1, times.length);
  return {
    connections,
    requests: result.requests.total,
    rps: result.requests.total / duration,
    avg,
    p50: pct(50),
    p95: pct(95),
    p99: pct(99),
    max: times.at(-1) ?? 0,
    // autocannon's `errors` already counts timeouts.
    errors: result.errors + result.non2xx,
    non2xx: result.non2xx,
    timeouts: result.timeouts,
  };
}

function run({ url, connections, duration, list, times }) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration,
        pipelining: 1,
        timeout: 10,
        // Every request authenticates, as real clients do (the token is cached server-side).
        requests: list.map((request) => ({ ...request, headers: { ...AUTH, ...request.headers } })),
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    if (times) instance.on('response', (_client, _status, _bytes, responseTime) => times.push(responseTime));
  });
}
