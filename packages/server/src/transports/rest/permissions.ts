import { GLOBAL, type Permission, type Scope } from '../../domain/permissions.js';
import type { ScopeResolver } from '../../services/iam/scopes.js';

/** What a route's request offers to find its scope: the path parameters (the body comes later). */
export interface RouteParams {
  [name: string]: string | undefined;
}

/**
 * The resource a call is on, found from its path (deployments and operations resolve to their
 * model). A list means "any of these": an artifact may be read in the scope of any model using it.
 */
export type ScopeOf = (
  params: RouteParams,
  scopes: ScopeResolver,
) => Scope | readonly Scope[] | Promise<Scope | readonly Scope[]>;

/**
 * A further check once the body is parsed and validated: `permission` on every scope the body
 * names. A caller holding it globally is not asked for the scopes at all.
 */
export interface BodyCheck {
  permission: Permission;
  scopes: (body: unknown, params: RouteParams, scopes: ScopeResolver) => Promise<readonly Scope[]>;
}

export interface RouteAccess {
  /** The API method, as the audit log names it. */
  action: string;
  permission: Permission;
  scope: ScopeOf;
  /** Lists: a grant anywhere inside the scope admits the call, which then shows only what it covers. */
  within?: true;
  /** Scopes named in the body (checked after validation; the gate above needs a grant somewhere first). */
  body?: BodyCheck;
}

const global: ScopeOf = () => GLOBAL;
const namespace: ScopeOf = (p) => ({ kind: 'namespace', namespace: p.namespace! });
/** `-` lists models across every namespace (AIP-159). */
const namespaceOrAll: ScopeOf = (p) => (p.namespace === '-' ? GLOBAL : namespace(p, undefined as never));
const model: ScopeOf = (p) => ({ kind: 'model', namespace: p.namespace!, model: p.model! });
/** An unknown deployment needs the global grant: a 403 must not tell whether it exists. */
const deployment: ScopeOf = async (p, s) => (await s.deployment(p.deployment!)) ?? GLOBAL;
const operation: ScopeOf = async (p, s) => (await s.operation(p.operation!)) ?? GLOBAL;
/** Bytes are shared by content: readable in the scope of any model whose versions use them. */
const artifact: ScopeOf = async (p, s) => [GLOBAL, ...(await s.artifact(p.digest!))];
const served: ScopeOf = async (p, s) => (await s.deployment(p.name!)) ?? GLOBAL;

const rule = (action: string, permission: Permission, scope: ScopeOf, extra: Partial<RouteAccess> = {}) => ({
  action,
  permission,
  scope,
  ...extra,
});

/** `namespaces/a/models/b/versions/3` (or `@alias`) → its model's scope; undefined for what does not parse. */
function versionNameScope(name: unknown): Scope | undefined {
  const m =
    typeof name === 'string' ? /^namespaces\/([^/]+)\/models\/([^/]+)\/versions\/[^/]+$/.exec(name) : null;
  return m ? { kind: 'model', namespace: m[1]!, model: m[2]! } : undefined;
}

const names = (body: unknown): unknown[] => {
  const list = (body as { names?: unknown } | null)?.names;
  return Array.isArray(list) ? list : [];
};

/** A batch read of versions: `versions.get` on the model of every name in the body. */
const batchOfVersions = (action: string) =>
  rule(action, 'versions.get', global, {
    within: true,
    body: {
      permission: 'versions.get',
      scopes: async (body) =>
        names(body)
          .map(versionNameScope)
          .filter((s): s is Scope => s !== undefined),
    },
  });

const V = '/v1/namespaces/:namespace/models/:model/versions';
const VERSION = `${V}/:version(^[^:/]+)`;
const DEPLOYMENT = '/v1/deployments/:deployment(^[^:/]+)';
const OPERATION = '/v1/operations/:operation(^[^:/]+)';

/**
 * Every route and the permission it needs, on which scope. A route missing here stops the
 * server at startup (STYLE.md "fail fast"), and the route-coverage test proves each entry.
 */
export const ROUTE_ACCESS: Record<string, RouteAccess> = {
  'POST /v1/namespaces': rule('CreateNamespace', 'namespaces.create', global),
  'GET /v1/namespaces': rule('ListNamespaces', 'namespaces.list', global, { within: true }),
  'GET /v1/namespaces/:namespace': rule('GetNamespace', 'namespaces.get', namespace),
  'GET /v1/namespaces/:namespace/policy': rule('GetNamespacePolicy', 'iam.manage', namespace),
  'PATCH /v1/namespaces/:namespace/policy': rule('UpdateNamespacePolicy', 'iam.manage', namespace),
  'POST /v1/namespaces/:namespace/models': rule('CreateModel', 'models.create', namespace),
  'GET /v1/namespaces/:namespace/models': rule('ListModels', 'models.list', namespaceOrAll, { within: true }),
  'GET /v1/namespaces/:namespace/models/:model': rule('GetModel', 'models.get', model),
  'PATCH /v1/namespaces/:namespace/models/:model': rule('UpdateModel', 'models.update', model),
  'DELETE /v1/namespaces/:namespace/models/:model': rule('DeleteModel', 'models.delete', model),
  [`POST ${V}`]: rule('CreateVersion', 'versions.create', model),
  [`GET ${V}`]: rule('ListVersions', 'versions.list', model),
  [`GET ${VERSION}`]: rule('GetVersion', 'versions.get', model),
  [`PATCH ${VERSION}`]: rule('UpdateVersion', 'versions.update', model),
  [`POST ${VERSION}::transition`]: rule('TransitionVersion', 'versions.transition', model, {
    // Approval is its own permission: a transition to `approved` needs both.
    body: {
      permission: 'versions.approve',
      scopes: async (body, params) =>
        (body as { status?: unknown } | null)?.status === 'approved'
          ? [model(params, undefined as never) as Scope]
          : [],
    },
  }),
  [`GET ${VERSION}/history`]: rule('GetVersionHistory', 'versions.get', model),
  'POST /v1/versions::batchGet': batchOfVersions('BatchGetVersions'),
  'POST /v1/versions::batchGetStatus': batchOfVersions('BatchGetVersionStatus'),
  'PUT /v1/namespaces/:namespace/models/:model/aliases/:alias': rule('SetAlias', 'aliases.update', model),
  'DELETE /v1/namespaces/:namespace/models/:model/aliases/:alias': rule(
    'UnsetAlias',
    'aliases.update',
    model,
  ),
  'POST /v1/artifacts': rule('UploadArtifact', 'artifacts.upload', global, { within: true }),
  'GET /v1/artifacts/:digest': rule('DownloadArtifact', 'artifacts.download', artifact),
  'HEAD /v1/artifacts/:digest': rule('GetArtifact', 'artifacts.download', artifact),
  'POST /v1/deployments': rule('CreateDeployment', 'deployments.create', global, {
    within: true,
    body: {
      permission: 'deployments.create',
      scopes: async (body) => {
        const scope = versionNameScope(`${(body as { model?: unknown })?.model}/versions/x`);
        return scope ? [scope] : [];
      },
    },
  }),
  'GET /v1/deployments': rule('ListDeployments', 'deployments.list', global, { within: true }),
  [`GET ${DEPLOYMENT}`]: rule('GetDeployment', 'deployments.get', deployment),
  [`PATCH ${DEPLOYMENT}`]: rule('UpdateDeployment', 'deployments.update', deployment),
  [`DELETE ${DEPLOYMENT}`]: rule('DeleteDeployment', 'deployments.delete', deployment),
  'POST /v1/deployments::batchGet': rule('BatchGetDeployments', 'deployments.get', global, {
    within: true,
    body: {
      permission: 'deployments.get',
      scopes: async (body, _params, scopes) => {
        const ids = names(body).map((n) => String(n).replace(/^deployments\//, ''));
        const found = await scopes.deployments(ids);
        // Unknown names come back as `missing`; deployment names are global, so that tells nothing new.
        return [...found.values()].filter((s): s is Scope => s !== undefined);
      },
    },
  }),
  [`GET ${OPERATION}`]: rule('GetOperation', 'operations.get', operation),
  [`GET ${OPERATION}::watch`]: rule('WatchOperation', 'operations.get', operation),
  'GET /v1/audit/events': rule('ListAuditEvents', 'audit.read', global),
  'GET /v1/audit/events::export': rule('ExportAuditEvents', 'audit.read', global),
  'GET /v1/audit::verify': rule('VerifyAuditLog', 'audit.read', global),
  'GET /v1/audit/public-key': rule('GetAuditPublicKey', 'audit.read', global),
  'GET /v1/audit/checkpoints': rule('ListAuditCheckpoints', 'audit.read', global),
  'POST /v1/audit::checkpoint': rule('CreateAuditCheckpoint', 'audit.checkpoint', global),
  'POST /v1/principals': rule('CreatePrincipal', 'iam.manage', global),
  'GET /v1/principals': rule('ListPrincipals', 'iam.manage', global),
  'GET /v1/principals/:principal': rule('GetPrincipal', 'iam.manage', global),
  'PATCH /v1/principals/:principal': rule('UpdatePrincipal', 'iam.manage', global),
  'POST /v1/principals/:principal/tokens': rule('CreateToken', 'iam.manage', global),
  'GET /v1/principals/:principal/tokens': rule('ListTokens', 'iam.manage', global),
  'POST /v1/principals/:principal/tokens/:token(^[^:/]+)::revoke': rule('RevokeToken', 'iam.manage', global),
  'GET /v1/roles': rule('ListRoles', 'iam.manage', global),
  'POST /v1/roles': rule('CreateRole', 'iam.manage', global),
  'GET /v1/roles/:role': rule('GetRole', 'iam.manage', global),
  'PATCH /v1/roles/:role': rule('UpdateRole', 'iam.manage', global),
  'DELETE /v1/roles/:role': rule('DeleteRole', 'iam.manage', global),
  'GET /v1/roleBindings': rule('ListRoleBindings', 'iam.manage', global),
  'POST /v1/roleBindings': rule('CreateRoleBinding', 'iam.manage', global),
  'DELETE /v1/roleBindings/:binding': rule('DeleteRoleBinding', 'iam.manage', global),
  // Lineage (issue #4): datasets and runs live in a namespace, lineage reads and writes on the model.
  'POST /v1/namespaces/:namespace/datasets': rule('CreateDataset', 'lineage.write', namespace),
  'GET /v1/namespaces/:namespace/datasets': rule('ListDatasets', 'lineage.read', namespace),
  'GET /v1/namespaces/:namespace/datasets/:dataset': rule('GetDataset', 'lineage.read', namespace),
  'POST /v1/namespaces/:namespace/datasets/:dataset/versions': rule(
    'CreateDatasetVersion',
    'lineage.write',
    namespace,
  ),
  'GET /v1/namespaces/:namespace/datasets/:dataset/versions': rule(
    'ListDatasetVersions',
    'lineage.read',
    namespace,
  ),
  'GET /v1/namespaces/:namespace/datasets/:dataset/versions/:version': rule(
    'GetDatasetVersion',
    'lineage.read',
    namespace,
  ),
  'GET /v1/namespaces/:namespace/datasets/:dataset/versions/:version/lineage': rule(
    'GetDatasetLineage',
    'lineage.read',
    namespace,
  ),
  'POST /v1/namespaces/:namespace/runs': rule('CreateRun', 'lineage.write', namespace),
  'GET /v1/namespaces/:namespace/runs': rule('ListRuns', 'lineage.read', namespace),
  'GET /v1/namespaces/:namespace/runs/:run': rule('GetRun', 'lineage.read', namespace),
  'PATCH /v1/namespaces/:namespace/runs/:run': rule('UpdateRun', 'lineage.write', namespace),
  [`POST ${VERSION}::recordLineage`]: rule('RecordLineage', 'lineage.write', model),
  [`GET ${VERSION}/lineage`]: rule('GetLineage', 'lineage.read', model),
  [`GET ${VERSION}/lineage::openlineage`]: rule('ExportOpenLineage', 'lineage.read', model),
  [`GET ${VERSION}/timeline`]: rule('GetVersionTimeline', 'versions.get', model),
  'GET /v2': rule('ServerMetadata', 'inference.call', global, { within: true }),
  'GET /v2/models/:name': rule('ModelMetadata', 'inference.call', served),
  'GET /v2/models/:name/versions/:version': rule('ModelMetadata', 'inference.call', served),
  'GET /v2/models/:name/ready': rule('ModelReady', 'inference.call', served),
  'GET /v2/models/:name/versions/:version/ready': rule('ModelReady', 'inference.call', served),
  'POST /v2/models/:name/infer': rule('ModelInfer', 'inference.call', served),
  'POST /v2/models/:name/versions/:version/infer': rule('ModelInfer', 'inference.call', served),
};

/**
 * Routes any caller may use without a token: probes, metrics, the API description, the home
 * page, and how to sign in (read by the console before it has a token).
 */
export const PUBLIC_ROUTES: readonly string[] = [
  'GET /',
  'GET /v1/auth/config',
  'GET /livez',
  'GET /readyz',
  'GET /metrics',
  'GET /openapi.json',
  'GET /v2/health/live',
  'GET /v2/health/ready',
];

/** Routes any authenticated caller may use, whatever its permissions. */
export const AUTHENTICATED_ROUTES: readonly string[] = ['GET /v1/whoami'];

/**
 * The API reference UI (its pages, scripts and its copy of the OpenAPI document) and the web
 * console's assets are public: static content, whose API calls carry the caller's token.
 */
export const PUBLIC_PREFIXES: readonly string[] = ['/docs', '/ui'];

export type RouteClass =
  | { kind: 'public' }
  | { kind: 'authenticated' }
  | { kind: 'permission'; access: RouteAccess };

/** How a route (`METHOD /template`) is guarded; undefined when the table forgot it. HEAD follows GET. */
export function classify(method: string, url: string): RouteClass | undefined {
  const key = `${method} ${url}`;
  const access = ROUTE_ACCESS[key] ?? (method === 'HEAD' ? ROUTE_ACCESS[`GET ${url}`] : undefined);
  if (access) return { kind: 'permission', access };
  const get = method === 'HEAD' ? `GET ${url}` : key;
  if (PUBLIC_ROUTES.includes(get) || PUBLIC_PREFIXES.some((p) => url === p || url.startsWith(`${p}/`)))
    return { kind: 'public' };
  if (AUTHENTICATED_ROUTES.includes(get)) return { kind: 'authenticated' };
  return undefined;
}
