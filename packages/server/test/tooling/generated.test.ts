import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  currentOpenApi,
  errorsMarkdown,
  GENERATED,
  operationsMarkdown,
  withPermissionTable,
} from '../../../../scripts/lib/generated.js';
import { breakingChanges } from '../../../../scripts/lib/openapi-compat.js';
import { REASONS } from '../../src/domain/errors.js';

const root = new URL('../../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const STALE = 'is stale: run `npm run gen` and commit the result';

describe('committed generated files', () => {
  it('the OpenAPI snapshot has no breaking change against the running API', async () => {
    const snapshot = JSON.parse(read(GENERATED.openapi));
    expect(breakingChanges(snapshot, await currentOpenApi())).toEqual([]);
  });

  it('the OpenAPI snapshot is up to date', async () => {
    expect(JSON.parse(read(GENERATED.openapi)), `${GENERATED.openapi} ${STALE}`).toEqual(
      await currentOpenApi(),
    );
  });

  it('docs/errors.md lists every reason in the code, and only those', () => {
    const doc = read(GENERATED.errors);
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \| `[A-Z_]+` \| \d+ \|/gm)].map((m) => m[1]);
    expect(new Set(documented)).toEqual(new Set(Object.keys(REASONS)));
    expect(doc, `${GENERATED.errors} ${STALE}`).toBe(errorsMarkdown());
  });

  it('docs/operations.md documents every setting', () => {
    expect(read(GENERATED.operations), `${GENERATED.operations} ${STALE}`).toBe(operationsMarkdown());
  });

  it('docs/security.md carries the permission table of the code', () => {
    const doc = read(GENERATED.security);
    expect(doc, `${GENERATED.security} ${STALE}`).toBe(withPermissionTable(doc));
  });
});
