import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuiverError } from '../../src/domain/errors.js';
import {
  BUILT_IN_ROLES,
  GLOBAL,
  Grants,
  PERMISSIONS,
  parseScope,
  type Scope,
  scopeName,
} from '../../src/domain/permissions.js';

const ns = (namespace: string): Scope => ({ kind: 'namespace', namespace });
const model = (namespace: string, m: string): Scope => ({ kind: 'model', namespace, model: m });

describe('scopes', () => {
  it('round-trips every scope name', () => {
    const id = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,10}$/);
    const scope = fc.oneof(
      fc.constant(GLOBAL),
      id.map(ns),
      fc.tuple(id, id).map(([a, b]) => model(a, b)),
    );
    fc.assert(
      fc.property(scope, (s) => {
        expect(parseScope(scopeName(s))).toEqual(s);
      }),
    );
  });

  it.each([
    '',
    'namespaces/',
    'namespaces/../x',
    'namespaces/a/datasets/b',
    'Namespaces/a',
    'namespaces/a/models',
  ])('rejects the scope %j', (raw) => expect(() => parseScope(raw)).toThrow(QuiverError));
});

describe('grants', () => {
  const grants = Grants.of([
    { scope: ns('a'), permissions: ['models.get', 'models.list'] },
    { scope: model('b', 'x'), permissions: ['models.get', 'models.list'] },
  ]);

  it('covers a scope and everything inside it, nothing beside or above it', () => {
    expect(grants.allows('models.get', model('a', 'any'))).toBe(true);
    expect(grants.allows('models.get', ns('a'))).toBe(true);
    expect(grants.allows('models.get', model('b', 'x'))).toBe(true);
    expect(grants.allows('models.get', model('b', 'y'))).toBe(false);
    expect(grants.allows('models.get', ns('b'))).toBe(false);
    expect(grants.allows('models.get', GLOBAL)).toBe(false);
    expect(grants.allows('models.delete', model('a', 'any'))).toBe(false);
  });

  it('admits lists where any grant lies inside the scope, and shows only what is covered', () => {
    expect(grants.holdsWithin('models.list', GLOBAL)).toBe(true);
    expect(grants.holdsWithin('models.list', ns('b'))).toBe(true);
    expect(grants.holdsWithin('models.list', ns('c'))).toBe(false);
    expect(grants.visible('models.list', GLOBAL)).toEqual({
      namespaces: ['a'],
      models: [{ namespace: 'b', model: 'x' }],
    });
    expect(grants.visible('models.list', ns('b'))).toEqual({
      namespaces: [],
      models: [{ namespace: 'b', model: 'x' }],
    });
    expect(grants.visible('models.list', ns('a'))).toBe('all');
  });

  it('gives admins everything, and every built-in role only known permissions', () => {
    for (const p of PERMISSIONS) expect(Grants.all().allows(p, model('any', 'thing'))).toBe(true);
    for (const role of Object.values(BUILT_IN_ROLES))
      for (const p of role.permissions) expect(PERMISSIONS).toContain(p);
    expect(BUILT_IN_ROLES.approver.permissions).toContain('versions.approve');
    expect(BUILT_IN_ROLES.contributor.permissions).not.toContain('versions.approve');
  });
});
