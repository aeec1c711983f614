// `quiver serve --workers N` for tests: a cluster of Quiver processes sharing the ports, from the
// sources. Prints one JSON line when every worker listens. Run with `node --import tsx`.
import { isClusterWorker, reportListening, startCluster } from '../../src/cluster.js';
import { loadConfig } from '../../src/config/config.js';
import { createQuiver } from '../../src/main.js';

const config = loadConfig(process.env);
if (!isClusterWorker()) {
  const running = await startCluster(config, (message) => {
    process.stderr.write(`${message}\n`);
    process.exit(1);
  });
  process.stdout.write(`${JSON.stringify({ ready: running.address, workers: running.workers })}\n`);
  const stop = () => running.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const quiver = await createQuiver(config, { logger: false });
  reportListening(await quiver.listen(), quiver.grpcPort());
  process.on('SIGTERM', () => quiver.close().then(() => process.exit(0)));
}
