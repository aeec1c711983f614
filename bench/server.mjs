// A Quiver server for benchmarks, from the compiled build, configured by the environment
// (QUIVER_WORKERS > 1 runs a cluster of processes sharing the ports, as `quiver serve --workers`).
import {
  createQuiver,
  isClusterWorker,
  loadConfig,
  reportListening,
  startCluster,
} from '../packages/server/dist/index.js';

const config = loadConfig(process.env);
if (config.workers > 1 && !isClusterWorker()) {
  const running = await startCluster(config, (message) => {
    console.error(message);
    process.exit(1);
  });
  process.send?.({ ready: running.address });
  const stop = () => running.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const quiver = await createQuiver(config, { logger: false });
  const address = await quiver.listen();
  reportListening(address, quiver.grpcPort());
  if (!isClusterWorker()) process.send?.({ ready: address });
  const stop = async () => {
    await quiver.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
