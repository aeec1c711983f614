import { availableParallelism } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export const ROLES = ['all', 'api', 'worker', 'inference'] as const;
export type Role = (typeof ROLES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const OTEL_EXPORTERS = ['none', 'console', 'otlp'] as const;
export type OtelExporter = (typeof OTEL_EXPORTERS)[number];
export const OTLP_PROTOCOLS = ['http/protobuf', 'grpc'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export interface Config {
  role: Role;
  httpHost: string;
  /** Connections the kernel may hold waiting for accept() on the REST port. */
  httpBacklog: number;
  /** Extra descriptors of the REST listening socket, each accepting a connection per loop turn. */
  httpAcceptors: number;
  httpPort: number;
  grpcPort: number;
  dataDir: string;
  /** Unset: SQLite in the data dir. `postgres://…`: PostgreSQL. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** Requests (REST and gRPC) one process works on at once before it sheds more with UNAVAILABLE. */
  maxInFlight: number;
  /** New requests are refused while the event loop runs later than this (ms); 0 = never. */
  maxEventLoopDelayMs: number;
  /** Bytes the in-process read cache may hold; 0 switches it off. */
  cacheMaxMb: number;
  /** Longest life of a cache entry: the staleness bound should an invalidation message be lost. */
  cacheTtlMs: number;
  /** Redis for invalidations between instances on several machines; unset = none (one machine). */
  redisUrl: string | undefined;
  /** SQLite: WAL checkpoints from a background thread every this many ms; 0 = inside commits. */
  sqliteCheckpointMs: number;
  /** V8's allocation-site pretenuring; off by default (ADR 011). */
  v8Pretenuring: 'on' | 'off';
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
  /** OTLP transport of spans: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else http/protobuf. */
  otlpTracesProtocol: OtlpProtocol | undefined;
  otlpProtocol: OtlpProtocol | undefined;
  /** `on`: metrics are also pushed over OTLP (endpoint and protocol from the standard variables). */
  otelMetrics: 'on' | 'off';
  otelMetricExportIntervalMs: number;
  /** Ed25519 private key (PKCS#8 PEM or base64 DER) signing audit checkpoints; unset: `{dataDir}/audit-signing.key`. */
  auditSigningKey: string | undefined;
  /** How often the audit chain's head is signed when it moved; 0 disables periodic checkpoints. */
  auditCheckpointIntervalMs: number;
  /** `off` makes every caller an admin-like `anonymous` principal (local experiments only). */
  auth: 'on' | 'off';
  /** An API token (`qvr_…`) made valid for the admin principal at start (automation, tests). */
  bootstrapToken: string | undefined;
  oidcIssuer: string | undefined;
  oidcAudience: string | undefined;
  oidcGroupsClaim: string;
  oidcJwksUri: string | undefined;
  /** The console's public client id at the OIDC issuer; with `oidcIssuer`, the console offers OIDC sign-in. */
  oidcClientId: string | undefined;
  /** Scopes the console asks for at OIDC sign-in (`openid` always among them). */
  oidcScopes: string[];
  /** How long a token's principal and permissions are cached in memory. */
  authCacheTtlMs: number;
  /** Requests per second per principal (token bucket); 0 = no limit. */
  rateLimitRps: number;
  rateLimitBurst: number;
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
    key: 'httpBacklog',
    env: 'QUIVER_HTTP_BACKLOG',
    default: '4096',
    doc: "Connections the kernel queues for the REST port before Quiver accepts them (capped by the kernel's `net.core.somaxconn`). Node's default of 511 drops the connection attempts of a burst past it, and the clients wait for their SYN to be retransmitted (1 s, 3 s, 7 s…).",
    parse: (raw, name) => integer(raw, name, 1, 65_535),
  },
  {
    key: 'httpAcceptors',
    env: 'QUIVER_HTTP_ACCEPTORS',
    default: '32',
    doc: 'Extra descriptors of the REST listening socket (0 = none; see ADR 010). Node 20 accepts one connection per descriptor per turn of the event loop: a busy process takes a burst of new connections this many + 1 at a time instead of one, so 1,000 clients connecting at once are served instead of timing out. Each new connection wakes every descriptor (about 1 µs each): clients that open a connection per request pay ~30 µs more each at 32, clients that keep connections open (HTTP keep-alive, load balancers) nothing. Not used by `--workers` processes, whose connections the primary hands out.',
    parse: (raw, name) => integer(raw, name, 0, 64),
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
    key: 'maxInFlight',
    env: 'QUIVER_MAX_IN_FLIGHT',
    default: '4096',
    doc: 'Requests (REST and gRPC together) one process works on at once; past it, new ones are answered at once with `503`/`UNAVAILABLE` and `Retry-After: 1` instead of queueing without bound. Health probes and /metrics are always answered. 0 = no limit.',
    parse: (raw, name) => integer(raw, name, 0, 1_000_000),
  },
  {
    key: 'maxEventLoopDelayMs',
    env: 'QUIVER_MAX_EVENT_LOOP_DELAY_MS',
    default: '2000',
    doc: "New requests (REST and gRPC) are answered at once with `503`/`UNAVAILABLE` and `Retry-After: 1` while the process's event loop runs later than this many ms: every request arriving then would wait at least as long before it is even read. The default sits above the turns of a busy but coping process (about 1 s with 1,000 clients of heavy batch reads on this project's benchmark machine), so it acts past saturation only. Health probes and /metrics are always answered. Such turns are logged as warnings (how many, how late; at most one every 10 s). 0 = never.",
    parse: (raw, name) => integer(raw, name, 0, 60_000),
  },
  {
    key: 'cacheMaxMb',
    env: 'QUIVER_CACHE_MAX_MB',
    default: '256',
    doc: 'Memory the read cache (models, versions, model lists) may use per process; 0 switches it off. Entries are dropped by the changes that touch them, in this process at once and in others through the invalidation bus.',
    parse: (raw, name) => integer(raw, name, 0, 1 << 20),
  },
  {
    key: 'cacheTtlMs',
    env: 'QUIVER_CACHE_TTL_MS',
    default: '300000',
    doc: 'Longest life of a read-cache entry: the bound on a stale read should an invalidation message between instances be lost. Each entry lives a random 80–100% of it, so entries filled together (a sweep, the first minutes after a restart) do not all expire in the same moment.',
    parse: (raw, name) => integer(raw, name, 1, 86_400_000),
  },
  {
    key: 'redisUrl',
    env: 'QUIVER_REDIS_URL',
    default: undefined,
    doc: 'Redis (`redis://host:6379/0`) carrying cache invalidations between instances on different machines. Unset: processes of one `quiver serve --workers N` tell each other directly; a single process needs nothing.',
    parse: (raw, name) => {
      if (!/^rediss?:\/\/\S+$/.test(raw))
        throw new ConfigError(
          `${name} must be a redis:// or rediss:// URL (the value is not shown: it may hold a password).`,
        );
      return raw;
    },
  },
  {
    key: 'sqliteCheckpointMs',
    env: 'QUIVER_SQLITE_CHECKPOINT_MS',
    default: '3',
    doc: "SQLite: copy the write-ahead log into the database file from a background thread this often while writes come in (every 100 ms or ten times less often, whichever is rarer, when idle), instead of inside the commit that fills it (0 = inside commits, SQLite's default). Keeps checkpoints off the request path; small, frequent passes keep the fsync each one ends with short, which the writer's commits otherwise wait behind.",
    parse: (raw, name) => integer(raw, name, 0, 60_000),
  },
  {
    key: 'v8Pretenuring',
    env: 'QUIVER_V8_PRETENURING',
    default: 'off',
    doc: "V8's allocation-site pretenuring (`on` is Node's default). Off, a process no longer settles at random, once and for its lifetime, into a mode where objects that live through one request are allocated in the old generation: about one process in five did, and served ModelInfer with 30–50% more CPU per call (ADR 011).",
    parse: oneOf(['on', 'off'] as const),
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
  {
    key: 'otlpProtocol',
    env: 'OTEL_EXPORTER_OTLP_PROTOCOL',
    default: undefined,
    doc: 'The standard OpenTelemetry variable: how OTLP is sent, `http/protobuf` (port 4318) or `grpc` (port 4317). The other standard `OTEL_*` variables (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, their `_TRACES_`/`_METRICS_` forms) are read by the exporters as the specification says. Unset: `http/protobuf`.',
    parse: oneOf(OTLP_PROTOCOLS),
  },
  {
    key: 'otlpTracesProtocol',
    env: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    default: undefined,
    doc: 'The protocol of spans only; wins over `OTEL_EXPORTER_OTLP_PROTOCOL`.',
    parse: oneOf(OTLP_PROTOCOLS),
  },
  {
    key: 'otelMetrics',
    env: 'QUIVER_OTEL_METRICS',
    default: 'off',
    doc: '`on`: the metrics of `/metrics` (same names, labels and buckets) are also pushed over OTLP every `OTEL_METRIC_EXPORT_INTERVAL` ms, cumulative, to `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`, over `OTEL_EXPORTER_OTLP_PROTOCOL`. Independent of `QUIVER_OTEL_EXPORTERS`; `/metrics` stays served either way.',
    parse: oneOf(['on', 'off'] as const),
  },
  {
    key: 'otelMetricExportIntervalMs',
    env: 'OTEL_METRIC_EXPORT_INTERVAL',
    default: '60000',
    doc: 'The standard OpenTelemetry variable: milliseconds between two pushes of OTLP metrics (with `QUIVER_OTEL_METRICS=on`).',
    parse: (raw, name) => integer(raw, name, 100, 86_400_000),
  },
  {
    key: 'auditSigningKey',
    env: 'QUIVER_AUDIT_SIGNING_KEY',
    default: undefined,
    doc: 'The Ed25519 private key that signs audit checkpoints: a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----…`) or the base64 of its DER. Unset: `{data_dir}/audit-signing.key`, created (mode 0600) on first start. See docs/security.md for rotation.',
    parse: (raw) => raw,
  },
  {
    key: 'auditCheckpointIntervalMs',
    env: 'QUIVER_AUDIT_CHECKPOINT_INTERVAL_MS',
    default: '60000',
    doc: 'How often the head of the audit chain is signed (a checkpoint), when it moved since the last one. 0 disables periodic checkpoints (`POST /v1/audit:checkpoint` still signs on demand).',
    parse: (raw, name) => integer(raw, name, 0, 86_400_000),
  },
  {
    key: 'auth',
    env: 'QUIVER_AUTH',
    default: 'on',
    doc: 'Authentication and permission checks. `off` makes every caller an admin-like `anonymous` principal and logs a loud warning: for local experiments only.',
    parse: oneOf(['on', 'off'] as const),
  },
  {
    key: 'bootstrapToken',
    env: 'QUIVER_BOOTSTRAP_TOKEN',
    default: undefined,
    doc: 'An API token (`qvr_` and 32-128 letters, digits, `-`, `_`) made valid for the `admin` principal at every start, for automation and tests. Unset: the first start creates a random one, prints it once and writes it to `{data_dir}/admin-token` (mode 0600).',
    parse: (raw, name) => {
      if (/^qvr_[A-Za-z0-9_-]{32,128}$/.test(raw)) return raw;
      throw new ConfigError(`${name} must be qvr_ followed by 32 to 128 letters, digits, '-' or '_'.`);
    },
  },
  {
    key: 'oidcIssuer',
    env: 'QUIVER_OIDC_ISSUER',
    default: undefined,
    doc: 'OIDC issuer URL whose JWTs are accepted as bearer tokens (verified against its JWKS, found by discovery). Needs `QUIVER_OIDC_AUDIENCE`.',
    parse: (raw, name) => {
      if (URL.canParse(raw) && /^https?:$/.test(new URL(raw).protocol)) return raw;
      throw new ConfigError(`${name} must be an http(s) URL; got '${raw}'.`);
    },
  },
  {
    key: 'oidcAudience',
    env: 'QUIVER_OIDC_AUDIENCE',
    default: undefined,
    doc: "The `aud` a JWT must carry to be accepted (this server's client id at the identity provider).",
    parse: (raw) => raw,
  },
  {
    key: 'oidcGroupsClaim',
    env: 'QUIVER_OIDC_GROUPS_CLAIM',
    default: 'groups',
    doc: "The JWT claim listing the caller's groups; role bindings to `groups/{name}` apply to them.",
    parse: (raw) => raw,
  },
  {
    key: 'oidcJwksUri',
    env: 'QUIVER_OIDC_JWKS_URI',
    default: undefined,
    doc: "The issuer's JWKS URL, when discovery (`{issuer}/.well-known/openid-configuration`) is not available.",
    parse: (raw, name) => {
      if (URL.canParse(raw)) return raw;
      throw new ConfigError(`${name} must be a URL; got '${raw}'.`);
    },
  },
  {
    key: 'oidcClientId',
    env: 'QUIVER_OIDC_CLIENT_ID',
    default: undefined,
    doc: "The web console's client id at the OIDC issuer: a public client (no secret) allowed the authorization code flow with PKCE and the console's address (`https://quiver.example.com/`) as redirect URI. With `QUIVER_OIDC_ISSUER`, the sign-in screen offers *Sign in with {issuer}*; unset, API tokens only. See docs/security.md.",
    parse: (raw, name) => {
      // RFC 6749 A.1: a client id is printable ASCII.
      if (/^[\x20-\x7e]{1,512}$/.test(raw) && raw.trim() === raw) return raw;
      throw new ConfigError(
        `${name} must be 1 to 512 printable ASCII characters, without spaces around them.`,
      );
    },
  },
  {
    key: 'oidcScopes',
    env: 'QUIVER_OIDC_SCOPES',
    default: 'openid profile email',
    doc: 'Scopes the console asks for at OIDC sign-in, separated by spaces; `openid` must be one. Add the ones your provider needs to put `QUIVER_OIDC_AUDIENCE` and the groups claim into its tokens.',
    parse: (raw, name) => {
      const scopes = raw.split(/\s+/).filter(Boolean);
      // RFC 6749 3.3: scope tokens are printable ASCII without spaces, quotes or backslashes.
      if (!scopes.every((s) => /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s)))
        throw new ConfigError(`${name} must be scopes separated by spaces; got '${raw}'.`);
      if (!scopes.includes('openid'))
        throw new ConfigError(`${name} must include openid (OIDC sign-in needs it); got '${raw}'.`);
      return [...new Set(scopes)];
    },
  },
  {
    key: 'authCacheTtlMs',
    env: 'QUIVER_AUTH_CACHE_TTL_MS',
    default: '5000',
    doc: "How long a token's principal and permissions are kept in memory. Revocations and binding changes apply at once on the instance that made them, and within this time on the others.",
    parse: (raw, name) => integer(raw, name, 0, 300_000),
  },
  {
    key: 'rateLimitRps',
    env: 'QUIVER_RATE_LIMIT_RPS',
    default: '0',
    doc: 'Requests per second each principal may send, per instance (token bucket); beyond it `RESOURCE_EXHAUSTED` with `Retry-After`. 0 = no limit.',
    parse: (raw, name) => integer(raw, name, 0, 10_000_000),
  },
  {
    key: 'rateLimitBurst',
    env: 'QUIVER_RATE_LIMIT_BURST',
    default: '100',
    doc: 'Requests a principal may send at once above its rate (the bucket size) when `QUIVER_RATE_LIMIT_RPS` is set.',
    parse: (raw, name) => integer(raw, name, 1, 10_000_000),
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
  if ((env.QUIVER_OIDC_ISSUER || undefined) !== undefined && !env.QUIVER_OIDC_AUDIENCE)
    problems.push(
      'QUIVER_OIDC_ISSUER is set but QUIVER_OIDC_AUDIENCE is not: JWTs must be checked for their audience.',
    );
  if ((env.QUIVER_OIDC_CLIENT_ID || undefined) !== undefined && !env.QUIVER_OIDC_ISSUER)
    problems.push(
      'QUIVER_OIDC_CLIENT_ID is set but QUIVER_OIDC_ISSUER is not: the console would have no identity provider to sign in with.',
    );
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
