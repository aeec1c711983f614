// npm run bench:tracing [-- --duration 5 --rounds 3 --connections 32]
// The cost of tracing, as throughput ratios in one run: get-model over REST (wrk, or autocannon without it) and gRPC
// ModelInfer (h2load when installed, else a @grpc/grpc-js load loop) against the same server and
// data with tracing off (QUIVER_OTEL_EXPORTERS=none), on at 0% sampling and on at 100% sampling,
// spans exported over OTLP/HTTP to a local sink that drops them. Modes are interleaved in rounds
// and each mode's median is compared with "off" of the same run, so slow drift of a noisy machine
// hits every mode alike. Besides req/s (which other load on a shared machine swings by ±30%), the
// server's own CPU time per request is read from /proc: on a CPU-bound server the throughput
// loss is 1 − cpu(off) / cpu(mode), and that ratio barely moves with the neighbours.
import { execFileSync, fork, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { tinyMlp } from '../packages/server/dist/index.js';
import { OIP_PROTO_PATH, OIP_SERVICE } from '../packages/server/dist/transports/grpc/server.js';
import { AUTH, BENCH_TOKEN, cpuSeconds, load } from './load.mjs';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
  },
});
const duration = Number(args.duration);
const rounds = Number(args.rounds);
const connections = Number(args.connections);
const METHOD_PATH = `/${OIP_SERVICE}/ModelInfer`;
const MODES = {
  off: { QUIVER_OTEL_EXPORTERS: 'none' },
  'sampling 0%': { QUIVER_OTEL_EXPORTERS: 'otlp', QUIVER_OTEL_SAMPLING: '0' },
  'sampling 100%': { QUIVER_OTEL_EXPORTERS: 'otlp', QUIVER_OTEL_SAMPLING: '1' },
};
const TARGETS = { 'sampling 0%': 3, 'sampling 100%': 25 };
const hasH2load = !spawnSync('h2load', ['--version']).error;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const uptime = () =>
  `load average: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')}`;

// ---- the span sink: accepts OTLP/HTTP exports and drops them -----------------------------------
let exported = 0;
const sink = createHttpServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    exported++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const sinkUrl = `http://127.0.0.1:${sink.address().port}`;

// ---- servers ------------------------------------------------------------------------------------
const work = mkdtempSync(join(tmpdir(), 'quiver-tracing-'));
const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

async function startServer(mode) {
  const grpcPort = await freePort();
  const env = {
    QUIVER_DATA_DIR: work,
    QUIVER_HTTP_HOST: '127.0.0.1',
    QUIVER_HTTP_PORT: '0',
    QUIVER_GRPC_PORT: String(grpcPort),
    QUIVER_LOG_LEVEL: 'silent',
    QUIVER_BOOTSTRAP_TOKEN: BENCH_TOKEN,
    OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl,
    ...MODES[mode],
  };
  // QUIVER_BENCH_PROFILE=<dir>: each server writes a V8 CPU profile there when it stops.
  const profile = process.env.QUIVER_BENCH_PROFILE;
  const child = fork(new URL('./server.mjs', import.meta.url), [], {
    env: { ...process.env, ...env },
    execArgv: profile
      ? [
          '--cpu-prof',
          `--cpu-prof-dir=${profile}`,
          `--cpu-prof-name=${mode.replace(/\W+/g, '-')}-${Date.now()}.cpuprofile`,
        ]
      : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  const { ready } = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`server.mjs exited with ${code}`)));
  });
  return {
    api: ready,
    grpcPort,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', () => {
          process.removeListener('exit', orphan);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

async function call(api, method, path, body) {
  const binary = body instanceof Uint8Array;
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { ...AUTH, 'content-type': binary ? 'application/octet-stream' : 'application/json' },
    ...(body !== undefined ? { body: binary ? body : JSON.stringify(body) } : {}),
  });
  const json = await res.json();
  if (res.status >= 300 && res.status !== 409)
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

// ---- the two workloads --------------------------------------------------------------------------
const root = new protobuf.Root().loadSync(OIP_PROTO_PATH, { keepCase: true });
const RequestType = root.lookupType('inference.ModelInferRequest');
const message = Buffer.from(
  RequestType.encode(
    RequestType.fromObject({
      model_name: 'mlp',
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [0.5, -1, 1.5, 2] } },
      ],
    }),
  ).finish(),
);
const frameFile = join(work, 'infer.grpc');
const frame = Buffer.alloc(5 + message.length);
frame.writeUInt32BE(message.length, 1);
message.copy(frame, 5);
writeFileSync(frameFile, frame);

/** Runs `step` (resolving with the requests it completed); req/s and the server's CPU µs per request. */
async function measured(pid, step) {
  const cpu = cpuSeconds(pid);
  const started = Date.now();
  const requests = await step();
  const seconds = (Date.now() - started) / 1000;
  return { rps: requests / seconds, cpuUs: ((cpuSeconds(pid) - cpu) * 1e6) / requests };
}

async function getModel(server) {
  const request = { method: 'GET', path: '/v1/namespaces/bench/models/mlp' };
  const wrk = { scenario: 'plain', args: [1, 1, BENCH_TOKEN], path: request.path };
  await load({ url: server.api, connections, duration: 1, request, wrk, warmup: 0 });
  return measured(server.pid, async () => {
    const r = await load({ url: server.api, connections, duration, request, wrk, warmup: 0 });
    if (r.errors) throw new Error(`get-model: ${r.errors} errors`);
    // The CPU read around the call covers wrk's whole run, not only its measured window.
    return r.runRequests ?? r.requests;
  });
}

/** ModelInfer requests completed: h2load when installed, else `connections` concurrent grpc-js callers. */
async function modelInfer(port, seconds = duration) {
  if (hasH2load) {
    const out = execFileSync(
      'h2load',
      [
        ...['-D', String(seconds), '-c', String(Math.min(connections, 8)), '-m', '16'],
        ...['-H', 'content-type: application/grpc', '-H', 'te: trailers'],
        ...['-H', `authorization: Bearer ${BENCH_TOKEN}`, '-d', frameFile],
        `http://127.0.0.1:${port}${METHOD_PATH}`,
      ],
      { encoding: 'utf8' },
    );
    const failed = Number(out.match(/(\d+) failed/)?.[1] ?? 0);
    if (failed) throw new Error(`ModelInfer: ${failed} failed`);
    return Number(out.match(/(\d+) succeeded/)[1]);
  }
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${BENCH_TOKEN}`);
  const once = () =>
    new Promise((resolve, reject) =>
      client.makeUnaryRequest(
        METHOD_PATH,
        (b) => b,
        (b) => b,
        message,
        metadata,
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  const loop = async (until, counter) => {
    while (Date.now() < until) {
      await once();
      counter.n++;
    }
  };
  const counter = { n: 0 };
  const started = Date.now();
  await Promise.all(Array.from({ length: connections }, () => loop(started + seconds * 1000, counter)));
  client.close();
  return counter.n;
}

// ---- run ------------------------------------------------------------------------------------------
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
console.log(`machine: ${machine}\nstart: ${uptime()}`);
console.log(`ModelInfer load: ${hasH2load ? 'h2load' : `@grpc/grpc-js, ${connections} concurrent callers`}`);
{
  const seed = await startServer('off');
  const artifact = await call(seed.api, 'POST', '/v1/artifacts', tinyMlp({ seed: 1 }).bytes);
  await call(seed.api, 'POST', '/v1/namespaces', { namespace_id: 'bench' });
  await call(seed.api, 'POST', '/v1/namespaces/bench/models', { model_id: 'mlp' });
  await call(seed.api, 'POST', '/v1/namespaces/bench/models/mlp/versions', {
    artifact: { digest: artifact.digest },
  });
  await call(seed.api, 'POST', '/v1/deployments', {
    deployment_id: 'mlp',
    model: 'namespaces/bench/models/mlp',
    version: 1,
  });
  for (let i = 0; ; i++) {
    const d = await call(seed.api, 'GET', '/v1/deployments/mlp');
    if (d.status === 'ready') break;
    if (d.status === 'failed' || i > 300)
      throw new Error(`deployment not ready: ${d.status} ${d.status_message}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await seed.stop();
}

const samples = Object.fromEntries(Object.keys(MODES).map((m) => [m, { get: [], infer: [] }]));
for (let round = 0; round < rounds; round++) {
  // Rotate the order so that no mode always runs first (or last) in a round.
  const order = Object.keys(MODES).map((_, i, all) => all[(i + round) % all.length]);
  for (const mode of order) {
    const server = await startServer(mode);
    const get = await getModel(server);
    // The deployment table and the model are loaded lazily: a first second warms them.
    await modelInfer(server.grpcPort, 1).catch(() => {});
    const infer = await measured(server.pid, () => modelInfer(server.grpcPort));
    await server.stop();
    samples[mode].get.push(get);
    samples[mode].infer.push(infer);
    console.log(
      `round ${round + 1} ${mode.padEnd(13)} get-model ${get.rps.toFixed(0)} req/s ${get.cpuUs.toFixed(0)} µs CPU/req, ` +
        `ModelInfer ${infer.rps.toFixed(0)} req/s ${infer.cpuUs.toFixed(0)} µs CPU/req`,
    );
  }
}

const stat = (mode, bench, key) => median(samples[mode][bench].map((x) => x[key]));
const pct = (v) => `${v >= 0 ? '-' : '+'}${Math.abs(v).toFixed(1)}%`;
console.log(`\nend: ${uptime()}; spans exported to the sink in ${exported} requests\n`);
console.log(
  '| tracing | get-model req/s | CPU µs/req | throughput loss (CPU) | ModelInfer req/s | CPU µs/req | throughput loss (CPU) | target |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const mode of Object.keys(MODES)) {
  const cells = ['get', 'infer'].map((bench) => {
    const rps = stat(mode, bench, 'rps');
    const cpu = stat(mode, bench, 'cpuUs');
    const loss = 100 * (1 - stat('off', bench, 'cpuUs') / cpu);
    const rpsLoss = 100 * (1 - rps / stat('off', bench, 'rps'));
    return {
      loss,
      text:
        mode === 'off'
          ? `${rps.toFixed(0)} | ${cpu.toFixed(0)} | -`
          : `${rps.toFixed(0)} (${pct(rpsLoss)}) | ${cpu.toFixed(0)} | ${pct(loss)}`,
    };
  });
  const target = TARGETS[mode];
  const worst = Math.max(...cells.map((c) => c.loss));
  const verdict = target === undefined ? '' : `< ${target}% ${worst < target ? 'met' : 'missed'}`;
  console.log(`| ${mode} | ${cells.map((c) => c.text).join(' | ')} | ${verdict} |`);
}
console.log(
  `\n${rounds} rounds × ${duration} s per step, ${connections} connections; medians per mode. ` +
    'Throughput loss (CPU) = 1 − CPU per request with tracing off / with it on.',
);
sink.close();
rmSync(work, { recursive: true, force: true });
process.exit(0);
