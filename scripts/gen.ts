/**
 * Regenerates the committed files that are derived from code: the OpenAPI snapshot (and the
 * SDK's types generated from it), docs/errors.md and docs/operations.md. Refuses to overwrite the OpenAPI snapshot with
 * a breaking change unless --allow-breaking is given (see CONTRIBUTING.md).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import {
  currentOpenApi,
  errorsMarkdown,
  GENERATED,
  operationsMarkdown,
  withPermissionTable,
} from './lib/generated.js';
import { breakingChanges } from './lib/openapi-compat.js';
import { SDK_TYPES_FILE, sdkTypesSource } from './lib/sdk-types.js';

const allowBreaking = process.argv.includes('--allow-breaking');
const doc = await currentOpenApi();
if (existsSync(GENERATED.openapi)) {
  const before = JSON.parse(readFileSync(GENERATED.openapi, 'utf8'));
  const problems = breakingChanges(before, doc);
  if (problems.length && !allowBreaking) {
    console.error(
      `Refusing to update ${GENERATED.openapi}: breaking changes to the v1 API:\n  - ${problems.join('\n  - ')}`,
    );
    console.error(
      'Make the change additive, or follow CONTRIBUTING.md for an intentional, versioned change.',
    );
    process.exit(1);
  }
}
writeFileSync(GENERATED.openapi, `${JSON.stringify(doc, null, 2)}\n`);
writeFileSync(SDK_TYPES_FILE, sdkTypesSource(doc));
writeFileSync(GENERATED.errors, errorsMarkdown());
writeFileSync(GENERATED.operations, operationsMarkdown());
writeFileSync(GENERATED.security, withPermissionTable(readFileSync(GENERATED.security, 'utf8')));
console.log(`wrote ${[...Object.values(GENERATED), SDK_TYPES_FILE].join(', ')}`);
