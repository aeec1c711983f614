import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlStore } from '../../src/adapters/sql/store.js';
import { QuiverError } from '../../src/domain/errors.js';
import { backends, testStore } from '../support/databases.js';

const BACKENDS = await backends();
const T = 1_700_000_000_000;

const principal = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'user' as const,
  display_name: id,
  disabled: false,
  external_subject: null,
  create_time: T,
  update_time: T,
  ...extra,
});

describe.each(BACKENDS)('IAM repositories (%s)', (backend) => {
  let store: SqlStore;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close } = await testStore(backend));
    await store.write(async (r) => {
      await r.principals.create(principal('alice', { external_subject: 'https://idp|alice' }));
      await r.principals.create(principal('bot', { kind: 'service_account' }));
    });
  });
  afterAll(async () => close?.());

  it('creates, reads, lists and updates principals; ids and subjects are unique', async () => {
    const err = await store.write((r) => r.principals.create(principal('alice'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QuiverError);
    expect((err as QuiverError).reason).toBe('PRINCIPAL_EXISTS');
    await store.read(async (r) => {
      expect(await r.principals.get('bot')).toMatchObject({ kind: 'service_account', disabled: false });
      expect((await r.principals.bySubject('https://idp|alice'))?.id).toBe('alice');
      expect((await r.principals.list(null, 10)).map((p) => p.id)).toEqual(['alice', 'bot']);
      expect((await r.principals.list('alice', 10)).map((p) => p.id)).toEqual(['bot']);
    });
    expect(await store.write((r) => r.principals.update('bot', { disabled: true }, T + 1))).toBe(true);
    expect(await store.read((r) => r.principals.get('bot'))).toMatchObject({
      disabled: true,
      update_time: T + 1,
    });
    expect(await store.write((r) => r.principals.update('ghost', { disabled: true }, T))).toBe(false);
  });

  it('finds a token and its principal by hash in one lookup, revokes once and records use', async () => {
    const token = {
      id: 't1',
      principal_id: 'alice',
      hash: 'h'.repeat(64),
      prefix: 'qvr_abcdefgh',
      description: '',
      create_time: T,
      expire_time: T + 1000,
      revoke_time: null,
      last_used_time: null,
    };
    await store.write((r) => r.tokens.create(token));
    const found = await store.read((r) => r.tokens.byHash('h'.repeat(64)));
    expect(found?.token).toMatchObject({ id: 't1', expire_time: T + 1000, revoke_time: null });
    expect(found?.principal.id).toBe('alice');
    expect(found && 'hash' in found.token).toBe(false);
    expect(await store.read((r) => r.tokens.byHash('x'.repeat(64)))).toBeUndefined();
    expect(await store.write((r) => r.tokens.revoke('t1', T + 5))).toBe(true);
    expect(await store.write((r) => r.tokens.revoke('t1', T + 6))).toBe(false);
    await store.write((r) => r.tokens.touch('t1', T + 7));
    expect(await store.read((r) => r.tokens.get('t1'))).toMatchObject({
      revoke_time: T + 5,
      last_used_time: T + 7,
    });
    expect((await store.read((r) => r.tokens.list('alice', null, 10))).map((t) => t.id)).toEqual(['t1']);
  });

  it('keeps custom roles with their permissions', async () => {
    await store.write((r) =>
      r.roles.create({
        id: 'caller',
        description: 'd',
        permissions: ['inference.call'],
        create_time: T,
        update_time: T,
      }),
    );
    const dup = await store
      .write((r) =>
        r.roles.create({ id: 'caller', description: '', permissions: [], create_time: T, update_time: T }),
      )
      .catch((e: unknown) => e);
    expect((dup as QuiverError).reason).toBe('ROLE_EXISTS');
    await store.write((r) =>
      r.roles.update('caller', { permissions: ['inference.call', 'models.get'] }, T + 1),
    );
    expect((await store.read((r) => r.roles.getMany(['caller', 'nope'])))[0]?.permissions).toEqual([
      'inference.call',
      'models.get',
    ]);
    expect(await store.write((r) => r.roles.delete('caller'))).toBe(true);
    expect(await store.read((r) => r.roles.list())).toEqual([]);
  });

  it('binds roles to members at scopes, uniquely, and finds them by member', async () => {
    const binding = (id: string, member: string, scope: string) => ({
      id,
      role_id: 'viewer',
      member,
      scope,
      created_by: 'admin',
      create_time: T,
    });
    await store.write(async (r) => {
      await r.bindings.create(binding('b1', 'principals/alice', 'namespaces/a'));
      await r.bindings.create(binding('b2', 'groups/ml', 'global'));
      await r.bindings.create(binding('b3', 'principals/bot', 'namespaces/a/models/m'));
    });
    const dup = await store
      .write((r) => r.bindings.create(binding('b4', 'groups/ml', 'global')))
      .catch((e: unknown) => e);
    expect((dup as QuiverError).reason).toBe('BINDING_EXISTS');
    const mine = await store.read((r) => r.bindings.forMembers(['principals/alice', 'groups/ml']));
    expect(mine.map((b) => b.id).sort()).toEqual(['b1', 'b2']);
    expect(
      (await store.read((r) => r.bindings.list({ scope: 'namespaces/a' }, null, 10))).map((b) => b.id),
    ).toEqual(['b1']);
    expect((await store.read((r) => r.bindings.list({}, 'b1', 1))).map((b) => b.id)).toEqual(['b2']);
    expect(await store.read((r) => r.bindings.countForRole('viewer'))).toBe(3);
    expect(await store.write((r) => r.bindings.delete('b3'))).toBe(true);
    expect(await store.write((r) => r.bindings.delete('b3'))).toBe(false);
  });

  it('stores one policy per namespace and replaces it', async () => {
    expect(await store.read((r) => r.policies.get('a'))).toBeUndefined();
    const policy = {
      namespace_id: 'a',
      separation_of_duties: true,
      require_approval_for_deploy: false,
      update_time: T,
    };
    await store.write((r) => r.policies.put(policy));
    await store.write((r) =>
      r.policies.put({ ...policy, require_approval_for_deploy: true, update_time: T + 1 }),
    );
    expect(await store.read((r) => r.policies.get('a'))).toEqual({
      ...policy,
      require_approval_for_deploy: true,
      update_time: T + 1,
    });
  });
});
