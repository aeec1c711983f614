import { describe, expect, it } from 'vitest';
import { covers } from '../src/grants.js';

describe('which grants cover a scope', () => {
  it('lets a global grant cover everything', () => {
    expect(covers('global', 'namespaces/a/models/b')).toBe(true);
    expect(covers('global', 'deployments/d')).toBe(true);
  });
  it('lets a namespace grant cover its models, not another namespace with the same prefix', () => {
    expect(covers('namespaces/a', 'namespaces/a/models/b')).toBe(true);
    expect(covers('namespaces/a', 'namespaces/a')).toBe(true);
    expect(covers('namespaces/a', 'namespaces/ab/models/b')).toBe(false);
  });
  it('keeps a model grant to that model', () => {
    expect(covers('namespaces/a/models/b', 'namespaces/a/models/b')).toBe(true);
    expect(covers('namespaces/a/models/b', 'namespaces/a/models/c')).toBe(false);
    expect(covers('namespaces/a/models/b', 'namespaces/a')).toBe(false);
  });
});
