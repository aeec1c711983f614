export { isClusterWorker, type RunningCluster, reportListening, startCluster } from './cluster.js';
export {
  type Config,
  ConfigError,
  loadConfig,
  SETTINGS,
  settingsMarkdown,
  sqliteFile,
} from './config/config.js';
export { referenceMlp, tinyMlp } from './dev/onnx-builder.js';
export { type SeedOptions, type SeedProgress, seed } from './dev/seed.js';
export { CODES, type Code, QuiverError, REASONS, type Reason } from './domain/errors.js';
export { createQuiver, type Quiver, type QuiverOptions, VERSION } from './main.js';
export { type Clock, type Ids, systemClock, uuidIds } from './ports/clock.js';
export type { Store } from './ports/unit-of-work.js';
