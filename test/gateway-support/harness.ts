/**
 * The gateway product under test: a real gateway (Nest + Fastify) with API
 * keys on, a real store (SQLite file or PostgreSQL schema), the simulated
 * provider upstream, and small HTTP helpers for the admin and /v1 APIs.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { LlmRouter, requestWorstCaseMicros, type PolicyDocument, type RoutingRecord } from '@llm-router/nestjs';
import { startSimulator, type SimulatorHandle } from '../../apps/simulator/src/index.js';
import { createGateway, type CreateGatewayOptions } from '../../apps/gateway/src/index.js';
import type { StoreConfig } from '../../apps/gateway/src/index.js';

export type { SimulatorHandle };
export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';
export const PG_URL = process.env.LLM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Class timings for tests: near-instant backoff, short timeouts. */
export const FAST = { backoff: { baseMs: 1, maxMs: 5, jitter: false }, firstByteTimeoutMs: 2_000, attemptTimeoutMs: 3_000, deadlineMs: 8_000 } as const;

/**
 * Catalog on the simulator: `premium-a` (OpenAI format), `premium-b`
 * (Anthropic format), `standard-1` (OpenAI), `economy-1` (Anthropic).
 * Upstream ids are `up-<name>`. Classes:
 * - general (standard): premium-a → premium-b
 * - support-chat (critical, premium floor): premium-a → premium-b
 * - batch-summaries (batch): standard-1 → economy-1
 * - cheap (nonessential): economy-1 → standard-1
 * - floored (standard, premium floor, route standard-1 only): always refused by the floor
 */
export function testPolicy(simUrl: string): PolicyDocument {
  return {
    defaultClass: 'general',
    providers: {
      oa: { kind: 'openai', baseUrl: `${simUrl}/openai/v1`, timeouts: { connectMs: 500, firstByteMs: 3_000 } },
      an: { kind: 'anthropic', baseUrl: `${simUrl}/anthropic/v1`, timeouts: { connectMs: 500, firstByteMs: 3_000 } },
    },
    models: {
      'premium-a': { provider: 'oa', upstreamModel: 'up-premium-a', tier: 'premium', capabilities: ['tools', 'json', 'streaming'], contextWindow: 100_000, price: { inputPerMTok: 3, outputPerMTok: 15 } },
      'premium-b': { provider: 'an', upstreamModel: 'up-premium-b', tier: 'premium', capabilities: ['tools', 'json', 'streaming'], contextWindow: 100_000, price: { inputPerMTok: 3, outputPerMTok: 15 } },
      'standard-1': { provider: 'oa', upstreamModel: 'up-standard-1', tier: 'standard', capabilities: ['json', 'streaming'], contextWindow: 30_000, price: { inputPerMTok: 0.5, outputPerMTok: 1.5 } },
      'economy-1': { provider: 'an', upstreamModel: 'up-economy-1', tier: 'economy', capabilities: ['json', 'streaming'], contextWindow: 16_000, price: { inputPerMTok: 0.1, outputPerMTok: 0.4 } },
    },
    classes: {
      general: { criticality: 'standard', route: ['premium-a', 'premium-b'], retriesPerTarget: 0, ...FAST },
      'support-chat': { criticality: 'critical', route: ['premium-a', 'premium-b'], qualityFloor: { tier: 'premium' }, ...FAST },
      'batch-summaries': { criticality: 'batch', route: ['standard-1', 'economy-1'], retriesPerTarget: 0, ...FAST },
      cheap: { criticality: 'nonessential', route: ['economy-1', 'standard-1'], retriesPerTarget: 0, ...FAST },
      floored: { criticality: 'standard', route: ['standard-1'], qualityFloor: { tier: 'premium' }, ...FAST },
    },
    circuit: { failureThreshold: 1000, cooldownMs: 60_000 },
  };
}

export interface Gw {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly router: LlmRouter;
  /** Every routing record this gateway's router emitted. */
  readonly records: RoutingRecord[];
  close(): Promise<void>;
}

export async function startGw(sim: SimulatorHandle, options: Partial<CreateGatewayOptions> = {}): Promise<Gw> {
  const app = await createGateway({ router: { policy: testPolicy(sim.url) }, logger: false, auth: 'api-keys', adminKey: ADMIN_KEY, ...options });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const router = app.get(LlmRouter);
  const records: RoutingRecord[] = [];
  router.records$.subscribe((r) => records.push(r));
  let closed = false;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    router,
    records,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

export function startSim(): Promise<SimulatorHandle> {
  return startSimulator({ port: 0 });
}

/**
 * One simulator and one gateway for a whole test file: started before its
 * tests, closed after them, the simulator's faults and counters cleared
 * before each. Read `sim` and `gw` inside tests and hooks (set once started).
 */
export function gatewayForFile(options: (sim: SimulatorHandle) => Partial<CreateGatewayOptions> = () => ({})): { readonly sim: SimulatorHandle; readonly gw: Gw } {
  const started: { sim?: SimulatorHandle; gw?: Gw } = {};
  before(async () => {
    started.sim = await startSim();
    started.gw = await startGw(started.sim, options(started.sim));
  });
  after(async () => {
    await started.gw?.close();
    await started.sim?.close();
  });
  beforeEach(() => {
    started.sim!.clearFaults();
    started.sim!.resetStats();
  });
  return {
    get sim() {
      return started.sim!;
    },
    get gw() {
      return started.gw!;
    },
  };
}

export interface Res {
  status: number;
  headers: Headers;
  json: any;
  text: string;
}

/** One HTTP call; `key` becomes `Authorization: Bearer <key>`. */
export async function call(
  base: string,
  path: string,
  init: { method?: string; key?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Res> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.key !== undefined) headers.authorization = `Bearer ${init.key}`;
  let body: string | undefined = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  } else if (init.raw !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(`${base}${path}`, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

export interface CreatedKey {
  id: string;
  key: string;
  [field: string]: unknown;
}

/** Admin: create a key (fails the test unless 201). */
export async function createKey(gw: { url: string }, body: Record<string, unknown>): Promise<CreatedKey> {
  const res = await call(gw.url, '/admin/keys', { key: ADMIN_KEY, body });
  if (res.status !== 201) throw new Error(`creating a key failed: ${res.status} ${res.text}`);
  return res.json as CreatedKey;
}

export async function setBudget(gw: { url: string }, tenant: string, body: Record<string, unknown>): Promise<any> {
  const res = await call(gw.url, `/admin/tenants/${tenant}/budget`, { method: 'PUT', key: ADMIN_KEY, body });
  if (res.status !== 200) throw new Error(`setting a budget failed: ${res.status} ${res.text}`);
  return res.json;
}

export function chat(gw: { url: string }, key: string | undefined, content: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Res> {
  return call(gw.url, '/v1/chat/completions', { key, body: { messages: [{ role: 'user', content }], ...extra }, headers });
}

/**
 * A budget (USD) with room for exactly one worst case of `chat(gw, key,
 * content, extra)` on `model`: the first such call fits, and once anything is
 * spent (or reserved) the next does not.
 */
export function oneWorstCaseUsd(gw: { router: LlmRouter }, model: string, content: string, extra: Record<string, unknown> = {}): number {
  return (requestWorstCaseMicros(gw.router.policy.models.get(model)!, { messages: [{ role: 'user', content }], ...extra }) + 1) / 1e6;
}

/** A fault directive for the simulator, inside a message: fail `model` with `fault`. */
export function simFault(model: string, fault: Record<string, unknown>): string {
  return `[[sim ${JSON.stringify({ model: `up-${model}`, ...fault })}]]`;
}

/** The reply text the simulator produces on a catalog model. */
export function simReply(model: string, prompt: string): string {
  return `Simulated reply from up-${model}: ${prompt}`;
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'llm-gateway-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function sqliteStore(dir: string, name = 'gateway.sqlite'): StoreConfig {
  return { kind: 'sqlite', path: join(dir, name) };
}

/** The simulator and one gateway on a fresh SQLite file; `close()` stops both and removes the file. */
export async function sqliteGateway(options: Partial<CreateGatewayOptions> = {}): Promise<{ sim: SimulatorHandle; gw: Gw; close(): Promise<void> }> {
  const sim = await startSim();
  const dir = tempDir();
  const gw = await startGw(sim, { store: sqliteStore(dir.path), ...options });
  return {
    sim,
    gw,
    close: async () => {
      await gw.close();
      await sim.close();
      dir.remove();
    },
  };
}

/**
 * PostgreSQL for the tests: reachable → a unique schema per call (dropped by
 * `drop()`); unreachable → the reason to skip, except under CI=true, where
 * the Postgres tests must run and an unreachable server fails them.
 */
export async function postgresOrSkip(): Promise<{ store: StoreConfig; schema: string; drop(): Promise<void> } | { skip: string }> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    await client.end().catch(() => undefined);
    const reason = `PostgreSQL at ${PG_URL} is unreachable (${err instanceof Error ? err.message : String(err)})`;
    if (process.env.CI === 'true') throw new Error(`${reason}: under CI=true the PostgreSQL tests must run`);
    return { skip: `${reason}; set CI=true to make this a failure` };
  }
  await client.end();
  const schema = `gw_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  return {
    schema,
    store: { kind: 'postgres', url: PG_URL, schema, poolSize: 3 },
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Poll until `cond` holds or fail after `timeoutMs`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 3_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A store for one suite: its config and how to remove it after, or why it is skipped. */
export type SuiteStore = { store: StoreConfig; cleanup(): Promise<void> } | { skip: string };

/** Declares `suite` once per store kind: an SQLite file in a temporary directory, then a PostgreSQL schema of its own. */
export function forEachStore(suite: (name: string, storeFor: () => Promise<SuiteStore>) => void): void {
  suite('SQLite', async () => {
    const dir = tempDir();
    return { store: sqliteStore(dir.path), cleanup: async () => dir.remove() };
  });
  suite('PostgreSQL', async () => {
    const pgStore = await postgresOrSkip();
    if ('skip' in pgStore) return pgStore;
    return { store: pgStore.store, cleanup: pgStore.drop };
  });
}
