import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  openApiVocabulary,
  protoVocabulary,
  spellingConflicts,
  type Vocabulary,
} from '../../../../scripts/lib/vocabulary.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const protoFiles = readdirSync(join(root, 'proto'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.proto'))
  .map((f) => join(root, 'proto', f));

function loaded() {
  const openapi = openApiVocabulary(JSON.parse(readFileSync(join(root, 'docs/openapi/v1.json'), 'utf8')));
  const proto = protoVocabulary(new protobuf.Root().loadSync(protoFiles, { keepCase: true }));
  return { openapi, proto };
}

const vocab = (fields: string[], types: string[] = []): Vocabulary => ({
  fields: new Set(fields),
  types: new Set(types),
});

describe('one vocabulary across REST and gRPC', () => {
  it('spells every resource and field name that OpenAPI and the protos share the same way', () => {
    const { openapi, proto } = loaded();
    expect(spellingConflicts(openapi, proto)).toEqual([]);
  });

  it('reads the shared names from both documents (the check is not vacuous)', () => {
    const { openapi, proto } = loaded();
    const shared = [...openapi.fields].filter((f) => proto.fields.has(f));
    // The OIP REST twin and the gRPC service carry the same tensors under the same names.
    expect(shared).toEqual(
      expect.arrayContaining(['model_name', 'model_version', 'datatype', 'shape', 'inputs']),
    );
    expect(proto.types.has('ModelInferRequest')).toBe(true);
    expect(openapi.types.has('Deployment')).toBe(true);
  });

  it('names a field and a resource spelled in two ways', () => {
    expect(
      spellingConflicts(
        vocab(['model_name', 'labels'], ['Deployment']),
        vocab(['modelName'], ['DEPLOYMENT']),
      ),
    ).toEqual([
      "fields: OpenAPI 'model_name' ≠ proto 'modelName'",
      "types: OpenAPI 'Deployment' ≠ proto 'DEPLOYMENT'",
    ]);
  });

  it('lets OpenLineage keep its own camelCase', () => {
    expect(spellingConflicts(vocab(['runId']), vocab(['run_id']))).toEqual([]);
  });
});
