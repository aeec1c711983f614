import type { Kysely } from 'kysely';
import type { BulkLoader, BulkModel, BulkVersion } from '../../ports/repositories.js';
import type { SqlDialect } from './dialects/dialect.js';
import { chunk } from './rows.js';
import type { Database } from './schema.js';

/** Multi-row inserts sized to the dialect's parameter limit; the caller provides the transaction. */
export class SqlBulkLoader implements BulkLoader {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly d: SqlDialect,
  ) {}

  async insertModels(rows: readonly BulkModel[]): Promise<number[]> {
    const ids: number[] = [];
    for (const part of chunk(rows, 11, this.d.maxParameters)) {
      const inserted = await this.db
        .insertInto('models')
        .values(
          part.map((r) => ({
            uid: r.uid,
            namespace_pk: r.namespace_pk,
            model_id: r.model_id,
            description: r.description,
            labels: JSON.stringify(r.labels),
            aliases: JSON.stringify(r.aliases),
            latest_version: r.latest_version,
            create_time: r.time,
            update_time: r.time,
            revision: 1,
          })),
        )
        .returning(['id', 'uid'])
        .execute();
      // RETURNING order is not guaranteed; match rows back by their unique uid.
      const byUid = new Map(inserted.map((row) => [row.uid, row.id]));
      for (const r of part) ids.push(byUid.get(r.uid)!);
    }
    const labels = rows.flatMap((r, i) =>
      Object.entries(r.labels).map(([key, value]) => ({ model_pk: ids[i]!, key, value })),
    );
    for (const part of chunk(labels, 3, this.d.maxParameters))
      await this.db.insertInto('model_labels').values(part).execute();
    return ids;
  }

  async insertVersions(rows: readonly BulkVersion[]): Promise<void> {
    for (const part of chunk(rows, 12, this.d.maxParameters)) {
      const inserted = await this.db
        .insertInto('model_versions')
        .values(
          part.map((r) => ({
            uid: r.uid,
            model_pk: r.model_pk,
            version: r.version,
            status: r.status,
            description: r.description,
            labels: JSON.stringify(r.labels),
            metadata: JSON.stringify(r.metadata),
            source_uri: r.source_uri,
            created_by: r.created_by,
            create_time: r.time,
            update_time: r.time,
            revision: 1,
          })),
        )
        .returning(['id', 'uid'])
        .execute();
      const byUid = new Map(inserted.map((row) => [row.uid, row.id]));
      const labels = part.flatMap((r) =>
        Object.entries(r.labels).map(([key, value]) => ({ version_pk: byUid.get(r.uid)!, key, value })),
      );
      for (const p of chunk(labels, 3, this.d.maxParameters))
        await this.db.insertInto('version_labels').values(p).execute();
      const history = part.map((r) => ({
        model_pk: r.model_pk,
        version: r.version,
        kind: 'created',
        from_status: null,
        to_status: r.status,
        alias: null,
        actor: r.created_by,
        reason: 'seeded',
        time: r.time,
      }));
      for (const p of chunk(history, 9, this.d.maxParameters))
        await this.db.insertInto('version_history').values(p).execute();
      const aliases = part.flatMap((r) =>
        r.aliases.map((alias) => ({
          model_pk: r.model_pk,
          alias,
          version: r.version,
          create_time: r.time,
          update_time: r.time,
        })),
      );
      for (const p of chunk(aliases, 5, this.d.maxParameters))
        await this.db.insertInto('aliases').values(p).execute();
    }
  }
}
