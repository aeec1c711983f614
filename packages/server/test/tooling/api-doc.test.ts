import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('docs/api.md, the one interface document', () => {
  it('lists every operation of the OpenAPI snapshot in its side-by-side table', () => {
    const doc = read('docs/api.md');
    const openapi = JSON.parse(read('docs/openapi/v1.json')) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const missing: string[] = [];
    for (const [path, item] of Object.entries(openapi.paths)) {
      if (!path.startsWith('/v1/')) continue; // /v2 and probes are listed in their OIP and health rows
      for (const method of Object.keys(item)) {
        const row = `\`${method.toUpperCase()} ${path}\``;
        if (!doc.includes(row)) missing.push(row);
      }
    }
    expect(missing, 'add a row to "Operations, REST and gRPC side by side"').toEqual([]);
  });

  it('lists every RPC of the inference service with its gRPC name', () => {
    const doc = read('docs/api.md');
    const proto = read('proto/inference/open_inference.proto');
    const rpcs = [...proto.matchAll(/^\s*rpc (\w+)\(/gm)].map((m) => m[1]);
    expect(rpcs.length).toBeGreaterThan(3);
    for (const rpc of rpcs) expect(doc).toContain(`inference.GRPCInferenceService/${rpc}`);
  });
});
