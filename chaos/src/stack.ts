/**
 * The real processes every scenario runs against, each a child on a free
 * loopback port: the simulated provider, the gateway (`node
 * dist/apps/gateway/src/main.js` with its production defaults, on SQLite or
 * on a PostgreSQL schema of its own), and a redis-server of the suite's own
 * (never the machine's shared one), which a scenario may kill -9 and start
 * again empty. And what the scenarios read back: the records in the store and
 * the Redis ledger.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { freePort, httpJson, startService, stopService, type Service } from '../../bench/src/processes.js';
import { CHAOS_DIR, DIST, ROOT } from './config.js';

export const ADMIN_KEY = `chaos_admin_${randomBytes(16).toString('hex')}`;
/** This run's id: in schema names, Redis prefixes and file names. */
export const RUN_ID = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/** Upstream model ids in chaos/policy.yaml: the primary every fault targets, the fallbacks. */
export const UPSTREAM = { a: 'sim-chaos-a', b: 'sim-chaos-b', c: 'sim-chaos-c' } as const;

export async function startSimulator(logDir: string): Promise<Service> {
  const port = await freePort();
  return startService({ name: 'simulator', port, args: [DIST.simulator], env: { SIM_PORT: String(port) }, readyPath: '/_sim/health', cwd: ROOT, logDir });
}

/** A copy of chaos/policy.yaml pointed at this run's simulator. */
export function writePolicy(simUrl: string, logDir: string): string {
  const doc = parseYaml(readFileSync(join(CHAOS_DIR, 'policy.yaml'), 'utf8')) as { providers: Record<string, { baseUrl: string }> };
  for (const p of Object.values(doc.providers)) p.baseUrl = p.baseUrl.replace(/^http:\/\/127\.0\.0\.1:\d+/, simUrl);
  const path = join(logDir, 'policy.yaml');
  writeFileSync(path, `# Written by the reliability suite from chaos/policy.yaml\n${toYaml(doc)}`);
  return path;
}

/** A redis-server of the suite's own: no snapshot, no AOF, so a restart starts empty. */
export class RedisServer {
  private service!: Service;
  private starts = 0;

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly binary: string,
    private readonly logDir: string,
  ) {}

  static async start(name: string, binary: string, logDir: string): Promise<RedisServer> {
    const server = new RedisServer(name, await freePort(), binary, logDir);
    await server.run();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private async run(): Promise<void> {
    this.service = await startService({
      name: `${this.name}-${++this.starts}`,
      port: this.port,
      command: this.binary,
      args: ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
      ready: () => redisPing(this.port),
      logDir: this.logDir,
      cwd: this.logDir,
    });
  }

  /** kill -9: whatever it held is gone. */
  kill9(): Promise<void> {
    return stopService(this.service, 'SIGKILL');
  }

  /** Started again on the same port, empty. */
  restart(): Promise<void> {
    return this.run();
  }

  stop(): Promise<void> {
    return stopService(this.service);
  }

  client(): Redis {
    const c = new Redis(this.url, { maxRetriesPerRequest: 1, lazyConnect: false });
    c.on('error', () => undefined);
    return c;
  }
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.on('error', () => done(false));
    s.on('data', (d: Buffer) => done(d.toString().startsWith('+PONG')));
    s.on('connect', () => s.write('PING\r\n'));
  });
}

/** One tenant's period counters in the Redis ledger (RedisBudgetLedgerStore's `{tenant}:p:<period>` hash), in µ$. */
export async function ledgerOf(redis: Redis, prefix: string, tenant: string): Promise<{ spentMicros: number; reservedMicros: number; keys: number }> {
  const tag = encodeURIComponent(tenant).replace(/[{}]/g, '_');
  const keys = await redis.keys(`${prefix}budget:{${tag}}:p:*`);
  let spentMicros = 0;
  let reservedMicros = 0;
  for (const k of keys) {
    const [s, r] = await redis.hmget(k, 'spent', 'reserved');
    spentMicros += Number(s ?? 0);
    reservedMicros += Number(r ?? 0);
  }
  return { spentMicros, reservedMicros, keys: keys.length };
}

export interface RecordRow {
  requestId: string;
  outcome: string;
  costUsd: number;
  startedAt: number;
}

export type StoreKind = 'sqlite' | 'postgres';

export interface GatewayOptions {
  /** Scenario id: the log, the SQLite file, the schema. */
  name: string;
  store: StoreKind;
  databaseUrl: string;
  redis?: RedisServer;
  env?: Record<string, string>;
  logDir: string;
}

/** The gateway as a child process, with its store; restartable on the same store and port. */
export class Gateway {
  private service!: Service;
  private starts = 0;
  readonly schema: string;
  readonly sqlitePath: string;
  readonly redisPrefix: string;

  private constructor(
    readonly o: GatewayOptions,
    readonly port: number,
    private readonly policyFile: string,
  ) {
    this.schema = `chaos_${RUN_ID}_${o.name.replace(/[^a-z0-9]/g, '_')}`.toLowerCase().slice(0, 63);
    this.sqlitePath = join(o.logDir, `${o.name}.sqlite`);
    this.redisPrefix = `chaos-${RUN_ID}-${o.name}:`;
  }

  static async start(sim: Service, o: GatewayOptions): Promise<Gateway> {
    const gw = new Gateway(o, await freePort(), writePolicy(sim.url, o.logDir));
    await gw.run();
    return gw;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get child() {
    return this.service.child;
  }

  /** The last lines the current process printed. */
  log(): string {
    return this.service.log();
  }

  private env(): Record<string, string> {
    return {
      PORT: String(this.port),
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      LLM_POLICY_FILE: this.policyFile,
      LLM_SIMULATOR: 'off',
      LLM_AUTH: 'api-keys',
      LLM_ADMIN_KEY: ADMIN_KEY,
      LLM_METRICS_TOKEN: '',
      LLM_SQLITE_PATH: this.sqlitePath,
      DATABASE_URL: this.o.store === 'postgres' ? this.o.databaseUrl : '',
      LLM_PG_SCHEMA: this.schema,
      LLM_REDIS_URL: this.o.redis?.url ?? '',
      LLM_REDIS_PREFIX: this.redisPrefix,
      ...this.o.env,
    };
  }

  private async run(): Promise<void> {
    this.service = await startService({
      name: `gateway-${this.o.name}-${++this.starts}`,
      port: this.port,
      args: [DIST.gateway],
      env: this.env(),
      readyPath: '/health/live',
      cwd: ROOT,
      logDir: this.o.logDir,
    });
  }

  /** Ends the process with `signal` (SIGKILL: kill -9) and waits for its exit. */
  stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<void> {
    return stopService(this.service, signal, graceMs);
  }

  /** Started again on the same store, Redis and port. */
  restart(): Promise<void> {
    return this.run();
  }

  async admin(path: string, method = 'GET', body?: unknown) {
    return httpJson(`${this.url}${path}`, method, body, { authorization: `Bearer ${ADMIN_KEY}` });
  }

  /** A new API key's secret. */
  async createKey(tenant: string, extra: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
    const r = await this.admin('/admin/keys', 'POST', { tenant, ...extra });
    if (r.status !== 201) throw new Error(`creating a key failed: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    return r.json() as { id: string; key: string };
  }

  async setBudget(tenant: string, budgetUsd: number): Promise<void> {
    const r = await this.admin(`/admin/tenants/${tenant}/budget`, 'PUT', { budgetUsd, period: 'month' });
    if (r.status !== 200) throw new Error(`setting a budget failed: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  }

  /** Asks the gateway to write its queued records (the report flushes them first). */
  async flush(): Promise<void> {
    const r = await this.admin('/admin/report?period=all');
    if (r.status !== 200) throw new Error(`GET /admin/report: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  }

  /** Every routing record of `tenant`, straight from the store. */
  async records(tenant: string): Promise<RecordRow[]> {
    const sql = 'SELECT request_id, outcome, cost_usd, started_at FROM llm_routing_records WHERE tenant = $1';
    const rows = await this.query<{ request_id: string; outcome: string; cost_usd: number | string; started_at: number | string }>(sql, [tenant]);
    return rows.map((r) => ({ requestId: r.request_id, outcome: r.outcome, costUsd: Number(r.cost_usd), startedAt: Number(r.started_at) }));
  }

  /** Rows in the dead-letter table (records the store refused), or undefined when the store has none. */
  async deadRecords(): Promise<number | undefined> {
    try {
      const [row] = await this.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM llm_dead_records', []);
      return Number(row?.n ?? 0);
    } catch {
      return undefined;
    }
  }

  /** A query on the store (PostgreSQL placeholders; rewritten for SQLite). */
  async query<T>(sql: string, params: unknown[]): Promise<T[]> {
    if (this.o.store === 'sqlite') {
      const db = new Database(this.sqlitePath, { fileMustExist: true });
      try {
        db.pragma('busy_timeout = 10000');
        return db.prepare(sql.replace(/\$\d+/g, '?')).all(...params) as T[];
      } finally {
        db.close();
      }
    }
    const client = new pg.Client({ connectionString: this.o.databaseUrl, options: `-c search_path=${this.schema}` });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  /** Stops the process and removes its store (the SQLite files, or the schema). */
  async dispose(): Promise<void> {
    await this.stop('SIGTERM', 10_000).catch(() => undefined);
    if (this.o.store === 'postgres') {
      const client = new pg.Client({ connectionString: this.o.databaseUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
      } finally {
        await client.end();
      }
    }
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(this.sqlitePath + suffix, { force: true });
  }
}

/** Whether PostgreSQL answers at `url`: true, or why not. */
export async function postgresReachable(url: string): Promise<true | string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (err) {
    return `PostgreSQL at ${url} is not reachable: ${(err as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Σ of the records' cost, in µ$, as the ledger counts it (each record rounded to the µ$). */
export const recordsMicros = (rows: readonly RecordRow[]) => rows.reduce((s, r) => s + Math.round(r.costUsd * 1e6), 0);
