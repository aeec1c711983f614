import { systemClock } from '../../src/ports/clock.js';
import { Access } from '../../src/services/iam/access.js';
import { Authenticator } from '../../src/services/iam/authenticator.js';
import { RateLimiter } from '../../src/services/iam/rate-limiter.js';
import { ScopeResolver } from '../../src/services/iam/scopes.js';

/**
 * The gate with authentication off (QUIVER_AUTH=off): for transport tests that build a server
 * without a database. With authentication off nothing below is ever read.
 */
export function openAccess(): Access {
  const none = undefined as never;
  return new Access({
    authenticator: new Authenticator({
      store: none,
      mutations: none,
      clock: systemClock,
      enabled: false,
      cacheTtlMs: 0,
    }),
    limiter: new RateLimiter(0, 1, systemClock.now),
    scopes: new ScopeResolver(none, systemClock.now, 0),
  });
}
