import { describe, expect, it } from 'vitest';
import { breakingChanges } from '../../../../scripts/lib/openapi-compat.js';

const model = {
  type: 'object',
  required: ['name', 'labels'],
  properties: { name: { type: 'string' }, labels: { type: 'object' }, latest_version: { type: 'integer' } },
};
const body = {
  type: 'object',
  additionalProperties: false,
  required: ['model_id'],
  properties: {
    model_id: { type: 'string' },
    description: { type: 'string' },
    status: { anyOf: [{ const: 'a' }, { const: 'b' }] },
  },
};

function doc(over: { model?: any; body?: any; params?: any[]; statuses?: string[]; path?: string } = {}) {
  const responses = Object.fromEntries(
    (over.statuses ?? ['201']).map((s) => [
      s,
      { content: { 'application/json': { schema: { $ref: '#/components/schemas/Model' } } } },
    ]),
  );
  return {
    paths: {
      [over.path ?? '/v1/models']: {
        post: {
          parameters: over.params ?? [
            { in: 'query', name: 'page_size', required: false, schema: { type: 'integer' } },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: over.body ?? body } } },
          responses,
        },
      },
    },
    components: { schemas: { Model: over.model ?? model } },
  };
}

describe('OpenAPI breaking-change check', () => {
  it('accepts an identical document and additive changes', () => {
    expect(breakingChanges(doc(), doc())).toEqual([]);
    const added = structuredClone(model) as any;
    added.properties.extra = { type: 'string' };
    const optionalInput = structuredClone(body) as any;
    optionalInput.properties.new_optional = { type: 'string' };
    expect(breakingChanges(doc(), doc({ model: added, body: optionalInput }))).toEqual([]);
  });

  it('rejects a removed operation', () => {
    expect(breakingChanges(doc(), doc({ path: '/v1/other' }))).toEqual([
      'POST /v1/models: operation removed',
    ]);
  });

  it('rejects a removed or retyped response field', () => {
    const removed = structuredClone(model) as any;
    delete removed.properties.latest_version;
    expect(breakingChanges(doc(), doc({ model: removed }))).toEqual([
      "POST /v1/models 201: field 'latest_version' removed",
    ]);
    const retyped = structuredClone(model) as any;
    retyped.properties.name = { type: 'integer' };
    expect(breakingChanges(doc(), doc({ model: retyped }))).toEqual([
      'POST /v1/models 201.name: type changed string → integer',
    ]);
  });

  it('rejects a new required input, a dropped input field and a dropped enum value', () => {
    const required = structuredClone(body) as any;
    required.required.push('description');
    expect(breakingChanges(doc(), doc({ body: required }))).toEqual([
      "POST /v1/models body: new required field 'description'",
    ]);
    const dropped = structuredClone(body) as any;
    delete dropped.properties.description;
    expect(breakingChanges(doc(), doc({ body: dropped }))).toEqual([
      "POST /v1/models body: field 'description' no longer accepted",
    ]);
    const narrowed = structuredClone(body) as any;
    narrowed.properties.status = { anyOf: [{ const: 'a' }] };
    expect(breakingChanges(doc(), doc({ body: narrowed }))).toEqual([
      'POST /v1/models body.status: value "b" no longer accepted',
    ]);
  });

  it('rejects a new required parameter and a removed success status', () => {
    const params = [
      { in: 'query', name: 'page_size', required: false, schema: { type: 'integer' } },
      { in: 'query', name: 'tenant', required: true, schema: { type: 'string' } },
    ];
    expect(breakingChanges(doc(), doc({ params }))).toEqual([
      "POST /v1/models: new required query parameter 'tenant'",
    ]);
    expect(breakingChanges(doc(), doc({ statuses: ['200'] }))).toEqual([
      'POST /v1/models: success response 201 removed',
    ]);
  });
});
