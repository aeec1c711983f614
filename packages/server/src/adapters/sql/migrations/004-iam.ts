import type { Kysely } from 'kysely';
import type { SqlDialect } from '../dialects/dialect.js';

/**
 * Identity and access: principals, API tokens (hashes only), custom roles (the built-in ones
 * live in code), role bindings at global, namespace or model scope, and per-namespace policy.
 */
export async function up(db: Kysely<unknown>, d: SqlDialect): Promise<void> {
  await db.schema
    .createTable('principals')
    .addColumn('id', d.text, (c) => c.primaryKey())
    .addColumn('kind', d.text, (c) => c.notNull())
    .addColumn('display_name', d.text, (c) => c.notNull())
    .addColumn('disabled', 'integer', (c) => c.notNull())
    // `issuer|sub` of an OIDC identity mapped to this principal; null for token-only principals.
    .addColumn('external_subject', d.text, (c) => c.unique())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', d.text, (c) => c.primaryKey())
    .addColumn('principal_id', d.text, (c) => c.notNull().references('principals.id'))
    // SHA-256 of the secret (hex): a leaked database does not leak usable tokens.
    .addColumn('hash', d.text, (c) => c.notNull().unique())
    .addColumn('prefix', d.text, (c) => c.notNull())
    .addColumn('description', d.text, (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('expire_time', 'bigint')
    .addColumn('revoke_time', 'bigint')
    .addColumn('last_used_time', 'bigint')
    .execute();
  await db.schema
    .createIndex('api_tokens_by_principal')
    .on('api_tokens')
    .columns(['principal_id', 'id'])
    .execute();

  await db.schema
    .createTable('roles')
    .addColumn('id', d.text, (c) => c.primaryKey())
    .addColumn('description', d.text, (c) => c.notNull())
    .addColumn('permissions', d.text, (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('role_bindings')
    .addColumn('id', d.text, (c) => c.primaryKey())
    .addColumn('role_id', d.text, (c) => c.notNull())
    // `principals/{id}` or `groups/{name}`.
    .addColumn('member', d.text, (c) => c.notNull())
    // `global`, `namespaces/{ns}` or `namespaces/{ns}/models/{model}`.
    .addColumn('scope', d.text, (c) => c.notNull())
    .addColumn('created_by', d.text, (c) => c.notNull())
    .addColumn('create_time', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('role_bindings_unique', ['member', 'role_id', 'scope'])
    .execute();
  await db.schema.createIndex('role_bindings_by_role').on('role_bindings').column('role_id').execute();
  await db.schema.createIndex('role_bindings_by_scope').on('role_bindings').column('scope').execute();

  await db.schema
    .createTable('namespace_policies')
    .addColumn('namespace_id', d.text, (c) => c.primaryKey())
    .addColumn('separation_of_duties', 'integer', (c) => c.notNull())
    .addColumn('require_approval_for_deploy', 'integer', (c) => c.notNull())
    .addColumn('update_time', 'bigint', (c) => c.notNull())
    .execute();
}
