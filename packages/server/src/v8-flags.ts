import { setFlagsFromString } from 'node:v8';
import type { Config } from './config/config.js';

/**
 * Sets the V8 flags Quiver runs with (ADR 011), for the whole process. Allocation-site
 * pretenuring is off by default: V8 otherwise sometimes decides, from the survival of objects
 * sampled at one young-generation collection, that a site's objects are long-lived and
 * allocates them in the old generation from then on. Under concurrent requests, objects that
 * live for one request meet that test by chance; the process that decides so stays slow.
 * The flag is read at each collection, so setting it at start-up takes effect at once.
 */
export function applyV8Flags(config: Pick<Config, 'v8Pretenuring'>): void {
  setFlagsFromString(
    config.v8Pretenuring === 'on' ? '--allocation-site-pretenuring' : '--no-allocation-site-pretenuring',
  );
}
