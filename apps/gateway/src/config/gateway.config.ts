import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { CallbackTargets } from '@llm-router/nestjs';
import { z } from 'zod';

/**
 * The gateway's settings. `main.ts` reads them from the environment through
 * `@nestjs/config` (see `gatewayConfigFromEnv`); `createGateway()` callers
 * (tests, benchmarks) give them directly. Every variable is documented in the README.
 */
export interface GatewayConfig {
  host: string;
  port: number;
  /** Absent when the router options come from the caller (tests). */
  policyFile?: string;
  /** Start the simulated provider inside the gateway process (the quick start). */
  embeddedSimulator: boolean;
  simulatorPort: number;
  bodyLimitBytes: number;
  /** Deepest nesting of a JSON body (400 json_too_deep beyond). */
  jsonMaxDepth: number;
  /** Values in a JSON body, all levels counted (400 json_too_large beyond). */
  jsonMaxValues: number;
  /**
   * A client must send its request headers within this time (408 after).
   * Node's clock starts when the gateway accepts the connection and starts
   * again at each request's first byte; it is read every second.
   */
  headersTimeoutMs: number;
  /** ... and its whole request, body included, within this time (408 after): slow bodies cannot hold a connection. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** Connections beyond this many are closed on arrival. */
  maxConnections: number;
  /**
   * Connections the kernel holds for the gateway until it accepts them (the
   * listen backlog). Past it, the kernel drops new connections' handshakes
   * and later resets them: the client sees ECONNRESET, not an answer. Linux
   * caps it at net.core.somaxconn (4096 by default since 5.4).
   */
  listenBacklog: number;
  /** On shutdown, calls in flight get this long to finish; then they end with an explicit error and every connection closes. */
  shutdownGraceMs: number;
  /** `api-keys`: every /v1/* call needs a key. `disabled`: open, tenant from `x-tenant-id` (trusted networks, benchmarks). */
  auth: 'api-keys' | 'disabled';
  /** The admin credential; absent = admin API disabled. */
  adminKey?: string;
  /** True when the admin key was generated at start-up for the dev quick start. */
  adminKeyGenerated: boolean;
  /** When set, `GET /metrics` needs `Authorization: Bearer <token>`; absent = open (an internal network's scraper). */
  metricsToken?: string;
  store: StoreConfig;
  /**
   * A Redis URL: tenant budgets are reserved and settled in Redis, shared by
   * every instance pointed at it. Absent: an in-process ledger (one instance).
   */
  redisUrl?: string;
  /** Prefix of every key the gateway writes in that Redis: fleets (or tests) sharing one Redis stay apart. */
  redisKeyPrefix: string;
  /**
   * A Redis command unanswered after this many ms fails (a reservation then follows its class's outage rule): the only
   * way a Redis that hangs without closing the connection is noticed. Default 1000; raise it where Redis, or this
   * process, is slow (a profiler, an overloaded host). Absent: the store client's default.
   */
  redisCommandTimeoutMs?: number;
  /** Routing records are written in batches every this many ms ... */
  recordFlushMs: number;
  /** ... or as soon as this many are waiting. */
  recordBatchSize: number;
  /**
   * `auto`: every record is journaled before its answer's last bytes (a Redis
   * stream with `redisUrl`, else files in `recordJournalDir`) and recovered
   * after a crash. `off`: records wait in memory until written (kill -9 loses them).
   */
  recordJournal: 'auto' | 'off';
  /** The journal's files (the fallback while Redis is away); default next to the SQLite file, none for an in-memory store. */
  recordJournalDir?: string;
  /** How often keys are re-read from the store (picks up revocations made by other instances). 0 = never. */
  keysRefreshMs: number;
  /** One JSON line per routed request on stdout. */
  requestLog: boolean;
  /** Where request log lines go instead of stdout (tests). */
  requestLogSink?: (chunk: string) => void;
  /** Mount the sample workflows (/support/chat, /batch/summaries). */
  sampleEndpoints: boolean;
  /** Reload the policy file when it changes on disk. */
  policyWatch: boolean;
  /** Every this many ms each instance checks the store's policy history (the backstop for a missed Redis notice). 0 = never. */
  policySyncMs: number;
  /** How long a worker's hold on a queued job lasts unrenewed: a killed instance's jobs run again this long after (default 30 s). */
  queueLeaseMs: number;
  /**
   * Callback URLs (`x-llm-callback-url`) may reach these hosts, addresses and
   * CIDRs although they are loopback, private, link-local ...; `*` turns the
   * check off. Empty (the default): only public addresses.
   */
  callbackAllow: readonly string[];
  /**
   * The proxies in front of the gateway (addresses, CIDRs, or `loopback`,
   * `linklocal`, `uniquelocal`) whose `X-Forwarded-For` is believed: a
   * request's client address is then the nearest one not listed. It is the
   * address wrong admin credentials are counted against. Empty (the
   * default): the connection's own address, headers ignored.
   */
  trustProxy?: readonly string[];
  /**
   * `false` (LLM_RECORDS=false): routing records are neither journaled nor
   * stored, so usage, reports and budget restores see no calls: only for
   * measuring what records cost (`npm run bench`). Absent: on.
   */
  records?: boolean;
  /** `false` (LLM_METRICS=false): routing records no longer feed the Prometheus series; for measuring what they cost. Absent: on. */
  metrics?: boolean;
  /** Largest file `POST /v1/files` takes (413 beyond, before anything is stored). */
  fileLimitBytes: number;
  /** How often paused, cancelling and expiring batches are looked at (resume, expiry, finalization). */
  batchWatchMs: number;
}

export type StoreConfig =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string; schema: string; poolSize: number };

/**
 * What one client may cost the gateway. A 4 MiB body is about 60-120 ms of
 * parsing and serializing; 20,000 values cover 128 tools with rich schemas and
 * a long conversation; 64 levels are far past any real JSON schema. A client
 * has 10 s for its headers and 30 s for its whole request (0 turns a timeout
 * off); idle keep-alive connections close after 65 s, past the usual load
 * balancers' 60 s. 4,096 connections may wait to be accepted, not Node's 511:
 * 5,000 streams opened at 1,000 a second, a busy gateway fell behind
 * accepting, the 511 filled, and the kernel reset the connections it had
 * dropped; the header timeout never fired there, so it stays 10 s against
 * clients that send their headers slowly (slowloris). On shutdown, calls in flight have 20 s, inside
 * Kubernetes' default 30 s grace with room for the final writes.
 */
export const HTTP_DEFAULTS = {
  bodyLimitBytes: 4 * 1024 * 1024,
  jsonMaxDepth: 64,
  jsonMaxValues: 20_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  maxConnections: 10_000,
  listenBacklog: 4096,
  shutdownGraceMs: 20_000,
} as const satisfies Partial<GatewayConfig>;

/** Batch input files up to 50 MiB (held in memory while validated); paused batches looked at every second. */
export const BATCH_DEFAULTS = { fileLimitBytes: 50 * 1024 * 1024, batchWatchMs: 1_000 } as const satisfies Partial<GatewayConfig>;

/** A killed instance's queued jobs (deferred calls, batch items) run again 30 s after its last lease renewal. */
export const QUEUE_DEFAULTS = { queueLeaseMs: 30_000 } as const satisfies Partial<GatewayConfig>;

export const DEFAULT_POLICY_FILE = 'config/policy.yaml';
export const DEFAULT_SQLITE_PATH = 'data/gateway.sqlite';
/** The record journal's files with PostgreSQL (with SQLite: `<LLM_SQLITE_PATH>.records/`). */
export const DEFAULT_JOURNAL_DIR = 'data/records-journal';

/** Where the record journal keeps its files, if anywhere. */
export function recordJournalDir(config: Pick<GatewayConfig, 'recordJournalDir' | 'store'>): string | undefined {
  if (config.recordJournalDir !== undefined) return config.recordJournalDir;
  return config.store.kind === 'sqlite' && config.store.path !== ':memory:' ? `${config.store.path}.records` : undefined;
}

const int = (name: string, fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a non-negative integer, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const flag = (name: string, fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      if (/^(1|true|on|yes)$/i.test(v)) return true;
      if (/^(0|false|off|no)$/i.test(v)) return false;
      ctx.addIssue({ code: 'custom', message: `${name} must be true or false, got "${v}"` });
      return z.NEVER;
    });

/** The environment variables the gateway reads, validated once at start-up. */
export const gatewayEnvSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int('PORT', 8080),
  LLM_POLICY_FILE: z.string().min(1).optional(),
  LLM_SIMULATOR: z.enum(['embedded', 'off']).optional(),
  SIM_PORT: int('SIM_PORT', 4010),
  LLM_BODY_LIMIT_BYTES: int('LLM_BODY_LIMIT_BYTES', HTTP_DEFAULTS.bodyLimitBytes),
  LLM_JSON_MAX_DEPTH: int('LLM_JSON_MAX_DEPTH', HTTP_DEFAULTS.jsonMaxDepth),
  LLM_JSON_MAX_VALUES: int('LLM_JSON_MAX_VALUES', HTTP_DEFAULTS.jsonMaxValues),
  LLM_HEADERS_TIMEOUT_MS: int('LLM_HEADERS_TIMEOUT_MS', HTTP_DEFAULTS.headersTimeoutMs),
  LLM_REQUEST_TIMEOUT_MS: int('LLM_REQUEST_TIMEOUT_MS', HTTP_DEFAULTS.requestTimeoutMs),
  LLM_KEEP_ALIVE_TIMEOUT_MS: int('LLM_KEEP_ALIVE_TIMEOUT_MS', HTTP_DEFAULTS.keepAliveTimeoutMs),
  LLM_MAX_CONNECTIONS: int('LLM_MAX_CONNECTIONS', HTTP_DEFAULTS.maxConnections),
  LLM_LISTEN_BACKLOG: int('LLM_LISTEN_BACKLOG', HTTP_DEFAULTS.listenBacklog),
  LLM_SHUTDOWN_GRACE_MS: int('LLM_SHUTDOWN_GRACE_MS', HTTP_DEFAULTS.shutdownGraceMs),
  LLM_AUTH: z.enum(['api-keys', 'disabled']).default('api-keys'),
  LLM_ADMIN_KEY: z.string().optional(),
  LLM_METRICS_TOKEN: z.string().optional(),
  DATABASE_URL: z.string().optional(),
  LLM_PG_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL identifier').default('public'),
  LLM_PG_POOL_SIZE: int('LLM_PG_POOL_SIZE', 5),
  LLM_REDIS_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || /^rediss?:\/\//.test(v), 'a redis:// or rediss:// URL'),
  LLM_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'letters, digits and : _ . - only, at most 64').default('llmr:'),
  // At least 1: ioredis reads 0 as no timeout, and a Redis that hangs would then hold every call.
  // At most Node's largest timer: above it Node fires the timer after 1 ms, and every command would time out.
  LLM_REDIS_COMMAND_TIMEOUT_MS: int('LLM_REDIS_COMMAND_TIMEOUT_MS', 1_000)
    .refine((n) => n >= 1, 'LLM_REDIS_COMMAND_TIMEOUT_MS must be at least 1 (0 would wait for a hung Redis for ever)')
    .refine((n) => n <= 2 ** 31 - 1, "LLM_REDIS_COMMAND_TIMEOUT_MS must be at most 2147483647 (Node's largest timer)"),
  LLM_SQLITE_PATH: z.string().min(1).default(DEFAULT_SQLITE_PATH),
  // Short enough that a routing row is written before it outlives two young-generation collections: held 500 ms,
  // the rows were promoted to the old generation under load and died there (about 7 MB more resident memory).
  LLM_RECORD_FLUSH_MS: int('LLM_RECORD_FLUSH_MS', 50),
  LLM_RECORD_BATCH_SIZE: int('LLM_RECORD_BATCH_SIZE', 500),
  LLM_RECORD_JOURNAL: z.enum(['auto', 'off']).default('auto'),
  LLM_RECORD_JOURNAL_DIR: z.string().optional(),
  LLM_KEYS_REFRESH_MS: int('LLM_KEYS_REFRESH_MS', 30_000),
  LLM_REQUEST_LOG: flag('LLM_REQUEST_LOG', true),
  LLM_SAMPLE_ENDPOINTS: flag('LLM_SAMPLE_ENDPOINTS', true),
  LLM_POLICY_WATCH: flag('LLM_POLICY_WATCH', true),
  LLM_POLICY_SYNC_MS: int('LLM_POLICY_SYNC_MS', 5_000),
  LLM_QUEUE_LEASE_MS: int('LLM_QUEUE_LEASE_MS', QUEUE_DEFAULTS.queueLeaseMs),
  LLM_CALLBACK_ALLOW: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const allow = (v ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
      try {
        new CallbackTargets(allow);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `${(err as Error).message} (a comma-separated list; * turns the check off)` });
        return z.NEVER;
      }
      return allow;
    }),
  LLM_TRUST_PROXY: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const trusted = (v ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
      const wrong = trusted.find((entry) => !isProxyEntry(entry));
      if (wrong === undefined) return trusted;
      ctx.addIssue({ code: 'custom', message: `"${wrong}" is not an address, a CIDR, loopback, linklocal or uniquelocal (a comma-separated list)` });
      return z.NEVER;
    }),
  LLM_RECORDS: flag('LLM_RECORDS', true),
  LLM_METRICS: flag('LLM_METRICS', true),
  LLM_FILE_LIMIT_BYTES: int('LLM_FILE_LIMIT_BYTES', BATCH_DEFAULTS.fileLimitBytes),
  LLM_BATCH_WATCH_MS: int('LLM_BATCH_WATCH_MS', BATCH_DEFAULTS.batchWatchMs),
});

/** Admin keys (and metrics tokens) shorter than this are refused at start-up. */
export const MIN_ADMIN_KEY_LENGTH = 16;

/**
 * Settings from environment variables. Throws one error listing every bad variable.
 * With no `LLM_ADMIN_KEY` in the dev quick start (embedded simulator), a
 * random admin key is generated and printed once by main.ts: dev only.
 */
export function gatewayConfigFromEnv(env: Record<string, unknown> = process.env): GatewayConfig {
  const parsed = gatewayEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`Invalid gateway environment:\n${parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`).join('\n')}`);
  }
  const e = parsed.data;
  const embeddedSimulator = (e.LLM_SIMULATOR ?? (e.LLM_POLICY_FILE ? 'off' : 'embedded')) === 'embedded';
  let adminKey = secretFromEnv('LLM_ADMIN_KEY', e.LLM_ADMIN_KEY);
  const metricsToken = secretFromEnv('LLM_METRICS_TOKEN', e.LLM_METRICS_TOKEN);
  let adminKeyGenerated = false;
  if (adminKey === undefined && embeddedSimulator) {
    adminKey = `llmr_admin_dev_${randomBytes(18).toString('base64url')}`;
    adminKeyGenerated = true;
  }
  const databaseUrl = e.DATABASE_URL === '' ? undefined : e.DATABASE_URL;
  const redisUrl = e.LLM_REDIS_URL === '' ? undefined : e.LLM_REDIS_URL;
  return {
    host: e.HOST,
    port: e.PORT,
    policyFile: resolve(e.LLM_POLICY_FILE ?? DEFAULT_POLICY_FILE),
    embeddedSimulator,
    simulatorPort: e.SIM_PORT,
    bodyLimitBytes: e.LLM_BODY_LIMIT_BYTES,
    jsonMaxDepth: Math.max(1, e.LLM_JSON_MAX_DEPTH),
    jsonMaxValues: Math.max(1, e.LLM_JSON_MAX_VALUES),
    headersTimeoutMs: e.LLM_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: e.LLM_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: e.LLM_KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: e.LLM_MAX_CONNECTIONS,
    listenBacklog: Math.max(1, e.LLM_LISTEN_BACKLOG),
    shutdownGraceMs: e.LLM_SHUTDOWN_GRACE_MS,
    auth: e.LLM_AUTH,
    adminKey,
    adminKeyGenerated,
    ...(metricsToken !== undefined ? { metricsToken } : {}),
    store: databaseUrl
      ? { kind: 'postgres', url: databaseUrl, schema: e.LLM_PG_SCHEMA, poolSize: Math.max(1, e.LLM_PG_POOL_SIZE) }
      : { kind: 'sqlite', path: e.LLM_SQLITE_PATH === ':memory:' ? ':memory:' : resolve(e.LLM_SQLITE_PATH) },
    ...(redisUrl !== undefined ? { redisUrl } : {}),
    redisKeyPrefix: e.LLM_REDIS_PREFIX,
    redisCommandTimeoutMs: e.LLM_REDIS_COMMAND_TIMEOUT_MS,
    recordFlushMs: Math.max(1, e.LLM_RECORD_FLUSH_MS),
    recordBatchSize: Math.max(1, e.LLM_RECORD_BATCH_SIZE),
    recordJournal: e.LLM_RECORD_JOURNAL,
    // With PostgreSQL there is no SQLite file to sit beside: the files go under data/.
    ...(e.LLM_RECORD_JOURNAL_DIR ? { recordJournalDir: resolve(e.LLM_RECORD_JOURNAL_DIR) } : databaseUrl ? { recordJournalDir: resolve(DEFAULT_JOURNAL_DIR) } : {}),
    keysRefreshMs: e.LLM_KEYS_REFRESH_MS,
    requestLog: e.LLM_REQUEST_LOG,
    sampleEndpoints: e.LLM_SAMPLE_ENDPOINTS,
    policyWatch: e.LLM_POLICY_WATCH,
    policySyncMs: e.LLM_POLICY_SYNC_MS,
    queueLeaseMs: Math.max(1_000, e.LLM_QUEUE_LEASE_MS),
    callbackAllow: e.LLM_CALLBACK_ALLOW,
    trustProxy: e.LLM_TRUST_PROXY,
    records: e.LLM_RECORDS,
    metrics: e.LLM_METRICS,
    fileLimitBytes: Math.max(1, e.LLM_FILE_LIMIT_BYTES),
    batchWatchMs: Math.max(10, e.LLM_BATCH_WATCH_MS),
  };
}

/** One entry of LLM_TRUST_PROXY: an address, a CIDR, or one of the ranges proxy-addr (Fastify's trustProxy) names. */
function isProxyEntry(entry: string): boolean {
  if (entry === 'loopback' || entry === 'linklocal' || entry === 'uniquelocal') return true;
  const [address, bits, extra] = entry.split('/');
  const family = isIP(address!);
  if (family === 0 || extra !== undefined) return false;
  return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

/** A credential from the environment: unset or empty is none; a short one is refused at start-up. */
function secretFromEnv(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length < MIN_ADMIN_KEY_LENGTH) throw new Error(`Invalid gateway environment:\n  ${name}: must be at least ${MIN_ADMIN_KEY_LENGTH} characters`);
  return value;
}

/** Programmatic defaults (tests, benchmarks): nothing read from the environment. */
export function defaultGatewayConfig(overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  return {
    host: '127.0.0.1',
    port: 0,
    embeddedSimulator: false,
    simulatorPort: 0,
    ...HTTP_DEFAULTS,
    ...BATCH_DEFAULTS,
    ...QUEUE_DEFAULTS,
    callbackAllow: [],
    auth: 'disabled',
    adminKeyGenerated: false,
    store: { kind: 'sqlite', path: ':memory:' },
    recordFlushMs: 200,
    recordBatchSize: 500,
    recordJournal: 'auto',
    keysRefreshMs: 0,
    redisKeyPrefix: 'llmr:',
    requestLog: false,
    sampleEndpoints: true,
    policyWatch: false,
    policySyncMs: 5_000,
    ...overrides,
  };
}

/** Where the settings sit in ConfigService: `config.get(GATEWAY_CONFIG_KEY)`. */
export const GATEWAY_CONFIG_KEY = 'gateway';
