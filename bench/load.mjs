// One load step: with wrk when it is installed (bench/wrk/scenarios.lua), else with autocannon.
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

/**
 * The HTTP load generator. wrk (C, two threads) costs about a quarter of autocannon's CPU per request:
 * measured against the same servers, one after the other, autocannon took 0.84 of a core to drive
 * get-model at 16.7k req/s, wrk 0.3 of a core to drive 26k; on two cores the load generator's
 * share is taken from the server's. `QUIVER_BENCH_LOADER=autocannon` forces autocannon.
 */
export const LOADER =
  process.env.QUIVER_BENCH_LOADER === 'autocannon' || spawnSync('wrk', ['--version']).error
    ? 'autocannon'
    : 'wrk';
const SCENARIOS_LUA = new URL('./wrk/scenarios.lua', import.meta.url).pathname;
let wrkRuns = 0;

/** The admin token the benchmark servers start with (QUIVER_BOOTSTRAP_TOKEN): authentication stays on. */
export const BENCH_TOKEN = 'qvr_quiver-bench-token-0123456789abcdefghij';
export const AUTH = { authorization: `Bearer ${BENCH_TOKEN}` };

/**
 * CPU seconds (user + system, all threads) a process has used so far, from /proc (Linux; clock
 * ticks of 10 ms). On a CPU-bound server, CPU per request is what throughput is the inverse of,
 * and it moves far less than req/s when other work shares the machine.
 */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds of a process and of its children (a cluster's workers), recursively. */
function treeCpuSeconds(pid) {
  let total = cpuSeconds(pid);
  let children = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean);
  } catch {
    // No such file on kernels without it: the process alone.
  }
  for (const child of children) {
    try {
      total += treeCpuSeconds(Number(child));
    } catch {
      // The child has exited meanwhile.
    }
  }
  return total;
}

/**
 * Waits until a server (with its children) idles: under `idleShare` of a CPU (5%) over a second, at
 * most `maxS` seconds. A server may go on working after a step (SQLite copying its WAL back into the database,
 * rollouts, collecting garbage: 8 s after one list step at 100 connections), and a measurement
 * started then would measure that as well. Resolves with the seconds waited.
 */
export async function quiet(pid, maxS = 60, idleShare = 0.05) {
  const started = Date.now();
  let last = treeCpuSeconds(pid);
  while (Date.now() - started < maxS * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = treeCpuSeconds(pid);
    if (now - last < idleShare) return (Date.now() - started) / 1000;
    last = now;
  }
  return maxS;
}

/**
 * One step: `request`, or `requests` (each connection cycles through them in order).
 *
 * Steady state is measured: the connections are opened and warmed up first (`warmup` seconds, and
 * until every connection has had an answer, at most 30 s more), then `duration` seconds are
 * measured on the same connections. Node accepts one new connection per event-loop turn, so a
 * busy server takes seconds to accept a burst of 1,000; what that ramp-up cost is reported apart
 * (`rampUp`), not hidden: its seconds, and its errors and timeouts.
 */
export async function load({ url, connections, duration, request, requests, warmup = 1, wrk }) {
  if (wrk && LOADER === 'wrk') return wrkLoad({ url, connections, duration, warmup, ...wrk });
  const list = requests ?? [request];
  const times = [];
  const window = await run({ url, connections, duration, warmup, list, times });
  times.sort((a, b) => a - b);
  const pct = (p) =>
    times.length ? times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] : 0;
  const avg = times.reduce((a, b) => a + b, 0) / Math.max(1, times.length);
  return {
    connections,
    requests: window.responses,
    rps: window.responses / duration,
    avg,
    p50: pct(50),
    p95: pct(95),
    p99: pct(99),
    max: times.at(-1) ?? 0,
    // Errors in the measured window: transport errors and timeouts, and non-2xx answers.
    errors: window.errors + window.non2xx,
    non2xx: window.non2xx,
    // The non-2xx answers by status: shedding (503) told apart from failures.
    statuses: window.statuses,
    timeouts: window.timeouts,
    rampUp: window.rampUp,
  };
}

/**
 * A step with wrk: `scenario` (a generator of bench/wrk/scenarios.lua) and its arguments. Two runs
 * of wrk: the first warms the server up for `warmup` seconds and is discarded; the second opens its
 * connections, lets them settle for a lead (0.3 s, or `warmup` from 500 connections on, where a
 * busy server takes a second or more to accept them all), then counts answers for `duration`
 * seconds. The Lua script compares each answer's time with the window (CLOCK_MONOTONIC, Node's
 * hrtime clock). req/s and non-2xx statuses are the window's; wrk's latency percentiles
 * (microsecond histogram) and its transport errors and timeouts cover the whole second run, its
 * lead included. Non-2xx answers before the window are the ramp-up's.
 */
async function wrkLoad({ url, connections, duration, warmup, scenario, args = [], path = '' }) {
  // The warm-up is a run of its own so that its first, slower second (code not yet optimised,
  // pools and caches growing) is not in the measured run's percentiles, which wrk cannot reset.
  const warm =
    warmup > 0
      ? wrkResult(
          await execWrk(wrkArgv({ url, connections, seconds: Math.ceil(warmup), scenario, args, path })),
        )
      : { requests: 0 };
  // wrk takes whole seconds. The window closes 0.1 s before wrk stops (it starts a few milliseconds
  // after the window was computed), so no second is wasted.
  const lead = connections >= 500 && warmup > 0 ? warmup - 0.2 : 0.3;
  const seconds = Math.ceil(lead + duration + 0.1);
  const windowStart = Number(process.hrtime.bigint()) / 1e9 + lead;
  const window = [windowStart, windowStart + duration];
  const r = wrkResult(await execWrk(wrkArgv({ url, connections, seconds, scenario, args, path, window })));
  const ms = (us) => us / 1000;
  const sum = (statuses) => Object.values(statuses).reduce((a, b) => a + b, 0);
  const non2xx = sum(r.window_refused);
  const transport = r.connect + r.read + r.write + r.timeout;
  return {
    connections,
    requests: r.window_answers,
    // Every request of both runs, warm-up included: what the server's CPU over the whole step served.
    runRequests: warm.requests + r.requests,
    rps: r.window_answers / duration,
    avg: ms(r.mean_us),
    p50: ms(r.p50_us),
    p95: ms(r.p95_us),
    p99: ms(r.p99_us),
    max: ms(r.max_us),
    // Transport errors and timeouts are wrk's totals over the whole measured run, its lead included.
    errors: transport + non2xx,
    non2xx,
    statuses: r.window_refused,
    timeouts: r.timeout,
    rampUp: {
      seconds: lead,
      errors: 0,
      timeouts: 0,
      non2xx: sum(r.early_refused),
      statuses: r.early_refused,
    },
  };
}

function wrkArgv({ url, connections, seconds, scenario, args, path, window = [0, 0] }) {
  return [
    '-t',
    String(Math.min(2, connections)),
    '-c',
    String(connections),
    '-d',
    `${seconds}s`,
    '--timeout',
    '10s',
    '-s',
    SCENARIOS_LUA,
    url + path,
    '--',
    scenario,
    // Five positions (models, versions per model, token, deploy model, run id), then this run's own.
    ...[0, 1, 2, 3, 4].map((i) => String(args[i] ?? '-')),
    // Each run of wrk numbers its requests afresh: this keeps the names it makes (deployments) unique.
    String(++wrkRuns),
    window[0].toFixed(6),
    window[1].toFixed(6),
  ];
}

/** What bench/wrk/scenarios.lua prints when wrk is done. */
function wrkResult(out) {
  const line = out.split('\n').find((l) => l.startsWith('WRK_RESULT '));
  if (!line) throw new Error(`wrk printed no result:\n${out}`);
  return JSON.parse(line.slice('WRK_RESULT '.length));
}

function execWrk(argv) {
  return new Promise((resolve, reject) =>
    execFile('wrk', argv, { maxBuffer: 1 << 20 }, (error, stdout, stderr) =>
      error ? reject(new Error(`wrk ${argv.join(' ')}: ${stderr || error.message}`)) : resolve(stdout),
    ),
  );
}

function run({ url, connections, duration, warmup, list, times }) {
  return new Promise((resolve, reject) => {
    const opened = Date.now();
    const answered = new Set();
    const rampUp = { seconds: 0, errors: 0, timeouts: 0, non2xx: 0, statuses: {} };
    const window = { responses: 0, errors: 0, timeouts: 0, non2xx: 0, statuses: {}, rampUp };
    const refused = (into, status) => {
      into.non2xx++;
      into.statuses[status] = (into.statuses[status] ?? 0) + 1;
    };
    let measuring = false;
    let stopAt = Number.POSITIVE_INFINITY;
    const instance = autocannon(
      {
        url,
        connections,
        // Long enough for the ramp-up; the instance is stopped when the window ends.
        duration: warmup + 30 + duration + 5,
        pipelining: 1,
        timeout: 10,
        // Every request authenticates, as real clients do (the token is cached server-side).
        requests: list.map((request) => ({ ...request, headers: { ...AUTH, ...request.headers } })),
      },
      (err) => (err ? reject(err) : resolve(window)),
    );
    const check = setInterval(() => {
      const now = Date.now();
      const warm = now - opened >= warmup * 1000 && answered.size >= connections;
      if (!measuring && (warm || now - opened >= (warmup + 30) * 1000)) {
        measuring = true;
        rampUp.seconds = (now - opened) / 1000;
        stopAt = now + duration * 1000;
      }
      if (now >= stopAt) {
        clearInterval(check);
        measuring = false;
        instance.stop();
      }
    }, 20);
    instance.on('response', (client, status, _bytes, responseTime) => {
      if (!measuring) {
        answered.add(client);
        if (status < 200 || status >= 300) refused(rampUp, status);
        return;
      }
      window.responses++;
      if (status < 200 || status >= 300) refused(window, status);
      times.push(responseTime);
    });
    instance.on('reqError', (error) => {
      const into = measuring ? window : rampUp;
      into.errors++;
      if (error?.message === 'request timed out') into.timeouts++;
    });
  });
}
