export { type Config, ConfigError, loadConfig, SETTINGS, settingsMarkdown } from './config/config.js';
export { type SeedOptions, type SeedProgress, seed } from './dev/seed.js';
export { CODES, type Code, QuiverError, REASONS, type Reason } from './domain/errors.js';
export { createQuiver, type Quiver, type QuiverOptions, VERSION } from './main.js';
