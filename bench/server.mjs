// A Quiver server for benchmarks, from the compiled build, configured by the environment.
import { createQuiver, loadConfig } from '../packages/server/dist/index.js';

const quiver = await createQuiver(loadConfig(process.env), { logger: false });
const address = await quiver.listen();
process.send?.({ ready: address });
const stop = async () => {
  await quiver.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
