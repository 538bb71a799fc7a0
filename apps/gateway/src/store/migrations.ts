/**
 * The one migration path for both stores. Each migration is a list of
 * statements written once; the few type spellings that differ between SQLite
 * and PostgreSQL are placeholders filled per dialect. Applied versions are
 * kept in `llm_schema_migrations`; a migration runs in one transaction.
 */
export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

const SPELLINGS: Record<Dialect, Record<string, string>> = {
  sqlite: { '{{serial_pk}}': 'INTEGER PRIMARY KEY AUTOINCREMENT' },
  postgres: { '{{serial_pk}}': 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY' },
};

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'routing records, attempts, api keys, tenant budgets',
    statements: [
      `CREATE TABLE llm_routing_records (
        id {{serial_pk}},
        request_id TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        tenant TEXT,
        key_id TEXT,
        feature TEXT,
        session_id TEXT,
        traffic_class TEXT NOT NULL,
        criticality TEXT,
        stream SMALLINT NOT NULL,
        outcome TEXT NOT NULL,
        error_category TEXT,
        error_message TEXT,
        primary_model TEXT,
        primary_provider TEXT,
        served_model TEXT,
        served_provider TEXT,
        upstream_model TEXT,
        fallback SMALLINT NOT NULL,
        upstream_calls INTEGER NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        usage_estimated SMALLINT NOT NULL,
        cost_usd DOUBLE PRECISION NOT NULL,
        latency_ms DOUBLE PRECISION NOT NULL,
        first_chunk_ms DOUBLE PRECISION,
        budget_tier TEXT,
        budget_share DOUBLE PRECISION,
        budget_action TEXT,
        detail TEXT NOT NULL
      )`,
      'CREATE INDEX llm_routing_records_started_at ON llm_routing_records (started_at)',
      'CREATE INDEX llm_routing_records_tenant_started_at ON llm_routing_records (tenant, started_at)',
      'CREATE INDEX llm_routing_records_key_started_at ON llm_routing_records (key_id, started_at)',
      'CREATE INDEX llm_routing_records_request_id ON llm_routing_records (request_id)',
      `CREATE TABLE llm_routing_attempts (
        id {{serial_pk}},
        request_id TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        tenant TEXT,
        traffic_class TEXT NOT NULL,
        seq INTEGER NOT NULL,
        model TEXT NOT NULL,
        provider TEXT NOT NULL,
        outcome TEXT NOT NULL,
        category TEXT,
        status INTEGER,
        code TEXT,
        latency_ms DOUBLE PRECISION NOT NULL,
        waited_ms DOUBLE PRECISION
      )`,
      'CREATE INDEX llm_routing_attempts_started_at ON llm_routing_attempts (started_at)',
      'CREATE INDEX llm_routing_attempts_request_id ON llm_routing_attempts (request_id)',
      `CREATE TABLE llm_api_keys (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        name TEXT,
        key_hash TEXT NOT NULL UNIQUE,
        allowed_classes TEXT,
        default_class TEXT,
        allowed_models TEXT,
        budget_usd DOUBLE PRECISION,
        budget_period TEXT,
        expires_at BIGINT,
        revoked_at BIGINT,
        created_at BIGINT NOT NULL
      )`,
      'CREATE INDEX llm_api_keys_tenant ON llm_api_keys (tenant)',
      `CREATE TABLE llm_tenant_budgets (
        tenant TEXT PRIMARY KEY,
        setting TEXT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    name: 'dead-lettered routing records',
    statements: [
      // A record the store refused, as JSON text (escaped, so always storable), with the reason.
      `CREATE TABLE llm_dead_records (
        id {{serial_pk}},
        request_id TEXT NOT NULL,
        failed_at BIGINT NOT NULL,
        reason TEXT NOT NULL,
        row_json TEXT NOT NULL
      )`,
      'CREATE INDEX llm_dead_records_failed_at ON llm_dead_records (failed_at)',
    ],
  },
  {
    version: 3,
    name: 'a unique id per routing record',
    statements: [
      // Records replayed from the journal after a crash may already be stored: a second copy is skipped on this id.
      // Rows from before this migration have none (NULLs never conflict).
      'ALTER TABLE llm_routing_records ADD COLUMN record_id TEXT',
      'CREATE UNIQUE INDEX llm_routing_records_record_id ON llm_routing_records (record_id)',
    ],
  },
  {
    version: 4,
    name: 'the work queue and deferred calls',
    statements: [
      // One row per job; state pending (due at run_at), active (leased to a worker until lease_until), done or failed.
      `CREATE TABLE llm_jobs (
        queue TEXT NOT NULL,
        id TEXT NOT NULL,
        data TEXT NOT NULL,
        state TEXT NOT NULL,
        run_at BIGINT NOT NULL,
        attempt INTEGER NOT NULL,
        lease_token TEXT,
        lease_until BIGINT,
        reason TEXT,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (queue, id)
      )`,
      'CREATE INDEX llm_jobs_due ON llm_jobs (queue, state, run_at)',
      // Calls deferred to the queue: the call as JSON, readable by every instance.
      `CREATE TABLE llm_deferred_calls (
        id TEXT PRIMARY KEY,
        tenant TEXT,
        status TEXT NOT NULL,
        call TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 5,
    name: 'batch files, batches and their items',
    statements: [
      // Uploaded inputs and built outputs (OpenAI's Files API), per tenant; a deleted file keeps its row without its content.
      `CREATE TABLE llm_files (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        purpose TEXT NOT NULL,
        filename TEXT NOT NULL,
        bytes BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        content TEXT,
        deleted_at BIGINT
      )`,
      'CREATE INDEX llm_files_tenant ON llm_files (tenant, created_at)',
      `CREATE TABLE llm_batches (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        key_id TEXT,
        endpoint TEXT NOT NULL,
        input_file_id TEXT NOT NULL,
        completion_window TEXT NOT NULL,
        traffic_class TEXT NOT NULL,
        status TEXT NOT NULL,
        metadata TEXT,
        errors TEXT,
        total INTEGER NOT NULL,
        output_file_id TEXT,
        error_file_id TEXT,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        in_progress_at BIGINT,
        finalizing_at BIGINT,
        completed_at BIGINT,
        failed_at BIGINT,
        expired_at BIGINT,
        cancelling_at BIGINT,
        cancelled_at BIGINT,
        paused_reason TEXT,
        paused_message TEXT,
        paused_at BIGINT,
        resume_at BIGINT
      )`,
      'CREATE INDEX llm_batches_tenant ON llm_batches (tenant, created_at)',
      'CREATE INDEX llm_batches_status ON llm_batches (status)',
      // One row per request line: its result is written once (the first finish wins), whatever runs it twice.
      `CREATE TABLE llm_batch_items (
        batch_id TEXT NOT NULL,
        custom_id TEXT NOT NULL,
        line INTEGER NOT NULL,
        body TEXT NOT NULL,
        status TEXT NOT NULL,
        result TEXT,
        finished_at BIGINT,
        PRIMARY KEY (batch_id, custom_id)
      )`,
      'CREATE INDEX llm_batch_items_status ON llm_batch_items (batch_id, status)',
    ],
  },
  {
    version: 6,
    name: 'policy history',
    statements: [
      // One row per policy version, in order: the shared source of truth every instance converges on.
      `CREATE TABLE llm_policy_history (
        seq INTEGER PRIMARY KEY,
        hash TEXT NOT NULL,
        source TEXT NOT NULL,
        actor TEXT,
        applied_at BIGINT NOT NULL,
        changes TEXT NOT NULL,
        format TEXT NOT NULL,
        document TEXT NOT NULL
      )`,
    ],
  },
  {
    version: 7,
    name: 'stored responses of the Responses API',
    statements: [
      // One row per stored response; a conversation is the chain of previous_response_id links.
      `CREATE TABLE llm_responses (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        key_id TEXT NOT NULL,
        previous_response_id TEXT,
        created_at BIGINT NOT NULL,
        input_items TEXT NOT NULL,
        response TEXT NOT NULL
      )`,
      'CREATE INDEX llm_responses_owner_created_at ON llm_responses (tenant, key_id, created_at)',
    ],
  },
  {
    version: 8,
    name: 'session lookups',
    // GET /v1/sessions/:id and /v1/usage?groupBy=session read a tenant's records by session.
    statements: ['CREATE INDEX llm_routing_records_tenant_session ON llm_routing_records (tenant, session_id, started_at)'],
  },
  {
    version: 9,
    name: 'console sessions',
    statements: [
      // The console's sessions, shared by every instance on the store: the SHA-256 of the cookie's id, never the id.
      `CREATE TABLE llm_console_sessions (
        id_hash TEXT PRIMARY KEY,
        csrf_token TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        last_seen_at BIGINT NOT NULL
      )`,
      'CREATE INDEX llm_console_sessions_last_seen_at ON llm_console_sessions (last_seen_at)',
    ],
  },
  {
    version: 12,
    name: 'deferred calls listed newest first',
    // GET /admin/deferred pages across tenants by (created_at, id).
    statements: ['CREATE INDEX llm_deferred_calls_created ON llm_deferred_calls (created_at, id)'],
  },
];

export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS llm_schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

/** A statement in the dialect's spelling. */
export function spell(statement: string, dialect: Dialect): string {
  let out = statement;
  for (const [placeholder, text] of Object.entries(SPELLINGS[dialect])) out = out.split(placeholder).join(text);
  return out;
}
