// npm run bench [-- --quick] [--backend sqlite|postgres|all] [--connections 64] [--duration 10] [--steps 10,50,…|none] [--workers N] [--only batch] [--cold] [--cache-mb 512] [--cache-ttl-ms 3600000]
// Seeds (or reuses) 100,000 models x 10 versions, starts Quiver in its own process, measures a bare
// Fastify route as the machine's ceiling, the design review's operations at 64 connections, then each
// as a step load (10 … 1,000 connections) with a chart in docs/images/.
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { tinyMlp } from '../packages/server/dist/dev/onnx-builder.js';
import { stepChart } from './chart.mjs';
import { BENCH_TOKEN, LOADER, load, quiet } from './load.mjs';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    // Default: both; the quick mode, SQLite (the embedded default), to stay within two minutes.
    backend: { type: 'string' },
    connections: { type: 'string', default: '64' },
    duration: { type: 'string' },
    models: { type: 'string' },
    workers: { type: 'string', default: '1' },
    steps: { type: 'string' },
    only: { type: 'string' },
    cold: { type: 'boolean', default: false },
    // The read cache of the server under test: 100,000 models and 1,000,000 version statuses take ~290 MiB.
    'cache-mb': { type: 'string', default: '512' },
    // The read cache's TTL. The warm-up fills every entry within a minute, so with the server's
    // default (5 minutes) they would all expire together in the middle of the run; a server that
    // has run a while has its expiries spread over the TTL (a refill for 2–3% of get-model reads at 15k req/s).
    'cache-ttl-ms': { type: 'string', default: '3600000' },
    // What the warm-up reads besides every model: every version's status (`statuses`), or every
    // version in full as well (`versions`; needs a cache of ~1,500 MiB for a million versions).
    warm: { type: 'string', default: 'statuses' },
  },
});
const quick = args.quick;
/** Concurrent connections of the step loads (after the 64-connection table); `none` skips them. */
const steps =
  args.steps === 'none'
    ? []
    : (args.steps ?? (quick ? '10,300,1000' : '10,50,100,300,500,1000')).split(',').map(Number);
const duration = Number(args.duration ?? (quick ? 2 : 10));
const connections = Number(args.connections);
const models = Number(args.models ?? (quick ? 10_000 : 100_000));
const perModel = 10;
const PG_ADMIN = process.env.QUIVER_BENCH_PG_ADMIN ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PG_URL =
  process.env.QUIVER_BENCH_PG_URL ??
  `postgres://postgres@127.0.0.1:5432/quiver_bench${quick ? '_quick' : ''}`;

const rand = (n) => Math.floor(Math.random() * n);
/** Non-2xx answers by status, e.g. `, 503: 3000`; empty when there were none. */
const byStatus = (statuses) =>
  Object.entries(statuses ?? {})
    .map(([status, n]) => `, ${status}: ${n}`)
    .join('');
const modelPath = (i) =>
  `/v1/namespaces/ns-${String(i % 100).padStart(3, '0')}/models/model-${String(i).padStart(6, '0')}`;
const versionName = (i, v) =>
  `namespaces/ns-${String(i % 100).padStart(3, '0')}/models/model-${String(i).padStart(6, '0')}/versions/${v}`;
const json = { 'content-type': 'application/json' };
const DEPLOY_MODEL = 'namespaces/bench-deploy/models/tiny';
let deploySeq = 0;
const batchBody = () =>
  JSON.stringify({ names: Array.from({ length: 100 }, () => versionName(rand(models), 1 + rand(perModel))) });

/**
 * Waits until the rollouts the deploy scenario queued have run (the in-process worker shares the
 * server's CPU), so that the next measurement is not of a server still working through them.
 */
async function drained(url) {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const text = await fetch(`${url}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    const n = (status) =>
      Number(text.match(new RegExp(`^quiver_jobs\\{status="${status}"\\} (\\S+)$`, 'm'))?.[1] ?? 0);
    if (n('queued') + n('running') === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  console.warn('the job queue did not drain within 3 minutes; measuring anyway');
}

/** Before the next measurement: the rollouts queued have run, and the server has gone idle. */
async function settled(server) {
  // The quick mode is a smoke check in two minutes: it does not wait for the deploy scenario's
  // rollouts (tens of seconds) or for the server to idle, and its figures are not measurements.
  if (quick) return;
  await drained(server.url);
  // A server under --cpu-prof never idles below 5%: the profiler's sampling alone took 7% of a CPU.
  const waited = await quiet(server.child.pid, 60, process.env.QUIVER_BENCH_PROFILE ? 0.2 : 0.05);
  if (waited >= 5) console.log(`(the server settled ${waited.toFixed(0)} s after the last step)`);
}

/**
 * Runs a load step and adds the read cache's hit rate during it (null when nothing was looked up).
 * A step after the write scenarios starts with the entries those writes dropped missing.
 */
async function withHitRate(url, step) {
  const before = await cacheCounters(url);
  const r = await step();
  const after = await cacheCounters(url);
  const lookups = after.hits - before.hits + (after.misses - before.misses);
  r.cacheHitRate = lookups > 0 ? (after.hits - before.hits) / lookups : null;
  // Requests the server refused with 503 to shed load (wrk counts non-2xx answers, not their statuses).
  r.shed = after.shed - before.shed;
  return r;
}

/** The read cache's hit and miss counters, from the server's /metrics. */
async function cacheCounters(url) {
  const text = await fetch(`${url}/metrics`).then(
    (r) => (r.ok ? r.text() : ''),
    () => '',
  );
  const read = (name) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1] ?? 0);
  return {
    hits: read('quiver_cache_hits_total'),
    misses: read('quiver_cache_misses_total'),
    entries: read('quiver_cache_entries'),
    bytes: read('quiver_cache_bytes'),
    shed: read('quiver_requests_shed_total'),
  };
}

const SCENARIOS = [
  {
    name: 'get model detail',
    wrk: 'get',
    review: { avg: 45, p95: 75, p99: 110, rps: 750 },
    request: { method: 'GET', setupRequest: (r) => ({ ...r, path: modelPath(rand(models)) }) },
  },
  {
    name: 'list models (50, label filter)',
    wrk: 'list',
    review: { avg: 85, p95: 120, p99: 180, rps: 350 },
    request: {
      method: 'GET',
      setupRequest: (r) => ({
        ...r,
        path: `/v1/namespaces/ns-${String(rand(100)).padStart(3, '0')}/models?page_size=50&filter=${encodeURIComponent('labels.team="fraud"')}`,
      }),
    },
  },
  {
    name: 'create version',
    wrk: 'create',
    writes: true,
    review: { avg: 230, p95: 350, p99: 480, rps: 120 },
    request: {
      method: 'POST',
      headers: json,
      setupRequest: (r) => ({
        ...r,
        path: `${modelPath(rand(models))}/versions`,
        body: '{"description":"bench"}',
      }),
    },
  },
  {
    name: 'batch status (100 versions)',
    wrk: 'status',
    review: { avg: 150, p95: 280, p99: 420, rps: 200 },
    request: {
      method: 'POST',
      path: '/v1/versions:batchGetStatus',
      headers: json,
      setupRequest: (r) => ({ ...r, body: batchBody() }),
    },
  },
  {
    name: 'batch get (100 full versions)',
    wrk: 'batchget',
    review: { avg: 150, p95: 280, p99: 420, rps: 200 },
    request: {
      method: 'POST',
      path: '/v1/versions:batchGet',
      headers: json,
      setupRequest: (r) => ({ ...r, body: batchBody() }),
    },
  },
  {
    name: 'deploy request (accepted)',
    wrk: 'deploy',
    writes: true,
    review: { avg: 350, p95: 520, p99: 680, rps: 80 },
    request: {
      method: 'POST',
      path: '/v1/deployments',
      headers: json,
      setupRequest: (r) => ({
        ...r,
        body: JSON.stringify({
          deployment_id: `bench-${process.pid}-${++deploySeq}`,
          model: DEPLOY_MODEL,
          version: 1,
        }),
      }),
    },
  },
  {
    name: 'read/write mix (90/10)',
    wrk: 'mix',
    writes: true,
    review: null,
    // Each connection cycles through ten requests: nine reads of the other kinds, one create.
    requests: () => {
      const [get, list, create, status] = SCENARIOS.map((s) => s.request);
      return [get, get, list, get, status, get, get, list, get, create];
    },
  },
];

/** `--only <text>`: the scenarios whose name contains the text (e.g. `--only batch`). */
const measured = args.only ? SCENARIOS.filter((s) => s.name.includes(args.only)) : SCENARIOS;
if (measured.length === 0) {
  console.error(
    `--only ${args.only}: no scenario's name contains it; names: ${SCENARIOS.map((s) => s.name).join(', ')}`,
  );
  process.exit(2);
}

function start(script, env) {
  return new Promise((resolve, reject) => {
    // QUIVER_BENCH_PROFILE=<dir>: the Quiver server writes a V8 CPU profile there when it stops.
    // QUIVER_BENCH_NODE_ARGS: more Node.js flags for the Quiver server (e.g. `--trace-gc`).
    const quiver = script === './server.mjs';
    const profile = process.env.QUIVER_BENCH_PROFILE && quiver;
    const extra = quiver ? (process.env.QUIVER_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean) : [];
    const child = fork(new URL(script, import.meta.url), [], {
      env: { ...process.env, ...env },
      execArgv: [
        ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${process.env.QUIVER_BENCH_PROFILE}`] : []),
        ...extra,
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (m) => resolve({ child, url: m.ready }));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

function stop(proc) {
  return new Promise((resolve) => {
    proc.child.removeAllListeners('exit');
    proc.child.once('exit', resolve);
    proc.child.kill('SIGTERM');
  });
}

async function ensurePgDatabase() {
  const name = new URL(PG_URL).pathname.slice(1);
  const client = new pg.Client({ connectionString: PG_ADMIN });
  await client.connect();
  const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
  if (!rowCount) await client.query(`create database ${name}`);
  await client.end();
}

const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
const results = {
  machine: {
    cpus: cpus().length,
    model: cpus()[0]?.model,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  date: new Date().toISOString(),
  loader: LOADER,
  duration,
  connections,
  models,
  versions: models * perModel,
  workers: Number(args.workers),
  cacheMb: Number(args['cache-mb']),
  backends: {},
  steps: {},
};

function loadOf(scenario) {
  // wrk draws the same requests in Lua (bench/wrk/scenarios.lua); autocannon runs the ones above.
  const wrk = {
    scenario: scenario.wrk,
    args: [models, perModel, BENCH_TOKEN, DEPLOY_MODEL, process.pid],
  };
  return scenario.requests ? { requests: scenario.requests(), wrk } : { request: scenario.request, wrk };
}

/** The model the deploy scenario deploys: a tiny ONNX model registered once per dataset. */
/**
 * Reads every model once and every version's status once (batch status, 100 models' versions per
 * request), as a server that has been running a while behind a status board has: the table then
 * measures the read cache in its steady state, not while it fills (the first 10 s of get-model
 * used to be mostly misses). `--cold` skips it.
 */
async function warmCache(url) {
  const started = Date.now();
  const sweep = (amount, request) =>
    new Promise((resolve, reject) => {
      autocannon(
        {
          url,
          connections: 64,
          amount,
          timeout: 30,
          headers: { authorization: `Bearer ${BENCH_TOKEN}`, ...json },
          requests: [request],
        },
        (err, result) =>
          err
            ? reject(err)
            : result.non2xx
              ? reject(new Error(`warm-up: ${result.non2xx} errors`))
              : resolve(),
      );
    });
  let next = 0;
  await sweep(models, { method: 'GET', setupRequest: (r) => ({ ...r, path: modelPath(next++ % models) }) });
  /** Every version once through `path`, 100 models' versions per request. */
  const everyVersion = (path) => {
    const perRequest = 100;
    let from = 0;
    return sweep(Math.ceil(models / perRequest), {
      method: 'POST',
      path,
      setupRequest: (r) => {
        const names = [];
        for (let i = from; i < Math.min(from + perRequest, models); i++)
          for (let v = 1; v <= perModel; v++) names.push(versionName(i, v));
        from += perRequest;
        return { ...r, body: JSON.stringify({ names }) };
      },
    });
  };
  await everyVersion('/v1/versions:batchGetStatus');
  if (args.warm === 'versions') await everyVersion('/v1/versions:batchGet');
  const { entries, bytes } = await cacheCounters(url);
  console.log(
    `read cache warmed: ${models} models and ${models * perModel} version ${args.warm === 'versions' ? 'statuses and versions' : 'statuses'} read in ${((Date.now() - started) / 1000).toFixed(1)} s (${entries} entries, ${fmt(bytes / 2 ** 20, 0)} MiB)`,
  );
}

async function prepareDeploys(url) {
  const call = async (method, path, body, type = 'application/json') => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${BENCH_TOKEN}`, 'content-type': type },
      body: body instanceof Uint8Array ? body : JSON.stringify(body),
    });
    if (!res.ok && res.status !== 409)
      throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const artifact = await call(
    'POST',
    '/v1/artifacts',
    tinyMlp({ inputs: 4, hidden: 8, outputs: 3, seed: 1 }).bytes,
    'application/octet-stream',
  );
  await call('POST', '/v1/namespaces', { namespace_id: 'bench-deploy' });
  await call('POST', '/v1/namespaces/bench-deploy/models', { model_id: 'tiny' });
  const versions = await fetch(`${url}/v1/${DEPLOY_MODEL}/versions?page_size=1`, {
    headers: { authorization: `Bearer ${BENCH_TOKEN}` },
  }).then((r) => r.json());
  if (!versions.versions?.length)
    await call('POST', `/v1/${DEPLOY_MODEL}/versions`, { artifact: { digest: artifact.digest } });
}

/**
 * The bare route stays up for the whole run and is measured again right before each operation of
 * the 64-connection table: this machine's speed moves by half within minutes, and an operation's
 * "vs bare" is only meaningful against a ceiling measured at the same time.
 */
const bare = await start('./bare.mjs', { PORT: '0' });
const measureBare = () =>
  load({
    url: `${bare.url}/bare`,
    connections,
    duration,
    request: { method: 'GET' },
    wrk: { scenario: 'plain', args: [1, 1, BENCH_TOKEN] },
  });
const ceiling = await measureBare();
results.bare = ceiling;
console.log(`bare Fastify route (${LOADER}): ${fmt(ceiling.rps, 0)} req/s, p99 ${fmt(ceiling.p99)} ms`);

const backendArg = args.backend ?? (quick ? 'sqlite' : 'all');
const backends = backendArg === 'all' ? ['sqlite', 'postgres'] : [backendArg];
for (const backend of backends) {
  const dataDir = new URL(`./data/${backend}${quick ? '-quick' : ''}`, import.meta.url).pathname;
  const dbUrl = backend === 'postgres' ? PG_URL : '-';
  if (backend === 'postgres') await ensurePgDatabase();
  execFileSync(
    process.execPath,
    [new URL('./seed.mjs', import.meta.url).pathname, dataDir, dbUrl, String(models), String(perModel)],
    { stdio: 'inherit' },
  );
  const env = {
    QUIVER_DATA_DIR: dataDir,
    QUIVER_HTTP_PORT: '0',
    QUIVER_HTTP_HOST: '127.0.0.1',
    QUIVER_LOG_LEVEL: 'warn',
    QUIVER_WORKERS: args.workers,
    QUIVER_GRPC_PORT: '0',
    QUIVER_BOOTSTRAP_TOKEN: BENCH_TOKEN,
    QUIVER_CACHE_MAX_MB: args['cache-mb'],
    QUIVER_CACHE_TTL_MS: args['cache-ttl-ms'],
    ...(backend === 'postgres' ? { QUIVER_DATABASE_URL: PG_URL } : {}),
  };
  const server = await start('./server.mjs', env);
  await prepareDeploys(server.url);
  if (!args.cold) await warmCache(server.url);
  await settled(server);
  const rows = [];
  for (const s of measured) {
    // The quick mode keeps to its two minutes with the ceiling measured once, at the start.
    const bareNow = quick ? ceiling : await measureBare();
    const r = await withHitRate(server.url, () =>
      load({ url: server.url, connections, duration, ...loadOf(s) }),
    );
    rows.push({ name: s.name, ...r, bare: bareNow.rps, review: s.review });
    await settled(server);
    console.log(
      `${backend} ${s.name}: ${fmt(r.rps, 0)} req/s (bare route just before: ${fmt(bareNow.rps, 0)}), avg ${fmt(r.avg)} ms, p95 ${fmt(r.p95)} ms, p99 ${fmt(r.p99)} ms, errors ${r.errors}`,
    );
  }
  const stepRows = [];
  // The 64-connection table's writes dropped their models' entries and its batch get filled the
  // cache's free room with full versions, pushing statuses out: the steps start from the same
  // steady state as the table did.
  if (steps.length > 0 && !args.cold) {
    await warmCache(server.url);
    await settled(server);
  }
  // Reads first: a write scenario's creates drop the entries of the models they touch.
  const readsFirst = [...measured.filter((s) => !s.writes), ...measured.filter((s) => s.writes)];
  for (const s of readsFirst) {
    for (const c of steps) {
      const r = await withHitRate(server.url, () =>
        // A busy server takes about a second to accept 1,000 new connections: 3 s of warm-up from 500 on.
        load({ url: server.url, connections: c, duration, warmup: !quick && c >= 500 ? 3 : 1, ...loadOf(s) }),
      );
      stepRows.push({ name: s.name, ...r });
      await settled(server);
      console.log(
        `${backend} ${s.name} @${c}: ${fmt(r.rps, 0)} req/s, p99 ${fmt(r.p99)} ms, errors ${r.errors} (timeouts ${r.timeouts}, non-2xx ${r.non2xx}${byStatus(r.statuses)}, shed by the server ${r.shed}); connections ramped up in ${fmt(r.rampUp.seconds)} s with ${r.rampUp.errors + r.rampUp.non2xx} errors (${r.rampUp.timeouts} timeouts${byStatus(r.rampUp.statuses)})${r.cacheHitRate === null ? '' : `; cache hits ${fmt(100 * r.cacheHitRate, 0)}%`}`,
      );
    }
  }
  results.steps[backend] = stepRows;
  await stop(server);
  results.backends[backend] = rows;
}
await stop(bare);

console.log(
  `\n${connections} connections, ${duration} s per step, ${models * perModel} versions, ${args.workers} server process(es), read cache ${args['cache-mb']} MiB${args.cold ? ' (cold)' : ' (warmed)'}, TTL ${Number(args['cache-ttl-ms']) / 1000} s; load generator ${LOADER}; bare Fastify route ${fmt(ceiling.rps, 0)} req/s at the start${quick ? '' : ', and measured again before each operation ("vs bare")'}\n`,
);
console.log(
  '| backend | operation | req/s | vs bare | avg ms | p95 ms | p99 ms | errors | cache hits | design review req/s | speed-up |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const [backend, rows] of Object.entries(results.backends)) {
  for (const r of rows) {
    console.log(
      `| ${backend} | ${r.name} | ${fmt(r.rps, 0)} | ${fmt((100 * r.rps) / r.bare, 0)}% of ${fmt(r.bare, 0)} | ${fmt(r.avg)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${r.errors} | ${r.cacheHitRate === null ? '-' : `${fmt(100 * r.cacheHitRate, 0)}%`} | ${r.review?.rps ?? '-'} | ${r.review ? `${fmt(r.rps / r.review.rps, 1)}x` : '-'} |`,
    );
  }
}
for (const [backend, rows] of Object.entries(results.steps)) {
  if (rows.length === 0) continue;
  console.log(`\n${backend}: step loads (${duration} s each)\n`);
  console.log(
    `| operation | ${steps.map((c) => `${c} conns req/s · p99 ms · errors`).join(' | ')} | flat? |`,
  );
  console.log(`|---|${steps.map(() => '---').join('|')}|---|`);
  const byName = {};
  for (const r of rows) {
    byName[r.name] ??= [];
    byName[r.name].push(r);
  }
  for (const [name, points] of Object.entries(byName)) {
    const peak = Math.max(...points.map((p) => p.rps));
    const from100 = points.filter((p) => p.connections >= 100);
    const flat = from100.length > 0 && from100.every((p) => p.rps >= 0.9 * peak && p.errors === 0);
    console.log(
      `| ${name} | ${points.map((p) => `${fmt(p.rps, 0)} · ${fmt(p.p99)} · ${p.errors}`).join(' | ')} | ${flat ? 'yes' : 'no'} |`,
    );
  }
  const svg = stepChart(
    `Quiver on ${backend}: throughput and p99 vs concurrent connections (${results.versions} versions, ${results.machine.cpus} vCPUs, load generator included)`,
    Object.entries(byName).map(([name, points]) => ({ name, points })),
  );
  // Only a full run (every scenario, the default steps) replaces the chart the performance doc shows.
  const partial = quick || args.only !== undefined || args.steps !== undefined;
  const dir = new URL(partial ? './results/' : '../docs/images/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const chart = new URL(`bench-steps-${backend}${partial ? '-partial' : ''}.svg`, dir);
  writeFileSync(chart, svg);
  console.log(`\nchart: ${chart.pathname}`);
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(
  `./results/${results.date.slice(0, 19).replace(/:/g, '')}${quick ? '-quick' : ''}.json`,
  import.meta.url,
);
writeFileSync(file, JSON.stringify(results, null, 2));
console.log(`\nresults: ${file.pathname}`);
