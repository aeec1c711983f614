import { readFileSync } from 'node:fs';
import type {
  AuditEvent,
  AuditOutcome,
  Datatype,
  Deployment,
  DeploymentStatus,
  HistoryEntry,
  HistoryKind,
  LineageDirection,
  LineageGraph,
  OperationKind,
  OperationMetadata,
  Run,
  RunKind,
  RunStatus,
  Signature,
  TimelineEntry,
  TimelineKind,
  VersionStatus,
} from '@quiver/sdk';
import { describe, expect, it } from 'vitest';
import { SDK_TYPES_FILE, sdkTypesSource, typeOf } from '../../../scripts/lib/sdk-types.js';
import type { Schemas } from '../src/openapi.generated.js';

const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

/** Compiles only when A and B are the same type: `npx tsc -p tsconfig.test.json` is the assertion. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <T extends true>(value: T) => value;

describe('SDK types from the contract', () => {
  it('openapi.generated.ts is what `npm run gen` makes of the committed OpenAPI snapshot', () => {
    const doc = JSON.parse(read('docs/openapi/v1.json'));
    expect(read(SDK_TYPES_FILE), `${SDK_TYPES_FILE} is stale: run \`npm run gen\``).toBe(sdkTypesSource(doc));
  });

  it('every closed set the SDK lists at run time is the contract’s union', () => {
    // Each line fails to compile when the runtime list and the OpenAPI enum drift apart.
    const checks = [
      same<Same<VersionStatus, Schemas['Status']>>(true),
      same<Same<HistoryKind, HistoryEntry['kind']>>(true),
      same<Same<Datatype, Signature['inputs'][number]['datatype']>>(true),
      same<Same<DeploymentStatus, Deployment['status']>>(true),
      same<Same<OperationKind, OperationMetadata['kind']>>(true),
      same<Same<AuditOutcome, AuditEvent['outcome']>>(true),
      same<Same<RunKind, Run['kind']>>(true),
      same<Same<RunStatus, Run['status']>>(true),
      same<Same<LineageDirection, LineageGraph['direction']>>(true),
      same<Same<TimelineKind, TimelineEntry['kind']>>(true),
    ];
    expect(checks.every(Boolean)).toBe(true);
  });

  it('emits optional fields as `?: T | undefined`, nullable unions and open objects', () => {
    const schema = {
      type: 'object',
      required: ['a', 'n'],
      additionalProperties: true,
      properties: {
        a: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'integer' }] } },
        n: { anyOf: [{ $ref: '#/components/schemas/Model' }, { type: 'null' }] },
        o: { type: 'string', enum: ['x', 'y'] },
      },
    };
    expect(typeOf(schema, 0)).toBe(
      [
        '{',
        '  a: (string | number)[];',
        '  n: Schemas["Model"] | null;',
        '  o?: ("x" | "y") | undefined;',
        '  [key: string]: unknown;',
        '}',
      ].join('\n'),
    );
  });
});
