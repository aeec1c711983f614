import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Quiver } from '../../src/main.js';
import { type Client, client, expectError, newModel, newNamespace, newVersion } from '../support/api.js';
import { backends, testQuiver } from '../support/databases.js';
import { lineageBuilders } from '../support/lineage.js';

const BACKENDS = await backends();

describe.each(BACKENDS)('fine-grained permissions (%s)', (backend) => {
  let quiver: Quiver;
  let close: () => Promise<void>;
  let admin: Client;

  /** A principal with these role bindings (`role@scope`), and a client acting as it. */
  const principal = async (id: string, bindings: string[]): Promise<Client> => {
    expect((await admin.post('/v1/principals', { principal_id: id })).status).toBe(201);
    for (const b of bindings) {
      const [role, scope] = b.split('@');
      const res = await admin.post('/v1/roleBindings', { role, member: `principals/${id}`, scope });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    return client(quiver.rest, (await admin.post(`/v1/principals/${id}/tokens`, {})).body.secret);
  };

  beforeAll(async () => {
    ({ quiver, close } = await testQuiver(backend));
    admin = client(quiver.rest);
    await newNamespace(admin, 'a');
    await newNamespace(admin, 'b');
    for (const m of ['m1', 'm2', 'm3', 'm4', 'm5']) await newModel(admin, 'a', m);
    await newModel(admin, 'b', 'm6');
  });
  afterAll(async () => close?.());

  it('lists only the models a caller may see, filtered in the query so pages stay full', async () => {
    const carol = await principal('carol', [
      'viewer@namespaces/a/models/m2',
      'viewer@namespaces/a/models/m4',
    ]);
    const all = await carol.get('/v1/namespaces/-/models');
    expect(all.body.models.map((m: { name: string }) => m.name)).toEqual([
      'namespaces/a/models/m2',
      'namespaces/a/models/m4',
    ]);
    const first = await carol.get('/v1/namespaces/a/models?page_size=1');
    expect(first.body.models).toHaveLength(1);
    expect(first.body.next_page_token).not.toBe('');
    const second = await carol.get(
      `/v1/namespaces/a/models?page_size=1&page_token=${first.body.next_page_token}`,
    );
    expect(second.body.models.map((m: { model_id: string }) => m.model_id)).toEqual(['m4']);
    expect(second.body.next_page_token).toBe('');
    expect((await carol.get('/v1/namespaces/a/models/m2')).status).toBe(200);
    const denied = await carol.get('/v1/namespaces/a/models/m1');
    expectError(denied, 403, 'PERMISSION_DENIED', 'PERMISSION_DENIED');
    expect(denied.body.error.details).toMatchObject({
      permission: 'models.get',
      resource: 'namespaces/a/models/m1',
    });
    expectError(await carol.get('/v1/namespaces/b/models'), 403, 'PERMISSION_DENIED');
    // Namespaces: the list shows only those bound at namespace scope (none for carol).
    expect((await carol.get('/v1/namespaces')).body.namespaces).toEqual([]);
  });

  it('scopes a namespace binding to that namespace', async () => {
    const dave = await principal('dave', ['contributor@namespaces/a']);
    // whoami tells the caller what it may do where (the console shows only those actions).
    const me = await dave.get('/v1/whoami');
    expect(me.body.grants).toEqual([
      { scope: 'namespaces/a', permissions: expect.arrayContaining(['models.create', 'versions.create']) },
    ]);
    expect(me.body.grants[0].permissions).not.toContain('versions.approve');
    expect((await dave.post('/v1/namespaces/a/models', { model_id: 'new' })).status).toBe(201);
    const denied = await dave.post('/v1/namespaces/b/models', { model_id: 'new' });
    expectError(denied, 403, 'PERMISSION_DENIED');
    expect(denied.body.error.details).toMatchObject({
      permission: 'models.create',
      resource: 'namespaces/b',
    });
    expect((await dave.get('/v1/namespaces')).body.namespaces.map((n: { name: string }) => n.name)).toEqual([
      'namespaces/a',
    ]);
    expectError(await dave.post('/v1/namespaces', { namespace_id: 'c' }), 403, 'PERMISSION_DENIED');
  });

  it('keeps lineage from naming or showing what the caller may not read in other namespaces', async () => {
    const lineage = lineageBuilders(admin);
    await lineage.dataset('b', 'secret');
    const hiddenData = await lineage.datasetVersion('b', 'secret');
    const hiddenParent = await lineage.version('b', 'm6');
    const lena = await principal('lena', ['contributor@namespaces/a']);
    const mine = lineageBuilders(lena);
    // Naming another team's dataset or model, at creation or later, needs read access to it.
    const atCreate = await lena.post('/v1/namespaces/a/models/m3/versions', {
      lineage: { trained_on: [hiddenData] },
    });
    expectError(atCreate, 403, 'PERMISSION_DENIED');
    expect(atCreate.body.error.details).toMatchObject({
      permission: 'lineage.read',
      resource: 'namespaces/b',
    });
    const own = await mine.version('a', 'm3');
    const later = await mine.record(own, { derived_from: [hiddenParent] });
    expectError(later, 403, 'PERMISSION_DENIED');
    expect(later.body.error.details).toMatchObject({
      permission: 'lineage.read',
      resource: 'namespaces/b/models/m6',
    });
    // What an admin recorded across namespaces shows to lena without the nodes she may not read.
    expect(
      (await lineage.record(own, { derived_from: [hiddenParent], trained_on: [hiddenData] })).status,
    ).toBe(200);
    const graph = await lena.get(`/v1/${own}/lineage?direction=upstream&depth=2`);
    expect(graph.status, JSON.stringify(graph.body)).toBe(200);
    expect(graph.body.nodes.map((n: { name: string }) => n.name)).toEqual([own]);
    expect(graph.body.edges).toEqual([]);
    expect(graph.body.hidden).toBe(2);
    const full = await admin.get(`/v1/${own}/lineage?direction=upstream&depth=2`);
    expect(full.body.hidden).toBe(0);
    expect(full.body.nodes).toHaveLength(3);
  });

  it('checks every name of a batch read', async () => {
    const erin = await principal('erin', ['viewer@namespaces/a']);
    await newVersion(admin, 'a', 'm1');
    await newVersion(admin, 'b', 'm6');
    const ok = await erin.post('/v1/versions:batchGet', { names: ['namespaces/a/models/m1/versions/1'] });
    expect(ok.status).toBe(200);
    const denied = await erin.post('/v1/versions:batchGet', {
      names: ['namespaces/a/models/m1/versions/1', 'namespaces/b/models/m6/versions/1'],
    });
    expectError(denied, 403, 'PERMISSION_DENIED');
    expect(denied.body.error.details.resource).toBe('namespaces/b/models/m6');
  });

  it('separates duties: the creator of a version may not approve it, another approver may', async () => {
    const policy = await admin.patch('/v1/namespaces/a/policy', { separation_of_duties: true });
    expect(policy.body).toMatchObject({ name: 'namespaces/a/policy', separation_of_duties: true });
    const maker = await principal('maker', ['contributor@namespaces/a', 'approver@namespaces/a']);
    const checker = await principal('checker', ['approver@namespaces/a']);
    const contributor = await principal('frank', ['contributor@namespaces/a']);
    const v = await newVersion(maker, 'a', 'm3');
    const url = `/v1/${v.name}:transition`;
    expect((await maker.post(url, { status: 'validated' })).status).toBe(200);
    const own = await maker.post(url, { status: 'approved' });
    expectError(own, 403, 'PERMISSION_DENIED', 'SEPARATION_OF_DUTIES');
    const noApprove = await contributor.post(url, { status: 'approved' });
    expectError(noApprove, 403, 'PERMISSION_DENIED', 'PERMISSION_DENIED');
    expect(noApprove.body.error.details.permission).toBe('versions.approve');
    const approved = await checker.post(url, { status: 'approved' });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.status).toBe('approved');
  });

  it('refuses to deploy a version that is not approved when the namespace requires approval', async () => {
    await admin.patch('/v1/namespaces/b/policy', { require_approval_for_deploy: true });
    const refused = await admin.post('/v1/deployments', {
      deployment_id: 'unapproved',
      model: 'namespaces/b/models/m6',
      version: '1',
    });
    expectError(refused, 400, 'FAILED_PRECONDITION', 'APPROVAL_REQUIRED');
    expect((await admin.get('/v1/namespaces/a/policy')).body.require_approval_for_deploy).toBe(false);
  });

  it('manages roles and bindings with clear errors', async () => {
    expectError(
      await admin.patch('/v1/roles/viewer', { description: 'x' }),
      400,
      'FAILED_PRECONDITION',
      'BUILT_IN_ROLE',
    );
    expectError(
      await admin.post('/v1/roles', { role_id: 'bad', permissions: ['models.fly'] }),
      400,
      'INVALID_ARGUMENT',
    );
    expect(
      (await admin.post('/v1/roles', { role_id: 'caller', permissions: ['inference.call'] })).status,
    ).toBe(201);
    const binding = await admin.post('/v1/roleBindings', {
      role: 'roles/caller',
      member: 'groups/apps',
      scope: 'namespaces/a',
    });
    expect(binding.body).toMatchObject({
      role: 'roles/caller',
      member: 'groups/apps',
      scope: 'namespaces/a',
      created_by: 'admin',
    });
    expectError(
      await admin.post('/v1/roleBindings', { role: 'caller', member: 'groups/apps', scope: 'namespaces/a' }),
      409,
      'ALREADY_EXISTS',
      'BINDING_EXISTS',
    );
    expectError(await admin.delete('/v1/roles/caller'), 400, 'FAILED_PRECONDITION', 'ROLE_IN_USE');
    expectError(
      await admin.post('/v1/roleBindings', {
        role: 'caller',
        member: 'groups/apps',
        scope: 'namespaces/../etc',
      }),
      400,
      'INVALID_ARGUMENT',
    );
    expectError(
      await admin.post('/v1/roleBindings', { role: 'nope', member: 'groups/apps' }),
      404,
      'NOT_FOUND',
      'ROLE_NOT_FOUND',
    );
    expect((await admin.delete(`/v1/${binding.body.name}`)).status).toBe(204);
    expect((await admin.delete('/v1/roles/caller')).status).toBe(204);
    const roles = (await admin.get('/v1/roles')).body.roles.map((r: { role_id: string }) => r.role_id);
    expect(roles).toEqual(expect.arrayContaining(['viewer', 'contributor', 'approver', 'deployer', 'admin']));
  });
});
