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
    /** JSON object: the deployment of a `deployed` entry, the edges of a `lineage_recorded` one. */
    details: ColumnType<string | null, string | null | undefined, string | null>;
  };
  datasets: {
    id: Generated<number>;
    uid: string;
    namespace_pk: number;
    dataset_id: string;
    description: string;
    labels: string;
    latest_version: number;
    create_time: number;
    update_time: number;
    revision: number;
  };
  dataset_versions: {
    id: Generated<number>;
    uid: string;
    dataset_pk: number;
    version: number;
    uri: string;
    digest: string;
    size_bytes: number | null;
    format: string | null;
    metadata: string;
    created_by: string;
    create_time: number;
  };
  runs: {
    id: Generated<number>;
    uid: string;
    namespace_pk: number;
    run_id: string;
    kind: string;
    status: string;
    description: string;
    labels: string;
    code_commit: string;
    parameters: string;
    metrics: string;
    environment: string;
    start_time: number | null;
    end_time: number | null;
    created_by: string;
    create_time: number;
    update_time: number;
    revision: number;
  };
  lineage_datasets: { version_pk: number; role: string; dataset_version_pk: number; create_time: number };
  lineage_runs: { version_pk: number; run_pk: number; create_time: number };
  lineage_parents: { version_pk: number; parent_pk: number; create_time: number };
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
  principals: {
    id: string;
    kind: string;
    display_name: string;
    disabled: number;
    external_subject: string | null;
    create_time: number;
    update_time: number;
  };
  api_tokens: {
    id: string;
    principal_id: string;
    hash: string;
    prefix: string;
    description: string;
    create_time: number;
    expire_time: number | null;
    revoke_time: number | null;
    last_used_time: number | null;
  };
  roles: { id: string; description: string; permissions: string; create_time: number; update_time: number };
  role_bindings: {
    id: string;
    role_id: string;
    member: string;
    scope: string;
    created_by: string;
    create_time: number;
  };
  namespace_policies: {
    namespace_id: string;
    separation_of_duties: number;
    require_approval_for_deploy: number;
    update_time: number;
  };
  audit_events: AuditRecorded & { seq: number; prev_hash: string; hash: string };
  audit_head: { id: number; seq: number; hash: string };
  /**
   * PostgreSQL only: events written by transactions still running, sealed onto the chain (moved to
   * audit_events) by a deferred trigger as each transaction commits. Always empty between them.
   */
  audit_pending: AuditRecorded & {
    id: Generated<number>;
    seal_before: string;
    seal_between: string;
    seal_after: string;
  };
  audit_checkpoints: { seq: number; hash: string; time: number; key_id: string; signature: string };
  audit_keys: { key_id: string; public_key: string; create_time: number };
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

/** What an audit event records, sealed (audit_events) or waiting for its seal (audit_pending). */
interface AuditRecorded {
  time: number;
  principal: string;
  action: string;
  resource: string;
  outcome: string;
  permission: string | null;
  request_id: string;
  trace_id: string | null;
  client_address: string | null;
  change_digest: string | null;
  details: string | null;
}
