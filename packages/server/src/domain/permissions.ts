import { QuiverError } from './errors.js';
import { ID_PATTERN, isValidId } from './names.js';

/**
 * Every permission: a verb on a resource. Routes and RPCs name exactly one of these (see
 * transports/rest/permissions.ts); roles bundle them. docs/security.md lists them (generated).
 */
export const PERMISSIONS = [
  'namespaces.get',
  'namespaces.list',
  'namespaces.create',
  'namespaces.update',
  'namespaces.delete',
  'models.get',
  'models.list',
  'models.create',
  'models.update',
  'models.delete',
  'versions.get',
  'versions.list',
  'versions.create',
  'versions.update',
  'versions.transition',
  'versions.approve',
  'aliases.update',
  'artifacts.upload',
  'artifacts.download',
  'deployments.get',
  'deployments.list',
  'deployments.create',
  'deployments.update',
  'deployments.delete',
  'operations.get',
  'inference.call',
  'lineage.read',
  'lineage.write',
  'audit.read',
  'audit.checkpoint',
  'iam.manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const PERMISSION_DOCS: Record<Permission, string> = {
  'namespaces.get': 'Read a namespace.',
  'namespaces.list': 'List namespaces (only those the caller may see).',
  'namespaces.create': 'Create namespaces.',
  'namespaces.update': 'Change a namespace.',
  'namespaces.delete': 'Delete a namespace.',
  'models.get': 'Read a model.',
  'models.list': 'List models (only those the caller may see).',
  'models.create': 'Register models in a namespace.',
  'models.update': 'Change the description and labels of a model.',
  'models.delete': 'Delete a model.',
  'versions.get': 'Read versions and their history (also by batch).',
  'versions.list': 'List the versions of a model.',
  'versions.create': 'Register new versions of a model.',
  'versions.update': 'Change the description and labels of a version.',
  'versions.transition': 'Move a version along its lifecycle.',
  'versions.approve': 'Move a version to `approved` (needs `versions.transition` too).',
  'aliases.update': 'Set, move and remove aliases.',
  'artifacts.upload': 'Upload artifact bytes.',
  'artifacts.download': 'Download artifact bytes and their headers.',
  'deployments.get': 'Read deployments (also by batch).',
  'deployments.list': 'List deployments (only those the caller may see).',
  'deployments.create': 'Deploy a version of a model.',
  'deployments.update': 'Change traffic, replicas and batching of a deployment.',
  'deployments.delete': 'Undeploy.',
  'operations.get': 'Read and watch long-running operations.',
  'inference.call': 'Call inference and read the OIP metadata of deployments.',
  'lineage.read': 'Read datasets, runs, lineage graphs and timelines.',
  'lineage.write': 'Record datasets, runs and lineage edges.',
  'audit.read': 'Read, export and verify the audit log.',
  'audit.checkpoint': 'Sign a checkpoint of the audit chain on demand.',
  'iam.manage': 'Manage principals, tokens, roles, role bindings and namespace policies.',
};

const READ: readonly Permission[] = [
  'namespaces.get',
  'namespaces.list',
  'models.get',
  'models.list',
  'versions.get',
  'versions.list',
  'artifacts.download',
  'deployments.get',
  'deployments.list',
  'operations.get',
  'lineage.read',
];

/** The built-in roles: fixed in code (not in the database), so an upgrade changes them everywhere at once. */
export const BUILT_IN_ROLES = {
  viewer: { description: 'Reads everything in its scope.', permissions: READ },
  contributor: {
    description: 'Registers models and versions, moves them through the lifecycle (except approval).',
    permissions: [
      ...READ,
      'models.create',
      'models.update',
      'versions.create',
      'versions.update',
      'versions.transition',
      'aliases.update',
      'artifacts.upload',
      'lineage.write',
    ],
  },
  approver: {
    description: 'Approves (and rejects) versions.',
    permissions: [...READ, 'versions.transition', 'versions.approve'],
  },
  deployer: {
    description: 'Deploys versions and calls inference.',
    permissions: [
      ...READ,
      'deployments.create',
      'deployments.update',
      'deployments.delete',
      'inference.call',
    ],
  },
  admin: { description: 'Everything, IAM included.', permissions: PERMISSIONS },
} as const satisfies Record<string, { description: string; permissions: readonly Permission[] }>;
export type BuiltInRole = keyof typeof BUILT_IN_ROLES;

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value);
}

export function isBuiltInRole(id: string): id is BuiltInRole {
  return Object.hasOwn(BUILT_IN_ROLES, id);
}

/** Where a binding applies: everywhere, one namespace, or one model. A grant covers its scope and everything in it. */
export type Scope =
  | { kind: 'global' }
  | { kind: 'namespace'; namespace: string }
  | { kind: 'model'; namespace: string; model: string };

export const GLOBAL: Scope = { kind: 'global' };

/** `global`, `namespaces/{ns}` or `namespaces/{ns}/models/{model}`. */
export function scopeName(scope: Scope): string {
  if (scope.kind === 'global') return 'global';
  if (scope.kind === 'namespace') return `namespaces/${scope.namespace}`;
  return `namespaces/${scope.namespace}/models/${scope.model}`;
}

export function parseScope(raw: unknown, field = 'scope'): Scope {
  if (raw === 'global') return GLOBAL;
  const parts = typeof raw === 'string' ? raw.split('/') : [];
  const ids = parts.filter((_, i) => i % 2 === 1);
  if (ids.every(isValidId)) {
    if (parts.length === 2 && parts[0] === 'namespaces') return { kind: 'namespace', namespace: parts[1]! };
    if (parts.length === 4 && parts[0] === 'namespaces' && parts[2] === 'models')
      return { kind: 'model', namespace: parts[1]!, model: parts[3]! };
  }
  throw new QuiverError(
    'INVALID_ARGUMENT',
    `${field} must be 'global', 'namespaces/{namespace}' or 'namespaces/{namespace}/models/{model}' (ids match ${ID_PATTERN}); got ${JSON.stringify(String(raw).slice(0, 200))}.`,
    { details: { field } },
  );
}

/** The scopes a list may show: everything, or these namespaces and models only (filtered inside the query). */
export type Visibility =
  | 'all'
  | { namespaces: readonly string[]; models: readonly { namespace: string; model: string }[] };

/** One binding as the grants see it: the role's permissions at a scope. */
export interface Grant {
  scope: Scope;
  permissions: readonly Permission[];
}

/**
 * What a principal may do, computed once from its bindings (and its groups') and cached with
 * the token: every check is a few Set lookups, never a query.
 */
export class Grants {
  readonly #global = new Set<Permission>();
  readonly #namespaces = new Map<Permission, Set<string>>();
  /** `ns/model` keys. */
  readonly #models = new Map<Permission, Set<string>>();
  /** Namespaces holding at least one model-level grant of the permission. */
  readonly #modelNamespaces = new Map<Permission, Set<string>>();

  /** The bindings these grants were computed from (what whoami shows). */
  #list: readonly Grant[] = [];

  get list(): readonly Grant[] {
    return this.#list;
  }

  static of(grants: readonly Grant[]): Grants {
    const g = new Grants();
    g.#list = grants;
    for (const { scope, permissions } of grants) {
      for (const p of permissions) {
        if (scope.kind === 'global') g.#global.add(p);
        else if (scope.kind === 'namespace') add(g.#namespaces, p, scope.namespace);
        else {
          add(g.#models, p, `${scope.namespace}/${scope.model}`);
          add(g.#modelNamespaces, p, scope.namespace);
        }
      }
    }
    return g;
  }

  /** Every permission everywhere (admins; every caller when authentication is off). */
  static all(): Grants {
    return Grants.of([{ scope: GLOBAL, permissions: PERMISSIONS }]);
  }

  /** Whether a grant covers the scope (a grant at a scope covers everything inside it). */
  allows(p: Permission, scope: Scope): boolean {
    if (this.#global.has(p)) return true;
    if (scope.kind === 'global') return false;
    if (this.#namespaces.get(p)?.has(scope.namespace)) return true;
    return scope.kind === 'model' && this.#models.get(p)?.has(`${scope.namespace}/${scope.model}`) === true;
  }

  /** Whether the caller holds the permission on the scope or on anything inside it (lists, coarse gates). */
  holdsWithin(p: Permission, scope: Scope): boolean {
    if (this.allows(p, scope)) return true;
    if (scope.kind === 'global') return this.#namespaces.has(p) || this.#models.has(p);
    if (scope.kind === 'namespace') return this.#modelNamespaces.get(p)?.has(scope.namespace) === true;
    return false;
  }

  /** What a list of the permission under the scope may show. */
  visible(p: Permission, scope: Scope): Visibility {
    if (this.allows(p, scope)) return 'all';
    const inScope = (ns: string) => scope.kind === 'global' || scope.namespace === ns;
    const namespaces = [...(this.#namespaces.get(p) ?? [])].filter(inScope);
    const models = [...(this.#models.get(p) ?? [])]
      .map((key) => {
        const [namespace, model] = key.split('/') as [string, string];
        return { namespace, model };
      })
      .filter((m) => inScope(m.namespace) && !namespaces.includes(m.namespace));
    return { namespaces, models };
  }
}

function add(map: Map<Permission, Set<string>>, p: Permission, key: string): void {
  const set = map.get(p);
  if (set) set.add(key);
  else map.set(p, new Set([key]));
}

/** The table of docs/security.md: every permission, what it allows, and the built-in roles holding it. */
export function permissionsMarkdown(): string {
  const roles = Object.keys(BUILT_IN_ROLES) as BuiltInRole[];
  const header = `| permission | allows | ${roles.join(' | ')} |`;
  const rule = `|---|---|${roles.map(() => ':-:').join('|')}|`;
  const rows = PERMISSIONS.map((p) => {
    const marks = roles.map((r) =>
      (BUILT_IN_ROLES[r].permissions as readonly Permission[]).includes(p) ? '✓' : '',
    );
    return `| \`${p}\` | ${PERMISSION_DOCS[p]} | ${marks.join(' | ')} |`;
  });
  return [header, rule, ...rows].join('\n');
}

/** What a caller may see in a list; everything for calls without grants (the server's own). */
export function visibleTo(actor: { grants?: Grants | undefined }, p: Permission, scope: Scope): Visibility {
  return actor.grants ? actor.grants.visible(p, scope) : 'all';
}
