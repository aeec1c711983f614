import { GLOBAL, type Permission, type Scope } from '../../domain/permissions.js';
import type { ScopeResolver } from '../../services/iam/scopes.js';

export interface RpcAccess {
  permission: Permission;
  /** The resource the call is on, from its request message. */
  scope: (request: { name?: unknown }, scopes: ScopeResolver) => Scope | Promise<Scope>;
  /** A grant anywhere is enough (server-wide metadata). */
  within?: true;
}

/** An unknown deployment needs the global grant: the answer must not tell whether it exists. */
const served = async (request: { name?: unknown }, scopes: ScopeResolver): Promise<Scope> =>
  (typeof request.name === 'string' && (await scopes.deployment(request.name))) || GLOBAL;

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
