import type { ColumnType, Generated } from 'kysely';

/** Table shapes as Kysely sees them. Times are epoch milliseconds (BIGINT on both databases). */
export interface Database {
  quiver_settings: { key: string; value: string };
  namespaces: {
    id: Generated<number>;
    uid: string;
    namespace_id: string;
    description: string;
    create_time: number;
    update_time: number;
    revision: number;
  };
  models: {
    id: Generated<number>;
    uid: string;
    namespace_pk: number;
    model_id: string;
    description: string;
    labels: string;
    aliases: ColumnType<string, string | undefined, string>;
    latest_version: number;
    create_time: number;
    update_time: number;
    revision: number;
  };
  model_labels: { model_pk: number; key: string; value: string };
  model_versions: {
    id: Generated<number>;
    uid: string;
    model_pk: number;
    version: number;
    status: string;
    description: string;
    labels: string;
    metadata: string;
    source_uri: string;
    created_by: string;
    create_time: number;
    update_time: number;
    revision: number;
  };
  version_labels: { version_pk: number; key: string; value: string };
  aliases: { model_pk: number; alias: string; version: number; create_time: number; update_time: number };
  version_history: {
    id: Generated<number>;
    model_pk: number;
    version: number;
    kind: string;
    from_status: string | null;
    to_status: string | null;
    alias: string | null;
    actor: string;
    reason: string;
    time: number;
  };
  idempotency_keys: {
    scope: string;
    key: string;
    fingerprint: string;
    response: string;
    create_time: number;
  };
}
