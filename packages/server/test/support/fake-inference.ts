import { QuiverError } from '../../src/domain/errors.js';
import { checkInputs, checkRequestedOutputs } from '../../src/domain/tensor-check.js';
import type { Datatype, Signature, Tensor, TensorData } from '../../src/domain/tensors.js';
import type { CallContext } from '../../src/services/context.js';
import type {
  Inference,
  InferRequest,
  InferResult,
  ModelMetadata,
} from '../../src/services/inference/types.js';

/**
 * An honest stand-in for the inference service, for transport tests only: deployments with
 * signatures, the same errors and the same input checks as the real service. An `add`
 * deployment computes z = x + y; an `identity` deployment returns each input as the output
 * declared at the same position.
 */
export interface FakeDeployment {
  name: string;
  kind: 'add' | 'identity';
  signature: Signature;
  ready: boolean;
  versions: string[];
}

const signature = (inputs: Signature['inputs'], outputs: Signature['outputs']): Signature => ({
  format: 'onnx',
  inputs,
  outputs,
  opset: 17,
  ir_version: 8,
  producer: 'fake',
});

export function addModel(name: string, datatype: Datatype, shape: number[] = [-1]): FakeDeployment {
  return {
    name,
    kind: 'add',
    signature: signature(
      [
        { name: 'x', datatype, shape },
        { name: 'y', datatype, shape },
      ],
      [{ name: 'z', datatype, shape }],
    ),
    ready: true,
    versions: ['1'],
  };
}

export function identityModel(name: string, datatype: Datatype, shape: number[] = [-1]): FakeDeployment {
  return {
    name,
    kind: 'identity',
    signature: signature([{ name: 'in', datatype, shape }], [{ name: 'out', datatype, shape }]),
    ready: true,
    versions: ['1'],
  };
}

export class FakeInference implements Inference {
  isLive = true;
  isReady = true;
  readonly deployments = new Map<string, FakeDeployment>();
  /** The contexts the fake was called with, newest last (to check what the transport passed). */
  readonly contexts: CallContext[] = [];

  constructor(deployments: FakeDeployment[] = []) {
    for (const d of deployments) this.deployments.set(d.name, d);
  }

  live(): boolean {
    return this.isLive;
  }

  async ready(): Promise<boolean> {
    return this.isReady;
  }

  async modelReady(ctx: CallContext, name: string, version: string): Promise<boolean> {
    this.contexts.push(ctx);
    const { deployment } = this.find(name, version);
    return deployment.ready;
  }

  async modelMetadata(ctx: CallContext, name: string, version: string): Promise<ModelMetadata> {
    this.contexts.push(ctx);
    const { deployment } = this.servable(name, version);
    return {
      name: deployment.name,
      versions: deployment.versions,
      platform: 'onnxruntime_onnx',
      signature: deployment.signature,
    };
  }

  async infer(ctx: CallContext, request: InferRequest): Promise<InferResult> {
    this.contexts.push(ctx);
    const { deployment, version } = this.servable(request.model_name, request.model_version);
    const { signature: sig } = deployment;
    checkInputs(sig, request.inputs);
    checkRequestedOutputs(sig, request.outputs);
    const byName = new Map(request.inputs.map((t) => [t.name, t]));
    let outputs: Tensor[];
    if (deployment.kind === 'add') {
      const x = byName.get('x')!;
      const y = byName.get('y')!;
      if (x.shape.join() !== y.shape.join()) {
        throw new QuiverError('INVALID_TENSOR', `Inputs 'x' and 'y' must have the same shape.`, {
          details: { tensor: 'y', expected: x.shape, got: y.shape },
        });
      }
      outputs = [{ name: 'z', datatype: x.datatype, shape: x.shape, data: add(x.data, y.data) }];
    } else {
      outputs = sig.outputs.map((spec, i) => {
        const input = byName.get(sig.inputs[i]!.name)!;
        return { name: spec.name, datatype: spec.datatype, shape: input.shape, data: input.data };
      });
    }
    const wanted = request.outputs;
    return {
      model_name: deployment.name,
      model_version: version,
      id: request.id,
      outputs: wanted.length === 0 ? outputs : outputs.filter((o) => wanted.includes(o.name)),
    };
  }

  serverMetadata() {
    return { name: 'quiver', version: '0.0.0-test', extensions: [] };
  }

  private find(name: string, version: string): { deployment: FakeDeployment; version: string } {
    const deployment = this.deployments.get(name);
    if (deployment === undefined) {
      throw new QuiverError('DEPLOYMENT_NOT_FOUND', `No deployment named '${name}'.`, {
        details: { deployment: name },
      });
    }
    const chosen = version === '' ? deployment.versions.at(-1)! : version;
    if (!deployment.versions.includes(chosen)) {
      throw new QuiverError(
        'VERSION_NOT_FOUND',
        `Deployment '${name}' does not serve version '${version}'.`,
        {
          details: { deployment: name, version },
        },
      );
    }
    return { deployment, version: chosen };
  }

  private servable(name: string, version: string) {
    const found = this.find(name, version);
    if (!found.deployment.ready) {
      throw new QuiverError('MODEL_NOT_READY', `Deployment '${name}' is not ready to serve.`, {
        details: { deployment: name },
      });
    }
    return found;
  }
}

function add(a: TensorData, b: TensorData): TensorData {
  if (Array.isArray(a)) throw new Error('add takes numeric tensors');
  const out = new (a.constructor as new (n: number) => any)(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a as any)[i] + (b as any)[i];
  return out;
}
