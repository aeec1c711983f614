import { join } from 'node:path';
import type { Config } from '@quiver/server';
import type { Command } from 'commander';
import { DEFAULT_SERVER } from '../context.js';
import { CliExit } from '../errors.js';
import type { Io } from '../output.js';

/** Each flag and the environment variable it stands for (flags win over the environment). */
export const SERVE_FLAGS = {
  host: 'QUIVER_HTTP_HOST',
  port: 'QUIVER_HTTP_PORT',
  grpcPort: 'QUIVER_GRPC_PORT',
  dataDir: 'QUIVER_DATA_DIR',
  databaseUrl: 'QUIVER_DATABASE_URL',
  logLevel: 'QUIVER_LOG_LEVEL',
  role: 'QUIVER_ROLE',
  workers: 'QUIVER_WORKERS',
} as const;
type Flag = keyof typeof SERVE_FLAGS;
const flagName = (flag: string) => `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * Reads the configuration the way the server does (`loadConfig`), with flags overriding the
 * environment, so a flag is validated and reported exactly like its variable. Loads the
 * server lazily: plain client commands never pay for it.
 */
export async function configFrom(
  io: Io,
  flags: { [F in Flag]?: string | undefined },
  extraEnv: Record<string, string> = {},
): Promise<Config> {
  const { loadConfig, ConfigError } = await import('@quiver/server');
  const env: Record<string, string | undefined> = { ...io.env, ...extraEnv };
  for (const [flag, value] of Object.entries(flags)) {
    if (value !== undefined && flag in SERVE_FLAGS) env[SERVE_FLAGS[flag as Flag]] = value;
  }
  try {
    return loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const hints = Object.keys(flags)
      .filter((f) => f in SERVE_FLAGS && err.message.includes(SERVE_FLAGS[f as Flag]))
      .map((f) => `\n  (${flagName(f)} sets ${SERVE_FLAGS[f as Flag]})`);
    throw new CliExit(2, `${err.message}${hints.join('')}`);
  }
}

export function addStorageOptions(cmd: Command): Command {
  return cmd
    .option(
      '--data-dir <dir>',
      'directory of the SQLite database and local data (QUIVER_DATA_DIR; default ./data)',
    )
    .option(
      '--database-url <url>',
      'postgres://user@host:5432/db for PostgreSQL, or sqlite:/path/file.db (QUIVER_DATABASE_URL)',
    );
}

export function serveCommand(program: Command, io: Io, version: string): void {
  addStorageOptions(
    program
      .command('serve')
      .description(
        'Run Quiver (REST API, docs, gRPC inference, job worker) on embedded defaults: SQLite in ./data',
      )
      .option('--host <host>', 'interface to listen on (QUIVER_HTTP_HOST; default 0.0.0.0)')
      .option('--port <n>', 'REST API port; 0 picks a free one (QUIVER_HTTP_PORT; default 8080)')
      .option(
        '--grpc-port <n>',
        'gRPC port of inference (QUIVER_GRPC_PORT; default 9090; 0 picks a free one)',
      ),
  )
    .option(
      '--log-level <level>',
      'fatal|error|warn|info|debug|trace|silent (QUIVER_LOG_LEVEL; default info)',
    )
    .option('--role <role>', 'what this process runs: all|api|worker|inference (QUIVER_ROLE; default all)')
    .option('--workers <n>', 'processes sharing the ports, or auto = one per CPU (QUIVER_WORKERS; default 1)')
    .addHelpText(
      'after',
      `
Every flag mirrors a QUIVER_* environment variable (see docs/operations.md); flags win.
JSON logs go to stdout; the welcome screen goes to stderr. Ctrl+C (SIGINT) or SIGTERM stops
the server gracefully.

Examples:
  $ quiver serve
  $ quiver serve --port 9000 --data-dir /var/lib/quiver
  $ quiver serve --database-url postgres://postgres@127.0.0.1:5432/quiver --log-level warn
  $ quiver serve --workers auto`,
    )
    .action(async (opts: { [F in Flag]?: string }) => {
      const config = await configFrom(io, opts);
      const server = await import('@quiver/server');
      if (config.workers > 1 && !server.isClusterWorker()) {
        const running = await server.startCluster(config, (message) => {
          io.err(`\n${message}; stopping the other workers.\n`);
          void running.close().then(() => process.exit(1));
        });
        io.err(welcome(running.address, running.grpcPort, config, version, io));
        io.err(`  ${running.workers} worker processes share these ports.\n`);
        const signal = await io.waitForStop();
        io.err(`\n${signal}: shutting down ${running.workers} workers…\n`);
        await running.close();
        io.err('Quiver stopped.\n');
        return;
      }
      const quiver = await server.createQuiver(config);
      let address: string;
      try {
        address = await quiver.listen();
      } catch (err) {
        await quiver.close();
        throw err;
      }
      if (server.isClusterWorker()) {
        server.reportListening(address, quiver.grpcPort());
      } else {
        io.err(welcome(address, quiver.grpcPort(), config, version, io, quiver.adminToken));
      }
      const signal = await io.waitForStop();
      io.err(`\n${signal}: shutting down…\n`);
      await quiver.close();
      io.err('Quiver stopped.\n');
    });
}

/** The first screen: where things are and what to type next. */
export function welcome(
  address: string,
  grpcPort: number,
  config: Config,
  version: string,
  io: Io,
  adminToken?: { secret: string; file: string },
): string {
  const url = new URL(address);
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = 'localhost';
  const base = url.origin;
  const database = config.databaseUrl?.startsWith('postgres')
    ? `PostgreSQL ${config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@')}`
    : `SQLite ${config.databaseUrl?.startsWith('sqlite:') ? config.databaseUrl.slice('sqlite:'.length) : join(config.dataDir, 'quiver.db')}`;
  const client = io.env.QUIVER_URL || DEFAULT_SERVER;
  const needsUrl = !URL.canParse(client) || new URL(client).port !== url.port;
  return `
  Quiver ${version} is running  (role: ${config.role})

${config.role === 'all' || config.role === 'api' ? `  Console   ${base}/  (sign in with the API token)\n` : ''}  API       ${base}/v1
  Docs      ${base}/docs
  OpenAPI   ${base}/openapi.json
  Health    ${base}/readyz
${grpcPort ? `  gRPC      ${url.hostname}:${grpcPort}  (Open Inference Protocol v2)\n` : ''}  Data      ${database}
  Logs      JSON on stdout, level ${config.logLevel}
${
  adminToken
    ? `
  First start: the admin's API token (shown once; also in ${adminToken.file}, mode 0600)
  Token     ${adminToken.secret}
  The CLI on this machine reads that file; elsewhere: export QUIVER_TOKEN=<token>
`
    : config.auth === 'off'
      ? '\n  WARNING   QUIVER_AUTH=off: no authentication, every caller is an admin.\n'
      : ''
}
  Next, in another terminal:
${needsUrl ? `    export QUIVER_URL=${base}\n` : ''}    quiver namespaces create demo --description "My first namespace"
    quiver models create demo/classifier --label team=ml
    quiver versions create demo/classifier --source-uri s3://bucket/model.onnx
    quiver versions get demo/classifier@1

  Press Ctrl+C to stop.

`;
}
