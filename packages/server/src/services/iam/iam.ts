import type { Logger } from 'pino';
import type { Config } from '../../config/config.js';
import type { PageTokenCodec } from '../../domain/page-token.js';
import type { AuditSink } from '../../ports/audit.js';
import type { Clock } from '../../ports/clock.js';
import type { UnitOfWork } from '../../ports/unit-of-work.js';
import type { Mutations } from '../mutations.js';
import { Access } from './access.js';
import { Authenticator } from './authenticator.js';
import { type BootstrapResult, bootstrapAdmin } from './bootstrap.js';
import { OidcVerifier } from './oidc.js';
import { PrincipalService } from './principal.service.js';
import { RateLimiter } from './rate-limiter.js';
import { RoleService } from './role.service.js';
import { ScopeResolver } from './scopes.js';

export interface Iam {
  access: Access;
  principals: PrincipalService;
  roles: RoleService;
  /** The admin token this start created (to print once), if it created one. */
  bootstrap: BootstrapResult;
}

/** Authentication, permissions and IAM, assembled from the configuration; bootstraps the admin. */
export async function createIam(
  config: Config,
  deps: {
    store: UnitOfWork;
    mutations: Mutations;
    clock: Clock;
    tokens: PageTokenCodec;
    audit: AuditSink;
    logger: Logger;
  },
): Promise<Iam> {
  const { store, mutations, clock, logger } = deps;
  const enabled = config.auth === 'on';
  const oidc =
    config.oidcIssuer && config.oidcAudience
      ? new OidcVerifier({
          issuer: config.oidcIssuer,
          audience: config.oidcAudience,
          groupsClaim: config.oidcGroupsClaim,
          jwksUri: config.oidcJwksUri,
        })
      : undefined;
  const authenticator = new Authenticator({
    store,
    mutations,
    clock,
    enabled,
    oidc,
    cacheTtlMs: config.authCacheTtlMs,
    logger,
  });
  const access = new Access({
    authenticator,
    limiter: new RateLimiter(config.rateLimitRps, config.rateLimitBurst, clock.now),
    scopes: new ScopeResolver(store, clock.now, config.authCacheTtlMs),
    audit: deps.audit,
    logger,
  });
  const iamDeps = { store, mutations, clock, tokens: deps.tokens, changed: () => authenticator.invalidate() };
  let bootstrap: BootstrapResult = {};
  if (enabled) {
    bootstrap = await bootstrapAdmin(
      { mutations, clock },
      { dataDir: config.dataDir, bootstrapToken: config.bootstrapToken },
    );
    if (bootstrap.secret) {
      logger.info(
        { principal: 'admin', token: bootstrap.secret, file: bootstrap.file },
        'First start: created the admin principal and its API token (shown once; also written to the file)',
      );
    }
  } else {
    logger.warn(
      'QUIVER_AUTH=off: AUTHENTICATION AND PERMISSION CHECKS ARE DISABLED. Every caller is an admin. Use this for local experiments only, never with data that matters.',
    );
  }
  return { access, principals: new PrincipalService(iamDeps), roles: new RoleService(iamDeps), bootstrap };
}
