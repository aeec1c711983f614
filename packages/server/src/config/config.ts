import { availableParallelism } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export const ROLES = ['all', 'api', 'worker', 'inference'] as const;
export type Role = (typeof ROLES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const OTEL_EXPORTERS = ['none', 'console', 'otlp'] as const;
export type OtelExporter = (typeof OTEL_EXPORTERS)[number];

export interface Config {
  role: Role;
  httpHost: string;
  httpPort: number;
  grpcPort: number;
  dataDir: string;
  /** Unset: SQLite in the data dir. `postgres://…`: PostgreSQL. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  logLevel: LogLevel;
  bodyLimitBytes: number;
  artifactMaxBytes: number;
  runtimeMemoryMb: number;
  runtimeThreads: number;
  workerConcurrency: number;
  jobLeaseMs: number;
  shutdownGraceMs: number;
  workers: number;
  /** Where spans go; `['none']` registers nothing (no cost). */
  otelExporters: OtelExporter[];
  /** Fraction of new traces sampled (0..1); a caller's sampled flag is followed. */
  otelSampling: number;
}

type Parser<T> = (raw: string, name: string) => T;

interface Setting<K extends keyof Config> {
  key: K;
  env: string;
  default: string | undefined;
  doc: string;
  parse: Parser<Config[K]>;
}

const port: Parser<number> = (raw, name) => integer(raw, name, 0, 65_535);
const oneOf =
  <T extends string>(values: readonly T[]): Parser<T> =>
  (raw, name) => {
    if ((values as readonly string[]).includes(raw)) return raw as T;
    throw new ConfigError(`${name} must be one of ${values.join(', ')}; got '${raw}'.`);
  };

function integer(raw: string, name: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}; got '${raw}'.`);
  }
  return Number(raw);
}

/** Every setting, its environment variable, default and meaning. docs/operations.md is generated from this table. */
export const SETTINGS: readonly Setting<keyof Config>[] = [
  {
    key: 'role',
    env: 'QUIVER_ROLE',
    default: 'all',
    doc: 'What this process runs: `all` (everything in one process), `api`, `worker` or `inference`.',
    parse: oneOf(ROLES),
  },
  {
    key: 'httpHost',
    env: 'QUIVER_HTTP_HOST',
    default: '0.0.0.0',
    doc: 'Interface the REST API and console listen on.',
    parse: (raw) => raw,
  },
  {
    key: 'httpPort',
    env: 'QUIVER_HTTP_PORT',
    default: '8080',
    doc: 'Port of the REST API, console, health and metrics.',
    parse: port,
  },
  {
    key: 'grpcPort',
    env: 'QUIVER_GRPC_PORT',
    default: '9090',
    doc: 'Port of the gRPC services (inference and management).',
    parse: port,
  },
  {
    key: 'dataDir',
    env: 'QUIVER_DATA_DIR',
    default: './data',
    doc: 'Directory for the SQLite database, artifacts and keys. Created when missing.',
    parse: (raw) => (isAbsolute(raw) ? raw : resolve(raw)),
  },
  {
    key: 'databaseUrl',
    env: 'QUIVER_DATABASE_URL',
    default: undefined,
    doc: 'Unset: SQLite at `{data_dir}/quiver.db` (WAL). `postgres://user@host:5432/db`: PostgreSQL. `sqlite:/path/file.db`: SQLite elsewhere.',
    parse: (raw, name) => {
      if (/^postgres(ql)?:\/\//.test(raw) || raw.startsWith('sqlite:')) return raw;
      throw new ConfigError(
        `${name} must start with postgres:// or sqlite:; got '${raw.replace(/\/\/[^@]*@/, '//***@')}'.`,
      );
    },
  },
  {
    key: 'databasePoolSize',
    env: 'QUIVER_DATABASE_POOL_SIZE',
    default: '20',
    doc: 'Most PostgreSQL connections one process opens.',
    parse: (raw, name) => integer(raw, name, 1, 1000),
  },
  {
    key: 'logLevel',
    env: 'QUIVER_LOG_LEVEL',
    default: 'info',
    doc: 'Log level of the JSON logs on stdout.',
    parse: oneOf(LOG_LEVELS),
  },
  {
    key: 'bodyLimitBytes',
    env: 'QUIVER_BODY_LIMIT_BYTES',
    default: '1048576',
    doc: 'Largest JSON request body accepted; larger bodies get RESOURCE_EXHAUSTED (413).',
    parse: (raw, name) => integer(raw, name, 1024, 1 << 30),
  },
  {
    key: 'artifactMaxBytes',
    env: 'QUIVER_ARTIFACT_MAX_BYTES',
    default: String(2 * 1024 ** 3),
    doc: 'Largest artifact `POST /v1/artifacts` accepts (streamed to disk, never held in memory).',
    parse: (raw, name) => integer(raw, name, 1, 2 ** 50),
  },
  {
    key: 'runtimeMemoryMb',
    env: 'QUIVER_RUNTIME_MEMORY_MB',
    default: '1024',
    doc: 'Memory budget of loaded models; idle models are evicted (least recently used first) to stay under it.',
    parse: (raw, name) => integer(raw, name, 1, 1 << 20),
  },
  {
    key: 'runtimeThreads',
    env: 'QUIVER_RUNTIME_THREADS',
    default: '1',
    doc: 'Threads onnxruntime uses inside one inference (intra-op). 1 suits many small concurrent requests.',
    parse: (raw, name) => integer(raw, name, 1, 256),
  },
  {
    key: 'workerConcurrency',
    env: 'QUIVER_WORKER_CONCURRENCY',
    default: '4',
    doc: 'Jobs (rollouts) one worker runs at the same time.',
    parse: (raw, name) => integer(raw, name, 1, 256),
  },
  {
    key: 'jobLeaseMs',
    env: 'QUIVER_JOB_LEASE_MS',
    default: '15000',
    doc: 'How long a claimed job stays with its worker without a heartbeat; after a crash another worker resumes it once this passes.',
    parse: (raw, name) => integer(raw, name, 200, 3_600_000),
  },
  {
    key: 'workers',
    env: 'QUIVER_WORKERS',
    default: '1',
    doc: 'Processes `quiver serve` runs, sharing its ports (node:cluster); `auto` = one per CPU. Reads scale with them; SQLite still has one writer.',
    parse: (raw, name) => (raw === 'auto' ? availableParallelism() : integer(raw, name, 1, 256)),
  },
  {
    key: 'shutdownGraceMs',
    env: 'QUIVER_SHUTDOWN_GRACE_MS',
    default: '10000',
    doc: 'On SIGTERM: how long in-flight requests and jobs may take to finish before the process exits.',
    parse: (raw, name) => integer(raw, name, 0, 600_000),
  },
  {
    key: 'otelExporters',
    env: 'QUIVER_OTEL_EXPORTERS',
    default: 'none',
    doc: 'Where OpenTelemetry spans go, a comma list of `none`, `console` (stdout) and `otlp` (OTLP/HTTP protobuf, configured by the standard `OTEL_EXPORTER_OTLP_*` variables). `none` turns tracing off at no cost.',
    parse: (raw, name) => {
      const list = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = list.filter((s) => !(OTEL_EXPORTERS as readonly string[]).includes(s));
      if (list.length === 0 || bad.length)
        throw new ConfigError(`${name} must be a comma list of ${OTEL_EXPORTERS.join(', ')}; got '${raw}'.`);
      const chosen = list.filter((s) => s !== 'none') as OtelExporter[];
      return chosen.length ? chosen : ['none'];
    },
  },
  {
    key: 'otelSampling',
    env: 'QUIVER_OTEL_SAMPLING',
    default: '1',
    doc: "Fraction (0 to 1) of new traces recorded when tracing is on (parent-based: a caller's sampling decision in `traceparent` is followed).",
    parse: (raw, name) => {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
        throw new ConfigError(`${name} must be a number between 0 and 1; got '${raw}'.`);
      return n;
    },
  },
];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The only reader of the environment. Every problem is reported at once, before anything starts. */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<Config> = {},
): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const s of SETTINGS) {
    const raw = env[s.env] !== undefined && env[s.env] !== '' ? env[s.env] : s.default;
    if (raw === undefined) {
      out[s.key] = undefined;
      continue;
    }
    try {
      out[s.key] = s.parse(raw, s.env);
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (problems.length) throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  return { ...(out as unknown as Config), ...withoutUndefined(overrides) };
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function sqliteFile(config: Config): string {
  if (config.databaseUrl?.startsWith('sqlite:')) return config.databaseUrl.slice('sqlite:'.length);
  return join(config.dataDir, 'quiver.db');
}

/** The settings table for docs/operations.md. */
export function settingsMarkdown(): string {
  const rows = SETTINGS.map(
    (s) => `| \`${s.env}\` | ${s.default === undefined ? '(unset)' : `\`${s.default}\``} | ${s.doc} |`,
  );
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
