// npm run bench:serving [-- --quick] [--duration 5] [--pairs 8]
// Measures Quiver's serving path: gRPC ModelInfer under h2load against a bare @grpc/grpc-js server
// answering a fixed response of the same size (this machine's ceiling), with and without dynamic
// batching, sequential latency, the in-process runtime alone, deploy → ready, and POST /v1/deployments.
import { execFileSync, fork, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { OnnxRuntime } from '../packages/server/dist/adapters/onnx/onnx.runtime.js';
import { tinyMlp } from '../packages/server/dist/index.js';
import {
  LOADER_OPTIONS,
  OIP_PROTO_PATH,
  OIP_SERVICE,
} from '../packages/server/dist/transports/grpc/server.js';
import { AUTH, BENCH_TOKEN, cpuSeconds, load } from './load.mjs';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    'runtime-runs': { type: 'string' },
    // Interleaved echo / ModelInfer runs at 128 in flight whose median ratio is judged against the target.
    pairs: { type: 'string' },
  },
});
const quick = args.quick;
/** Seconds each measured h2load / autocannon step should last. */
const duration = Number(args.duration ?? (quick ? 1.5 : 5));
const runtimeRuns = Number(args['runtime-runs'] ?? (quick ? 5_000 : 20_000));
const pairCount = Number(args.pairs ?? (quick ? 1 : 8));
const H2LOAD = 'h2load';
const METHOD_PATH = `/${OIP_SERVICE}/ModelInfer`;
const INPUT = [0.5, -1, 1.5, 2];
const TARGETS = { share: 70, p99Ms: 20, addedUs: 100, deployP99Ms: 20, readyMs: 1000 };

if (spawnSync(H2LOAD, ['--version']).error) {
  console.error('h2load is not installed: apt-get install -y nghttp2-client');
  process.exit(1);
}

const uptime = () => {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`;
  }
};
const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;

const work = mkdtempSync(join(tmpdir(), 'quiver-serving-'));
const results = {
  machine: {
    cpus: cpus().length,
    model: cpus()[0]?.model,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  h2load: execFileSync(H2LOAD, ['--version'], { encoding: 'utf8' }).trim(),
  date: new Date().toISOString(),
  quick,
  duration,
  uptimeStart: uptime(),
  runs: [],
};
console.log(`start: ${results.uptimeStart}`);

// ---- processes --------------------------------------------------------------------------------

function start(script, env) {
  return new Promise((resolve, reject) => {
    // QUIVER_BENCH_PROFILE=<dir>: the Quiver server writes a V8 CPU profile there when it stops.
    const profile = process.env.QUIVER_BENCH_PROFILE && script === './server.mjs';
    const child = fork(new URL(script, import.meta.url), [], {
      env: { ...process.env, ...env },
      execArgv: profile ? ['--cpu-prof', `--cpu-prof-dir=${process.env.QUIVER_BENCH_PROFILE}`] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // Never leave a server behind when this script fails.
    const orphan = () => child.kill('SIGKILL');
    process.once('exit', orphan);
    child.once('exit', () => process.removeListener('exit', orphan));
    child.once('message', (m) => resolve({ child, ...m }));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

function stop(proc) {
  return new Promise((resolve) => {
    proc.child.removeAllListeners('exit');
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 15_000);
    proc.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.child.kill('SIGTERM');
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// ---- gRPC: the request h2load sends, and a real client --------------------------------------

// keepCase: the field names as the proto spells them (protobufjs camel-cases them by default).
const root = new protobuf.Root().loadSync(OIP_PROTO_PATH, { keepCase: true });
const RequestType = root.lookupType('inference.ModelInferRequest');

function grpcFrame(model) {
  const message = RequestType.encode(
    RequestType.fromObject({
      model_name: model,
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: INPUT } }],
    }),
  ).finish();
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  Buffer.from(message).copy(frame, 5);
  return frame;
}

const bodies = {};
for (const model of ['mlp', 'mlp-batched', 'mlp-merged']) {
  const frame = grpcFrame(model);
  const file = join(work, `${model}.grpc`);
  writeFileSync(file, frame);
  bodies[model] = { frame, file };
}

const definition = protoLoader.loadSync(OIP_PROTO_PATH, LOADER_OPTIONS)[OIP_SERVICE];
const deserializeResponse = definition.ModelInfer.responseDeserialize;

/**
 * Sends exactly the bytes h2load sends (the message inside the frame) through @grpc/grpc-js, and
 * checks the answer: status OK and one FP32 output [1,3] with three values. Returns the response
 * and the size of its gRPC frame, which every h2load response must then have.
 */
function authMetadata() {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${BENCH_TOKEN}`);
  return metadata;
}

async function checkedCall(port, model) {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const message = bodies[model].frame.subarray(5);
    let bytes = 0;
    const response = await new Promise((resolve, reject) =>
      client.makeUnaryRequest(
        METHOD_PATH,
        (b) => b,
        (b) => {
          bytes = b.length;
          return deserializeResponse(b);
        },
        message,
        authMetadata(),
        { deadline: Date.now() + 5_000 },
        (err, res) =>
          err
            ? reject(new Error(`ModelInfer on '${model}' failed: ${err.code} ${err.details}`))
            : resolve(res),
      ),
    );
    const out = response.outputs?.[0];
    const values = out?.contents?.fp32_contents ?? [];
    if (response.outputs.length !== 1 || out.datatype !== 'FP32' || values.length !== 3) {
      throw new Error(
        `ModelInfer on '${model}' answered ${JSON.stringify(response)}; want one FP32 output with 3 values`,
      );
    }
    // The size as it came over the wire: every answer h2load counts must have it.
    return { response, frameBytes: 5 + bytes };
  } finally {
    client.close();
  }
}

// ---- h2load -------------------------------------------------------------------------------------

function runH2load({ port, model, n, c, m, log }) {
  const argv = [
    '-n',
    String(n),
    '-c',
    String(c),
    '-m',
    String(m),
    '-H',
    'content-type: application/grpc',
    '-H',
    'te: trailers',
    // Quiver checks the token (cached after the first call); the bare server ignores it.
    '-H',
    `authorization: Bearer ${BENCH_TOKEN}`,
    '-d',
    bodies[model].file,
    ...(log ? [`--log-file=${log}`] : []),
    `http://127.0.0.1:${port}${METHOD_PATH}`,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(H2LOAD, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`h2load exited with ${code}:\n${out}`));
      resolve({ argv, ...parseH2load(out) });
    });
  });
}

function parseH2load(out) {
  const num = (re) => {
    const m = out.match(re);
    if (!m) throw new Error(`h2load output did not match ${re}:\n${out}`);
    return Number(m[1]);
  };
  return {
    seconds: num(/finished in ([\d.]+)m?s,/) / (/finished in [\d.]+ms,/.test(out) ? 1000 : 1),
    rps: num(/finished in [\d.]+m?s, ([\d.]+) req\/s/),
    done: num(/(\d+) done/),
    succeeded: num(/(\d+) succeeded/),
    failed: num(/(\d+) failed/),
    errored: num(/(\d+) errored/),
    timeout: num(/(\d+) timeout/),
    status2xx: num(/status codes: (\d+) 2xx/),
    dataBytes: num(/\((\d+)\) data/),
    summary: out
      .trim()
      .split('\n')
      .filter((l) => /^(finished|requests|status codes|traffic)/.test(l)),
  };
}

/** The log: start time (µs since epoch) \t HTTP status \t µs until the end of the response. */
function readLog(file) {
  const elapsed = [];
  let non200 = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const [, status, micros] = line.split('\t');
    if (status !== '200') non200++;
    else elapsed.push(Number(micros));
  }
  elapsed.sort((a, b) => a - b);
  const ms = (p) => pct(elapsed, p) / 1000;
  return { logged: elapsed.length + non200, non200, p50: ms(50), p95: ms(95), p99: ms(99), max: ms(100) };
}

/**
 * One scenario: a short run to warm up and learn the rate, then a run sized to last `duration`,
 * then a real client call to be sure the server still answers, and an exact check of the bodies:
 * h2load counts a trailers-only gRPC error as HTTP 200, but such an answer has no DATA, so the
 * data bytes received must be exactly `frameBytes` per request.
 */
async function scenario({ name, target, port, pid, model, c, m, frameBytes, check }) {
  const inFlight = c * m;
  // Warm up (JIT, connections' first requests) in two steps: a short run, then one sized to last ~2 s.
  const probe = await runH2load({ port, model, n: Math.max(c * m * 10, 1_000), c, m });
  const warm = await runH2load({
    port,
    model,
    n: Math.max(c * m * 10, Math.round(probe.rps * (quick ? 0.5 : 2))),
    c,
    m,
  });
  const n = Math.max(c * m * 10, Math.round(warm.rps * duration));
  const log = join(work, `${name.replace(/\W+/g, '-')}.log`);
  const cpuBefore = cpuSeconds(pid);
  const run = await runH2load({ port, model, n, c, m, log });
  // The server's own CPU per call (all its threads): what its throughput is the inverse of when it
  // is the bottleneck, and much steadier than req/s while neighbours come and go.
  const cpuUs = ((cpuSeconds(pid) - cpuBefore) * 1e6) / run.done;
  const lat = readLog(log);
  let healthy = true;
  let healthError = '';
  try {
    await check();
  } catch (err) {
    healthy = false;
    healthError = err.message;
  }
  const grpcErrors = run.succeeded - Math.floor(run.dataBytes / frameBytes);
  const errors =
    run.failed + run.errored + run.timeout + lat.non200 + Math.max(0, grpcErrors) + (healthy ? 0 : 1);
  const r = {
    name,
    target,
    model,
    inFlight,
    c,
    m,
    n,
    warmRps: warm.rps,
    ...run,
    cpuUs,
    ...lat,
    frameBytes,
    grpcErrors,
    healthy,
    healthError,
    errors,
  };
  results.runs.push(r);
  console.log(
    `${name} (${inFlight} in flight, n=${n}): ${fmt(r.rps, 0)} req/s, ${fmt(cpuUs, 0)} µs CPU/call, p50 ${fmt(r.p50, 3)} ms, p95 ${fmt(r.p95, 3)} ms, p99 ${fmt(r.p99, 3)} ms, errors ${errors}` +
      `${grpcErrors ? ` (bodies: ${run.dataBytes} B for ${run.succeeded} x ${frameBytes} B)` : ''}${healthy ? '' : ` UNHEALTHY: ${healthError}`}`,
  );
  return r;
}

// ---- 1. the ceiling: a bare @grpc/grpc-js server ------------------------------------------------

const echo = await start('./grpc-echo.mjs', { PORT: '0' });
const echoCheck = await checkedCall(echo.ready, 'mlp');
const echoOpts = {
  target: 'bare',
  port: echo.ready,
  pid: echo.child.pid,
  model: 'mlp',
  frameBytes: echoCheck.frameBytes,
  check: () => checkedCall(echo.ready, 'mlp'),
};
const bare128 = await scenario({ ...echoOpts, name: 'bare echo', c: 4, m: 32 });
const bare256 = await scenario({ ...echoOpts, name: 'bare echo', c: 8, m: 32 });
const bare1 = await scenario({ ...echoOpts, name: 'bare echo sequential', c: 1, m: 1 });

// ---- 2. Quiver: register and deploy the tiny model through REST -------------------------------

const dataDir = join(work, 'data');
const grpcPort = await freePort();
const quiver = await start('./server.mjs', {
  QUIVER_DATA_DIR: dataDir,
  QUIVER_HTTP_PORT: '0',
  QUIVER_GRPC_PORT: String(grpcPort),
  QUIVER_HTTP_HOST: '127.0.0.1',
  QUIVER_LOG_LEVEL: 'warn',
  QUIVER_BOOTSTRAP_TOKEN: BENCH_TOKEN,
});
const api = quiver.ready;

async function call(method, path, body, headers = { 'content-type': 'application/json' }) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { ...AUTH, ...headers },
    body: body === undefined ? undefined : body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

/** POST /v1/deployments, then GET it until it is ready; ms from the POST to the first GET showing ready. */
async function deploy(body) {
  const t0 = performance.now();
  await call('POST', '/v1/deployments', body);
  const accepted = performance.now() - t0;
  for (;;) {
    const d = await call('GET', `/v1/deployments/${body.deployment_id}`);
    if (d.status === 'ready') return { acceptedMs: accepted, readyMs: performance.now() - t0 };
    if (d.status === 'failed')
      throw new Error(`deployment ${body.deployment_id} failed: ${d.status_message}`);
    if (performance.now() - t0 > 30_000)
      throw new Error(`deployment ${body.deployment_id} not ready after 30 s: ${d.status}`);
    await sleep(2);
  }
}

const modelBytes = tinyMlp({ inputs: 4, hidden: 8, outputs: 3, seed: 1 }).bytes;
const artifact = await call('POST', '/v1/artifacts', modelBytes, {
  'content-type': 'application/octet-stream',
});
await call('POST', '/v1/namespaces', { namespace_id: 'bench' });
await call('POST', '/v1/namespaces/bench/models', { model_id: 'mlp' });
const version = await call('POST', '/v1/namespaces/bench/models/mlp/versions', {
  artifact: { digest: artifact.digest },
});
const MODEL = 'namespaces/bench/models/mlp';
const deployMlp = await deploy({ deployment_id: 'mlp', model: MODEL, version: version.version ?? 1 });
const deployBatched = await deploy({
  deployment_id: 'mlp-batched',
  model: MODEL,
  version: version.version ?? 1,
  batching: { max_batch_size: 32, max_queue_delay_us: 500 },
});
// Batching without an added wait: requests that arrived in the same turn of the event loop are merged.
const deployMerged = await deploy({
  deployment_id: 'mlp-merged',
  model: MODEL,
  version: version.version ?? 1,
  batching: { max_batch_size: 32, max_queue_delay_us: 0 },
});
results.deploy = {
  mlp: deployMlp,
  'mlp-batched': deployBatched,
  'mlp-merged': deployMerged,
  artifact: artifact.digest,
  grpcPort,
};
console.log(
  `deploy 'mlp': accepted in ${fmt(deployMlp.acceptedMs)} ms, ready ${fmt(deployMlp.readyMs)} ms after the POST ('mlp-batched': ${fmt(deployBatched.readyMs)} ms)`,
);

// ---- 3. verify with a real client, then load ---------------------------------------------------

const quiverCheck = await checkedCall(grpcPort, 'mlp');
const checks = {
  mlp: quiverCheck,
  'mlp-batched': await checkedCall(grpcPort, 'mlp-batched'),
  'mlp-merged': await checkedCall(grpcPort, 'mlp-merged'),
};
console.log(
  `ModelInfer 'mlp' → ${JSON.stringify(quiverCheck.response.outputs[0].contents.fp32_contents)}; response frame ${quiverCheck.frameBytes} B (bare echo ${echoCheck.frameBytes} B)`,
);
if (quiverCheck.frameBytes !== echoCheck.frameBytes)
  console.warn("WARNING: the bare echo answer is not the size of Quiver's");
const q = (model) => ({
  target: 'quiver',
  port: grpcPort,
  pid: quiver.child.pid,
  model,
  frameBytes: checks[model].frameBytes,
  check: () => checkedCall(grpcPort, model),
});
const quiver128 = await scenario({ ...q('mlp'), name: 'Quiver ModelInfer', c: 4, m: 32 });
const quiver256 = await scenario({ ...q('mlp'), name: 'Quiver ModelInfer, no batching', c: 8, m: 32 });
const batched256 = await scenario({
  ...q('mlp-batched'),
  name: 'Quiver ModelInfer, batching 32 / 500 µs',
  c: 8,
  m: 32,
});
const merged128 = await scenario({
  ...q('mlp-merged'),
  name: 'Quiver ModelInfer, batching 32 / 0 µs',
  c: 4,
  m: 32,
});
const quiver1 = await scenario({ ...q('mlp'), name: 'Quiver ModelInfer sequential', c: 1, m: 1 });

// ---- 4. the ratio at 128 in flight, in interleaved pairs -----------------------------------------
// The runs above measure the echo and Quiver minutes apart, and this machine's speed drifts by
// 15–20% in minutes. Pairs of back-to-back runs share the machine's state, their order
// alternating; the median of their ratios is what the target is judged on. (Two runs at 01:41 and
// 01:43 on 2026-11-26 gave 76% and 51%: most of that was the server process landing, or not, in
// V8's pretenuring mode, which Quiver now turns off: ADR 011.) Eight pairs, not four, since
// 2026-11-27: on a machine whose neighbours moved single pairs between 55% and 78% within two
// minutes, the median of four was decided by which two pairs a neighbour landed on.
const pairs = [];
for (let i = 0; i < pairCount; i++) {
  const runEcho = () => scenario({ ...echoOpts, name: `bare echo (pair ${i + 1})`, c: 4, m: 32 });
  const runQuiver = () => scenario({ ...q('mlp'), name: `Quiver ModelInfer (pair ${i + 1})`, c: 4, m: 32 });
  let echoRun;
  let quiverRun;
  if (i % 2 === 0) {
    echoRun = await runEcho();
    quiverRun = await runQuiver();
  } else {
    quiverRun = await runQuiver();
    echoRun = await runEcho();
  }
  pairs.push({
    echo: echoRun.rps,
    quiver: quiverRun.rps,
    share: (100 * quiverRun.rps) / echoRun.rps,
    echoCpuUs: echoRun.cpuUs,
    quiverCpuUs: quiverRun.cpuUs,
    cpuShare: (100 * echoRun.cpuUs) / quiverRun.cpuUs,
  });
}
await stop(echo);
const median = (values) => {
  const v = [...values].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const medianShare = median(pairs.map((p) => p.share));
// Echo CPU per call / Quiver CPU per call: the share of the echo's throughput Quiver would reach
// were each the bottleneck on a CPU of its own, free of the swings in req/s.
const medianCpuShare = median(pairs.map((p) => p.cpuShare));
results.pairs = { pairs, medianShare, medianCpuShare };

// ---- 6. POST /v1/deployments under load (accepted = 202 with the operation) -------------------

/** Waits for the rollouts queued by the deploys to run, so the next measurement is not of a busy worker. */
async function drained() {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const text = await fetch(`${api}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    const n = (status) =>
      Number(text.match(new RegExp(`^quiver_jobs\\{status="${status}"\\} (\\S+)$`, 'm'))?.[1] ?? 0);
    if (n('queued') + n('running') === 0) return;
    await sleep(500);
  }
}

let seq = 0;
const deployRequest = {
  method: 'POST',
  path: '/v1/deployments',
  headers: { 'content-type': 'application/json' },
  setupRequest: (r) => ({
    ...r,
    body: JSON.stringify({ deployment_id: `load-${process.pid}-${++seq}`, model: MODEL, version: 1 }),
  }),
};
// Deploys are rare operations: the acceptance latency is measured with a few clients deploying at
// once (4), and the throughput with 32 (where p99 is mostly queueing behind the other 31).
const deployLatency = await load({ url: api, connections: 4, duration, request: deployRequest });
await drained();
const deployLoad = await load({ url: api, connections: 32, duration, request: deployRequest });
results.deployLatency = deployLatency;
results.deployLoad = deployLoad;
console.log(
  `POST /v1/deployments: ${fmt(deployLoad.rps, 0)} req/s, p50 ${fmt(deployLoad.p50, 3)} ms, p99 ${fmt(deployLoad.p99, 3)} ms, errors ${deployLoad.errors}`,
);
await stop(quiver);

// ---- 5. the runtime alone, in this process ----------------------------------------------------

const runtime = new OnnxRuntime({ memoryBudgetBytes: 256 * 1024 * 1024, intraOpThreads: 1 });
const model = await runtime.load('bench', modelBytes, { warmup: true });
const input = () => [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: Float32Array.from(INPUT) }];
for (let i = 0; i < 2_000; i++) await model.run(input());
const runtimeTimes = new Float64Array(runtimeRuns);
for (let i = 0; i < runtimeRuns; i++) {
  const t0 = process.hrtime.bigint();
  await model.run(input());
  runtimeTimes[i] = Number(process.hrtime.bigint() - t0) / 1000;
}
await runtime.close();
runtimeTimes.sort();
const runtimeP50Us = pct(runtimeTimes, 50);
results.runtime = { runs: runtimeRuns, p50Us: runtimeP50Us, p99Us: pct(runtimeTimes, 99) };
const addedUs = quiver1.p50 * 1000 - bare1.p50 * 1000 - runtimeP50Us;
results.serverAddedUs = addedUs;
console.log(
  `runtime alone: p50 ${fmt(runtimeP50Us)} µs, p99 ${fmt(results.runtime.p99Us)} µs over ${runtimeRuns} sequential runs`,
);

// ---- 7. report ----------------------------------------------------------------------------------

results.uptimeEnd = uptime();
const share = (r, base) => `${fmt((100 * r.rps) / base.rps, 0)}%`;
const ms = (v) => fmt(v, 3);
const ok = (pass) => (pass ? 'met' : '**missed**');
const rows = [
  [bare128, bare128],
  [quiver128, bare128],
  [merged128, bare128],
  [bare256, bare256],
  [quiver256, bare256],
  [batched256, bare256],
  [bare1, bare1],
  [quiver1, bare1],
];
const speedUp = batched256.rps / quiver256.rps;
const shareQuiver = (100 * quiver128.rps) / bare128.rps;
const shareMerged = (100 * merged128.rps) / bare128.rps;

const lines = [];
lines.push(
  `gRPC ModelInfer, tiny ONNX MLP (input FP32 [1,4] → output FP32 [1,3]); h2load ${results.h2load.replace(/^h2load /, '')}, ~${duration} s per run after a warm-up run;`,
);
lines.push(
  `${results.machine.cpus} CPUs (${results.machine.model}), Node ${results.machine.node}; h2load, the server and (for Quiver) onnxruntime share these CPUs.`,
);
lines.push('');
lines.push(
  '| scenario | in flight | req/s | % of bare echo | server CPU µs/call | p50 ms | p95 ms | p99 ms | errors |',
);
lines.push('|---|---|---|---|---|---|---|---|---|');
for (const [r, base] of rows) {
  lines.push(
    `| ${r.name} | ${r.inFlight} (-c${r.c} -m${r.m}) | ${fmt(r.rps, 0)} | ${share(r, base)} | ${fmt(r.cpuUs, 0)} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${r.errors} |`,
  );
}
lines.push(
  `| POST /v1/deployments (autocannon) | 4 connections | ${fmt(deployLatency.rps, 0)} | - | - | ${ms(deployLatency.p50)} | ${ms(deployLatency.p95)} | ${ms(deployLatency.p99)} | ${deployLatency.errors} |`,
);
lines.push(
  `| POST /v1/deployments (autocannon) | 32 connections | ${fmt(deployLoad.rps, 0)} | - | - | ${ms(deployLoad.p50)} | ${ms(deployLoad.p95)} | ${ms(deployLoad.p99)} | ${deployLoad.errors} |`,
);
lines.push('');
lines.push('| measure | value | target | |');
lines.push('|---|---|---|---|');
lines.push(
  `| ModelInfer throughput vs bare echo, 128 in flight, median of ${pairs.length} interleaved pairs | ${fmt(medianShare, 0)}% (pairs: ${pairs.map((p) => `${fmt(p.share, 0)}%`).join(', ')}) | ≥ ${TARGETS.share}% | ${ok(medianShare >= TARGETS.share)} |`,
);
lines.push(
  `| the same pairs by the servers' CPU per call (echo ÷ Quiver): the share were each server alone on its CPU | ${fmt(medianCpuShare, 0)}% (pairs: ${pairs.map((p) => `${fmt(p.echoCpuUs, 0)} ÷ ${fmt(p.quiverCpuUs, 0)} µs`).join(', ')}) | - | |`,
);
lines.push(
  `| ModelInfer throughput vs bare echo, 128 in flight, the runs above (minutes apart) | ${fmt(shareQuiver, 0)}% | - | |`,
);
lines.push(
  `| ModelInfer with batching and no added wait (32 / 0 µs) vs bare echo, 128 in flight | ${fmt(shareMerged, 0)}%, p99 ${ms(merged128.p99)} ms | ≥ ${TARGETS.share}% | ${ok(shareMerged >= TARGETS.share)} |`,
);
lines.push(
  `| ModelInfer p99, 128 in flight | ${ms(quiver128.p99)} ms | < ${TARGETS.p99Ms} ms | ${ok(quiver128.p99 < TARGETS.p99Ms)} |`,
);
lines.push(
  `| server-added latency, p50 | ${fmt(addedUs, 0)} µs = ${fmt(quiver1.p50 * 1000, 0)} (Quiver sequential) − ${fmt(bare1.p50 * 1000, 0)} (bare echo sequential) − ${fmt(runtimeP50Us, 0)} (runtime alone) | < ${TARGETS.addedUs} µs | ${ok(addedUs < TARGETS.addedUs)} |`,
);
lines.push(
  `| POST /v1/deployments accepted (202), p99 with 4 clients deploying | ${ms(deployLatency.p99)} ms | < ${TARGETS.deployP99Ms} ms | ${ok(deployLatency.p99 < TARGETS.deployP99Ms && deployLatency.errors === 0)} |`,
);
lines.push(
  `| deploy request → ready ('mlp') | ${fmt(deployMlp.readyMs, 0)} ms | < ${TARGETS.readyMs} ms | ${ok(deployMlp.readyMs < TARGETS.readyMs)} |`,
);
lines.push(
  `| batching speed-up, 256 in flight | ${fmt(speedUp, 2)}x (${fmt(batched256.rps, 0)} vs ${fmt(quiver256.rps, 0)} req/s; p99 ${ms(batched256.p99)} vs ${ms(quiver256.p99)} ms) | > 1x | ${ok(speedUp > 1)} |`,
);
lines.push('');
lines.push(
  `Server-added latency: the sequential (-c1 -m1) gRPC p50 against Quiver includes the network path and gRPC framing (measured by the bare echo, which decodes the request and answers precomputed bytes) and the model run itself (measured by calling OnnxRuntime in-process ${runtimeRuns} times, sequentially); what remains is what Quiver adds: decoding tensors, deployment lookup, checks, the runtime adapter, encoding the answer.`,
);
lines.push('');
lines.push(`load average: start "${results.uptimeStart}"; end "${results.uptimeEnd}"`);
const report = lines.join('\n');
console.log(`\n${report}`);
results.report = report;

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(
  `./results/serving-${results.date.slice(0, 19).replace(/:/g, '')}${quick ? '-quick' : ''}.json`,
  import.meta.url,
);
writeFileSync(file, JSON.stringify(results, null, 2));
rmSync(work, { recursive: true, force: true });
console.log(`\nresults: ${file.pathname}`);
