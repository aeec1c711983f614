import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { SqlDialect } from '../dialects/dialect.js';
import * as m001 from './001-registry.js';
import * as m002 from './002-serving.js';
import * as m003 from './003-audit.js';
import * as m004 from './004-iam.js';
import * as m005 from './005-lineage.js';
import * as m006 from './006-version-status-index.js';
import * as m007 from './007-audit-seal-at-commit.js';

type Step = { up(db: Kysely<unknown>, d: SqlDialect): Promise<void> };

/** Ordered, append-only: never edit a released migration, add the next one. */
const STEPS: Record<string, Step> = {
  '001-registry': m001,
  '002-serving': m002,
  '003-audit': m003,
  '004-iam': m004,
  '005-lineage': m005,
  '006-version-status-index': m006,
  '007-audit-seal-at-commit': m007,
};

/** Hands Kysely's Migrator the migrations, each bound to the dialect (the one place DDL may differ). */
export class QuiverMigrations implements MigrationProvider {
  constructor(private readonly dialect: SqlDialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, step] of Object.entries(STEPS)) {
      out[name] = { up: (db) => step.up(db, this.dialect) };
    }
    return out;
  }
}
