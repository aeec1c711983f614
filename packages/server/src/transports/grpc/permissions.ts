import { GLOBAL, type Permission, type Scope } from '../../domain/permissions.js';
import type { ScopeResolver } from '../../services/iam/scopes.js';

/** The fields that name a deployment: `name` (ModelReady, ModelMetadata) or `model_name` (ModelInfer). */
export interface NamedRequest {
  name?: unknown;
  model_name?: unknown;
}

/** The deployment a request names, whichever field the method uses ('' when none). */
export function deploymentOf(request: NamedRequest): string {
  const named = request.name ?? request.model_name;
  return typeof named === 'string' ? named : '';
}

export interface RpcAccess {
  permission: Permission;
  /** The resource the call is on, from its request message. */
  scope: (request: NamedRequest, scopes: ScopeResolver) => Scope | Promise<Scope>;
  /** A grant anywhere is enough (server-wide metadata). */
  within?: true;
}

/** An unknown deployment needs the global grant: the answer must not tell whether it exists. */
const served = async (request: NamedRequest, scopes: ScopeResolver): Promise<Scope> => {
  const deployment = deploymentOf(request);
  return (deployment !== '' && (await scopes.deployment(deployment))) || GLOBAL;
};

/**
 * Every gRPC method and what it needs; `public` methods (liveness, readiness, health) need no
 * token. A method missing here stops the server at startup, like a REST route.
 */
export const RPC_ACCESS: Record<string, RpcAccess | 'public'> = {
  'inference.GRPCInferenceService/ServerLive': 'public',
  'inference.GRPCInferenceService/ServerReady': 'public',
  'inference.GRPCInferenceService/ServerMetadata': {
    permission: 'inference.call',
    scope: () => GLOBAL,
    within: true,
  },
  'inference.GRPCInferenceService/ModelReady': { permission: 'inference.call', scope: served },
  'inference.GRPCInferenceService/ModelMetadata': { permission: 'inference.call', scope: served },
  'inference.GRPCInferenceService/ModelInfer': { permission: 'inference.call', scope: served },
  'grpc.health.v1.Health/Check': 'public',
  'grpc.health.v1.Health/Watch': 'public',
};
