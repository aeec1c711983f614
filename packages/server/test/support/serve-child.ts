// A Quiver process for tests that need a real, killable server: configured by the environment,
// prints one JSON line when listening. Run with `node --import tsx serve-child.ts`.
import { loadConfig } from '../../src/config/config.js';
import { createQuiver } from '../../src/main.js';

const quiver = await createQuiver(loadConfig(process.env), {
  logger: false,
  pollMs: 50,
  ...(process.env.QUIVER_TEST_PG_SCHEMA ? { postgresSchema: process.env.QUIVER_TEST_PG_SCHEMA } : {}),
});
const address = await quiver.listen();
process.stdout.write(
  `${JSON.stringify({ ready: address, pid: process.pid, owner: quiver.worker?.owner ?? null })}\n`,
);
const stop = () => quiver.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
