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
    artifact_digest: ColumnType<string | null, string | null | undefined, string | null>;
    artifact_format: ColumnType<string | null, string | null | undefined, string | null>;
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
  artifacts: {
    digest: string;
    size_bytes: number;
    media_type: string;
    format: string | null;
    signature: string | null;
    create_time: number;
  };
  deployments: {
    id: Generated<number>;
    uid: string;
    deployment_id: string;
    model_pk: number;
    traffic: string;
    resolved: string;
    replicas: number;
    batching: string | null;
    status: string;
    status_message: string;
    generation: number;
    observed_generation: number;
    create_time: number;
    update_time: number;
    revision: number;
  };
  operations: {
    id: string;
    kind: string;
    target: string;
    done: number;
    progress: number;
    message: string;
    error: string | null;
    result: string | null;
    create_time: number;
    update_time: number;
  };
  jobs: {
    id: Generated<number>;
    kind: string;
    payload: string;
    status: string;
    attempts: number;
    max_attempts: number;
    run_after: number;
    lease_owner: string | null;
    lease_expires: number | null;
    last_error: string;
    trace_context: string;
    create_time: number;
    update_time: number;
  };
}
