import type { Kysely, Selectable } from 'kysely';
import { QuiverError } from '../../domain/errors.js';
import type { Permission } from '../../domain/permissions.js';
import type { PrincipalKind } from '../../domain/resources.js';
import type {
  BindingQuery,
  BindingRecord,
  BindingRepository,
  NamespacePolicyRecord,
  PolicyRepository,
  PrincipalRecord,
  PrincipalRepository,
  RoleRecord,
  RoleRepository,
  TokenRecord,
  TokenRepository,
} from '../../ports/iam.repositories.js';
import type { SqlDialect } from './dialects/dialect.js';
import { PreparedStatement } from './prepared.js';
import type { Database } from './schema.js';

type PrincipalRow = Selectable<Database['principals']>;
type TokenRow = Omit<Selectable<Database['api_tokens']>, 'hash'>;

const toPrincipal = (r: PrincipalRow): PrincipalRecord => ({
  id: r.id,
  kind: r.kind as PrincipalKind,
  display_name: r.display_name,
  disabled: Boolean(r.disabled),
  external_subject: r.external_subject,
  create_time: r.create_time,
  update_time: r.update_time,
});

const toToken = (r: TokenRow): TokenRecord => ({
  id: r.id,
  principal_id: r.principal_id,
  prefix: r.prefix,
  description: r.description,
  create_time: r.create_time,
  expire_time: r.expire_time,
  revoke_time: r.revoke_time,
  last_used_time: r.last_used_time,
});

const TOKEN_COLUMNS = [
  'api_tokens.id',
  'api_tokens.principal_id',
  'api_tokens.prefix',
  'api_tokens.description',
  'api_tokens.create_time',
  'api_tokens.expire_time',
  'api_tokens.revoke_time',
  'api_tokens.last_used_time',
] as const;

export class SqlPrincipalRepository implements PrincipalRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly d: SqlDialect,
  ) {}

  async create(r: PrincipalRecord): Promise<void> {
    await this.db
      .insertInto('principals')
      .values({ ...r, disabled: r.disabled ? 1 : 0 })
      .execute()
      .catch((err: unknown) => {
        if (!this.d.isUniqueViolation(err)) throw err;
        throw new QuiverError(
          'PRINCIPAL_EXISTS',
          `Principal '${r.id}' (or its OIDC subject) already exists.`,
          {
            details: { resource: `principals/${r.id}` },
          },
        );
      });
  }

  async get(id: string): Promise<PrincipalRecord | undefined> {
    const row = await this.db.selectFrom('principals').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toPrincipal(row);
  }

  async bySubject(subject: string): Promise<PrincipalRecord | undefined> {
    const row = await this.db
      .selectFrom('principals')
      .selectAll()
      .where('external_subject', '=', subject)
      .executeTakeFirst();
    return row && toPrincipal(row);
  }

  async list(after: string | null, limit: number): Promise<PrincipalRecord[]> {
    let q = this.db.selectFrom('principals').selectAll();
    if (after !== null) q = q.where('id', '>', after);
    return (await q.orderBy('id').limit(limit).execute()).map(toPrincipal);
  }

  async update(
    id: string,
    patch: { display_name?: string; disabled?: boolean; external_subject?: string | null },
    time: number,
  ): Promise<boolean> {
    const set = {
      update_time: time,
      ...(patch.display_name !== undefined ? { display_name: patch.display_name } : {}),
      ...(patch.disabled !== undefined ? { disabled: patch.disabled ? 1 : 0 } : {}),
      ...(patch.external_subject !== undefined ? { external_subject: patch.external_subject } : {}),
    };
    const result = await this.db
      .updateTable('principals')
      .set(set)
      .where('id', '=', id)
      .executeTakeFirst()
      .catch((err: unknown) => {
        if (!this.d.isUniqueViolation(err)) throw err;
        throw new QuiverError(
          'PRINCIPAL_EXISTS',
          'Another principal is already mapped to that OIDC subject.',
          {
            details: { field: 'external_subject' },
          },
        );
      });
    return Number(result.numUpdatedRows) > 0;
  }
}

export class SqlTokenRepository implements TokenRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(r: TokenRecord & { hash: string }): Promise<void> {
    await this.db.insertInto('api_tokens').values(r).execute();
  }

  async byHash(hash: string): Promise<{ token: TokenRecord; principal: PrincipalRecord } | undefined> {
    const row = await this.db
      .selectFrom('api_tokens')
      .innerJoin('principals', 'principals.id', 'api_tokens.principal_id')
      .select([
        ...TOKEN_COLUMNS,
        'principals.kind',
        'principals.display_name',
        'principals.disabled',
        'principals.external_subject',
        'principals.create_time as principal_create_time',
        'principals.update_time as principal_update_time',
      ])
      .where('api_tokens.hash', '=', hash)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      token: toToken(row),
      principal: toPrincipal({
        id: row.principal_id,
        kind: row.kind,
        display_name: row.display_name,
        disabled: row.disabled,
        external_subject: row.external_subject,
        create_time: row.principal_create_time,
        update_time: row.principal_update_time,
      }),
    };
  }

  async get(id: string): Promise<TokenRecord | undefined> {
    const row = await this.db
      .selectFrom('api_tokens')
      .select(TOKEN_COLUMNS)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toToken(row);
  }

  async list(principalId: string, after: string | null, limit: number): Promise<TokenRecord[]> {
    let q = this.db.selectFrom('api_tokens').select(TOKEN_COLUMNS).where('principal_id', '=', principalId);
    if (after !== null) q = q.where('id', '>', after);
    return (await q.orderBy('id').limit(limit).execute()).map(toToken);
  }

  async revoke(id: string, time: number): Promise<boolean> {
    const result = await this.db
      .updateTable('api_tokens')
      .set({ revoke_time: time })
      .where('id', '=', id)
      .where('revoke_time', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async touch(id: string, time: number): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_time: time }).where('id', '=', id).execute();
  }
}

export class SqlRoleRepository implements RoleRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly d: SqlDialect,
  ) {}

  async create(r: RoleRecord): Promise<void> {
    await this.db
      .insertInto('roles')
      .values({ ...r, permissions: JSON.stringify(r.permissions) })
      .execute()
      .catch((err: unknown) => {
        if (!this.d.isUniqueViolation(err)) throw err;
        throw new QuiverError('ROLE_EXISTS', `Role '${r.id}' already exists.`, {
          details: { resource: `roles/${r.id}` },
        });
      });
  }

  async get(id: string): Promise<RoleRecord | undefined> {
    const row = await this.db.selectFrom('roles').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRole(row);
  }

  async getMany(ids: readonly string[]): Promise<RoleRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('roles').selectAll().where('id', 'in', ids).execute();
    return rows.map(toRole);
  }

  async list(): Promise<RoleRecord[]> {
    return (await this.db.selectFrom('roles').selectAll().orderBy('id').execute()).map(toRole);
  }

  async update(
    id: string,
    patch: { description?: string; permissions?: Permission[] },
    time: number,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('roles')
      .set({
        update_time: time,
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.permissions !== undefined ? { permissions: JSON.stringify(patch.permissions) } : {}),
      })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('roles').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

function toRole(r: Selectable<Database['roles']>): RoleRecord {
  return { ...r, permissions: JSON.parse(r.permissions) as Permission[] };
}

export class SqlBindingRepository implements BindingRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly d: SqlDialect,
  ) {}

  async create(r: BindingRecord): Promise<void> {
    await this.db
      .insertInto('role_bindings')
      .values(r)
      .execute()
      .catch((err: unknown) => {
        if (!this.d.isUniqueViolation(err)) throw err;
        throw new QuiverError(
          'BINDING_EXISTS',
          `Role '${r.role_id}' is already bound to ${r.member} at ${r.scope}.`,
          { details: { role: r.role_id, member: r.member, scope: r.scope } },
        );
      });
  }

  async get(id: string): Promise<BindingRecord | undefined> {
    return this.db.selectFrom('role_bindings').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async list(query: BindingQuery, after: string | null, limit: number): Promise<BindingRecord[]> {
    let q = this.db.selectFrom('role_bindings').selectAll();
    if (query.member !== undefined) q = q.where('member', '=', query.member);
    if (query.scope !== undefined) q = q.where('scope', '=', query.scope);
    if (query.role_id !== undefined) q = q.where('role_id', '=', query.role_id);
    if (after !== null) q = q.where('id', '>', after);
    return q.orderBy('id').limit(limit).execute();
  }

  async forMembers(members: readonly string[]): Promise<BindingRecord[]> {
    if (members.length === 0) return [];
    return this.db.selectFrom('role_bindings').selectAll().where('member', 'in', members).execute();
  }

  async countForRole(roleId: string): Promise<number> {
    const row = await this.db
      .selectFrom('role_bindings')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('role_id', '=', roleId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('role_bindings').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

export class SqlPolicyRepository implements PolicyRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly d: SqlDialect,
  ) {}

  /** Read by every transition and deploy request: compiled once (see prepared.ts). */
  async get(namespaceId: string): Promise<NamespacePolicyRecord | undefined> {
    const [row] = await GET_POLICY.run<Selectable<Database['namespace_policies']>>(this.db, this.d, {
      namespaceId,
    });
    return (
      row && {
        namespace_id: row.namespace_id,
        separation_of_duties: Boolean(row.separation_of_duties),
        require_approval_for_deploy: Boolean(row.require_approval_for_deploy),
        update_time: row.update_time,
      }
    );
  }

  async put(r: NamespacePolicyRecord): Promise<void> {
    const values = {
      separation_of_duties: r.separation_of_duties ? 1 : 0,
      require_approval_for_deploy: r.require_approval_for_deploy ? 1 : 0,
      update_time: r.update_time,
    };
    await this.db
      .insertInto('namespace_policies')
      .values({ namespace_id: r.namespace_id, ...values })
      .onConflict((oc) => oc.column('namespace_id').doUpdateSet(values))
      .execute();
  }
}

const GET_POLICY = new PreparedStatement<{ namespaceId: string }>(
  'namespace_policies.get',
  ['namespaceId'],
  // Columns named, not `*`: a named statement's result type must not change under it (a later
  // migration adding a column would fail it on connections that prepared it before).
  (db, p) =>
    db
      .selectFrom('namespace_policies')
      .select(['namespace_id', 'separation_of_duties', 'require_approval_for_deploy', 'update_time'])
      .where('namespace_id', '=', p.namespaceId),
);
