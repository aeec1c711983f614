import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QuiverError } from '../../domain/errors.js';
import type { Clock } from '../../ports/clock.js';
import type { Repositories } from '../../ports/repositories.js';
import type { Mutations } from '../mutations.js';
import { shortId } from './iam.checks.js';
import { hashToken, newTokenSecret, TOKEN_PATTERN, tokenPrefix } from './secrets.js';

export const ADMIN_PRINCIPAL = 'admin';
export const ADMIN_TOKEN_FILE = 'admin-token';

export interface BootstrapResult {
  /** The new admin token's secret, when this start created it (print it once); otherwise undefined. */
  secret?: string;
  /** Where the secret was written (mode 0600). */
  file?: string;
}

/**
 * First start: an `admin` principal bound to the admin role everywhere, and an API token for it,
 * written to `{data_dir}/admin-token` (0600). With QUIVER_BOOTSTRAP_TOKEN, that token is made
 * valid for the admin instead (every start, so automation can rotate it). Safe when several
 * instances start at once: the principal's primary key lets one of them win.
 */
export async function bootstrapAdmin(
  deps: { mutations: Mutations; clock: Clock },
  options: { dataDir: string; bootstrapToken?: string | undefined },
): Promise<BootstrapResult> {
  const given = options.bootstrapToken;
  if (given !== undefined && !TOKEN_PATTERN.test(given)) {
    throw new Error('QUIVER_BOOTSTRAP_TOKEN must be qvr_ followed by 32 to 128 letters, digits, - or _.');
  }
  const ctx = { actor: { principal: 'system' }, requestId: 'bootstrap' };
  let created = false;
  try {
    created = await deps.mutations.run(
      ctx,
      { action: 'BootstrapAdmin', resource: `principals/${ADMIN_PRINCIPAL}`, request: {} },
      (repos) => createAdmin(repos, deps.clock.now()),
    );
  } catch (err) {
    // Another instance created it first.
    if (!(err instanceof QuiverError && err.reason === 'PRINCIPAL_EXISTS')) throw err;
  }
  const secret = given ?? (created ? newTokenSecret() : undefined);
  if (secret === undefined) return {};
  const description = given ? 'QUIVER_BOOTSTRAP_TOKEN' : 'created at first start';
  await deps.mutations.run(
    ctx,
    { action: 'CreateToken', resource: `principals/${ADMIN_PRINCIPAL}/tokens`, request: { description } },
    async (repos) => {
      if (await repos.tokens.byHash(hashToken(secret))) return;
      await repos.tokens.create({
        id: shortId(),
        principal_id: ADMIN_PRINCIPAL,
        hash: hashToken(secret),
        prefix: tokenPrefix(secret),
        description,
        create_time: deps.clock.now(),
        expire_time: null,
        revoke_time: null,
        last_used_time: null,
      });
    },
  );
  if (given) return {};
  mkdirSync(options.dataDir, { recursive: true });
  const file = join(options.dataDir, ADMIN_TOKEN_FILE);
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { secret, file };
}

async function createAdmin(repos: Repositories, time: number): Promise<boolean> {
  if (await repos.principals.get(ADMIN_PRINCIPAL)) return false;
  await repos.principals.create({
    id: ADMIN_PRINCIPAL,
    kind: 'user',
    display_name: 'Administrator',
    disabled: false,
    external_subject: null,
    create_time: time,
    update_time: time,
  });
  await repos.bindings.create({
    id: shortId(),
    role_id: 'admin',
    member: `principals/${ADMIN_PRINCIPAL}`,
    scope: 'global',
    created_by: 'system',
    create_time: time,
  });
  return true;
}
