/**
 * kill -9 under load, then a restart on the same store: every success a
 * client saw has its routing record (by `x-llm-request-id`), and the tenant's
 * ledger spend equals what its records say. The real gateway runs as a child
 * process (`dist/apps/gateway/src/main.js`) with a long record flush interval,
 * so the records of the first run are still batched in memory when it dies.
 * Eight clients send completions and streams until the gateway is killed
 * after a number of successes (no timing). On the SQLite file (the default
 * store, in-process ledger) and on PostgreSQL with the Redis ledger (skipped
 * with the reason when either is unreachable, except under CI=true).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ADMIN_KEY, call, postgresOrSkip, startSim, tempDir, testPolicy, type SimulatorHandle } from './gateway-support/harness.js';
import { REDIS_URL, redisAvailable } from './support/services.js';
import { startGateway, stopGateway, type Gateway } from './support/gateway-process.js';

const CLIENTS = 8;
/** The gateway is killed once the clients have seen this many successes. */
const KILL_AFTER = 240;
/** Calls in all before the gateway is killed regardless. */
const MAX_CALLS = 20 * KILL_AFTER;
const TENANT = 'acme';
/** About 2,000 characters: each call costs thousands of micro-dollars, far above the ledger's rounding. */
const PROMPT = 'Tell me about durable journals. '.repeat(64);

/** One call; resolves with its request id when the client saw a complete success, else undefined. */
async function oneCall(url: string, key: string, stream: boolean): Promise<string | undefined> {
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: PROMPT }], ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}) }),
    });
    const text = await res.text();
    if (res.status !== 200) return undefined;
    // A stream is a success only once its [DONE] arrived; a completion once its whole body parsed.
    if (stream ? !text.trimEnd().endsWith('data: [DONE]') : (JSON.parse(text) as { choices?: unknown[] }).choices === undefined) return undefined;
    return res.headers.get('x-llm-request-id') ?? undefined;
  } catch {
    return undefined;
  }
}

/** CLIENTS loops of calls until the gateway dies; the gateway is killed with SIGKILL after KILL_AFTER successes. */
async function loadThenKill(gw: Gateway, key: string): Promise<string[]> {
  const seen: string[] = [];
  let killed = false;
  let calls = 0;
  const kill = () => {
    if (killed) return;
    killed = true;
    gw.child.kill('SIGKILL');
  };
  const client = async (n: number) => {
    // A call in flight when the gateway dies counts if its client saw it succeed.
    for (let i = 0; !killed; i++) {
      const id = await oneCall(gw.url, key, (n + i) % 2 === 0);
      // Bounded: a gateway that keeps failing is killed too (and the count below fails the test).
      if (++calls > MAX_CALLS) kill();
      if (id === undefined) continue;
      seen.push(id);
      if (seen.length >= KILL_AFTER) kill();
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
  await gw.exited;
  return seen;
}

interface StoreProbe {
  /** request id → cost of every stored record of the tenant. */
  records(): Promise<Map<string, number>>;
}

function killRestartSuite(name: string, setup: () => Promise<{ env: Record<string, string>; probe: StoreProbe; cleanup(): Promise<void> } | { skip: string }>) {
  describe(`kill -9 under load, restart on ${name}`, () => {
    let sim: SimulatorHandle;
    let env: Record<string, string>;
    let probe: StoreProbe;
    let cleanup: () => Promise<void> = async () => undefined;
    let skip: string | undefined;
    let gw: Gateway | undefined;
    const dir = tempDir();

    before(async () => {
      const s = await setup();
      if ('skip' in s) {
        skip = s.skip;
        return;
      }
      sim = await startSim();
      const policyFile = join(dir.path, 'policy.json');
      writeFileSync(policyFile, JSON.stringify(testPolicy(sim.url)));
      env = {
        LLM_POLICY_FILE: policyFile,
        LLM_SIMULATOR: 'off',
        LLM_ADMIN_KEY: ADMIN_KEY,
        LLM_REQUEST_LOG: 'false',
        // Batches stay in memory for a minute: whatever the first run recorded is lost unless journaled.
        LLM_RECORD_FLUSH_MS: '60000',
        LLM_RECORD_BATCH_SIZE: '100000',
        LLM_KEYS_REFRESH_MS: '0',
        ...s.env,
      };
      probe = s.probe;
      cleanup = s.cleanup;
    });
    after(async () => {
      await stopGateway(gw, 'SIGKILL');
      await sim?.close();
      await cleanup();
      dir.remove();
    });

    test('every success the clients saw has its record after the restart, and the ledger equals the records', async (t) => {
      if (skip) return t.skip(skip);
      gw = await startGateway(env);
      const created = await call(gw.url, '/admin/keys', { key: ADMIN_KEY, body: { tenant: TENANT } });
      assert.equal(created.status, 201, created.text);
      const key = (created.json as { key: string }).key;
      const budget = await call(gw.url, `/admin/tenants/${TENANT}/budget`, { method: 'PUT', key: ADMIN_KEY, body: { budgetUsd: 1_000 } });
      assert.equal(budget.status, 200, budget.text);

      const seen = await loadThenKill(gw, key);
      assert.ok(seen.length >= KILL_AFTER, `the clients saw ${seen.length} successes`);

      gw = await startGateway(env);
      const stored = await probe.records();
      const missing = seen.filter((id) => !stored.has(id));
      assert.equal(missing.length, 0, `${missing.length} of ${seen.length} successes the clients saw have no record after the restart (e.g. ${missing.slice(0, 3).join(', ')})`);

      // The ledger (rebuilt from the records in process, or the shared Redis ledger) against the records, in micro-dollars.
      const state = await call(gw.url, `/admin/tenants/${TENANT}/budget`, { key: ADMIN_KEY });
      assert.equal(state.status, 200, state.text);
      const ledgerMicros = Math.round((state.json as { spentUsd: number }).spentUsd * 1e6);
      const recordMicros = Math.round([...stored.values()].reduce((s, c) => s + c, 0) * 1e6);
      // Each call costs thousands of micro-dollars; rounding differs by at most one per record.
      assert.ok(Math.abs(ledgerMicros - recordMicros) <= stored.size, `ledger ${ledgerMicros} µ$ against records ${recordMicros} µ$ (${stored.size} records)`);
      await stopGateway(gw);
    });
  });
}

killRestartSuite('SQLite (in-process ledger)', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'gateway.sqlite');
  return {
    env: { LLM_SQLITE_PATH: path },
    probe: {
      records: async () => {
        const db = new Database(path, { readonly: true });
        try {
          const rows = db.prepare('SELECT request_id, cost_usd FROM llm_routing_records WHERE tenant = ?').all(TENANT) as { request_id: string; cost_usd: number }[];
          return new Map(rows.map((r) => [r.request_id, r.cost_usd]));
        } finally {
          db.close();
        }
      },
    },
    cleanup: async () => dir.remove(),
  };
});

killRestartSuite('PostgreSQL with the Redis ledger', async () => {
  const redis = await redisAvailable();
  if (redis !== true) return { skip: redis };
  const pgStore = await postgresOrSkip();
  if ('skip' in pgStore) return pgStore;
  if (pgStore.store.kind !== 'postgres') throw new Error('expected a PostgreSQL store');
  const { url, schema } = pgStore.store;
  const prefix = `llmr-kill-${randomUUID()}:`;
  // With PostgreSQL the journal's files (Redis's fallback) would go under ./data: here, a folder of the test's own.
  const files = tempDir();
  return {
    env: { DATABASE_URL: url, LLM_PG_SCHEMA: schema, LLM_REDIS_URL: REDIS_URL, LLM_REDIS_PREFIX: prefix, LLM_RECORD_JOURNAL_DIR: files.path },
    probe: {
      records: async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          const { rows } = await client.query<{ request_id: string; cost_usd: number }>(`SELECT request_id, cost_usd FROM ${schema}.llm_routing_records WHERE tenant = $1`, [TENANT]);
          return new Map(rows.map((r) => [r.request_id, Number(r.cost_usd)]));
        } finally {
          await client.end();
        }
      },
    },
    cleanup: async () => {
      files.remove();
      await pgStore.drop();
      const client = new Redis(REDIS_URL);
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      client.disconnect();
    },
  };
});
