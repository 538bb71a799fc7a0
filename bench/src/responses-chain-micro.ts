/**
 * What continuing a conversation by reference costs: `POST /v1/responses`
 * with a `previous_response_id` (the gateway reads the chain from its SQL
 * store, rebuilds the transcript, routes it) against `POST
 * /v1/chat/completions` carrying the same transcript itself, both through an
 * in-process gateway (authentication off, no request log) to the simulator,
 * sequentially, interleaved in rounds. Also the chain read alone
 * (StoredResponsesService.conversation) beside a `SELECT 1` on the same
 * store. Depths 1, 10 and 50 responses.
 * Prints one JSON object.
 *
 * Run: npm run bench:responses
 * Env: RESPONSES_MICRO_CALLS (per kind, depth and round, default 100), RESPONSES_MICRO_ROUNDS (default 3),
 *      DATABASE_URL (PostgreSQL instead of an SQLite file; tables in a fresh schema, dropped after).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { PolicyDocument } from '@llm-router/nestjs';
import { startSimulator } from '../../apps/simulator/src/index.js';
import { createGateway, type StoreConfig } from '../../apps/gateway/src/index.js';
import { StoredResponsesService } from '../../apps/gateway/src/responses/stored-responses.service.js';
import type { GatewayStore } from '../../apps/gateway/src/store/gateway-store.js';
import { GATEWAY_STORE } from '../../apps/gateway/src/store/store.tokens.js';

const CALLS = Number(process.env.RESPONSES_MICRO_CALLS ?? 100);
const ROUNDS = Number(process.env.RESPONSES_MICRO_ROUNDS ?? 3);
const DEPTHS = [1, 10, 50];

function policy(simUrl: string): PolicyDocument {
  return {
    defaultClass: 'general',
    providers: { oa: { kind: 'openai', baseUrl: `${simUrl}/openai/v1` } },
    models: { m: { provider: 'oa', upstreamModel: 'up-m', tier: 'premium', capabilities: ['tools', 'streaming'], contextWindow: 1_000_000, price: { inputPerMTok: 1, outputPerMTok: 2 } } },
    classes: { general: { criticality: 'standard', route: ['m'] } },
  };
}

async function post(url: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-tenant-id': 'bench' }, body: JSON.stringify(body) });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)]!;
const micros = (ms: number) => Math.round(ms * 1000);

async function main(): Promise<void> {
  const sim = await startSimulator({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'responses-micro-'));
  const schema = `responses_micro_${randomBytes(4).toString('hex')}`;
  const store: StoreConfig = process.env.DATABASE_URL ? { kind: 'postgres', url: process.env.DATABASE_URL, schema, poolSize: 5 } : { kind: 'sqlite', path: join(dir, 'gateway.sqlite') };
  const app = await createGateway({ router: { policy: policy(sim.url) }, logger: false, auth: 'disabled', store, sampleEndpoints: false });
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const stored = app.get(StoredResponsesService);
  const gatewayStore = app.get<symbol, GatewayStore>(GATEWAY_STORE);
  const results: Record<string, unknown> = {};
  try {
    for (const depth of DEPTHS) {
      let last: string | undefined;
      for (let i = 0; i < depth; i++) last = (await post(`${base}/v1/responses`, { input: `turn ${i}: tell me more about item ${i}`, ...(last ? { previous_response_id: last } : {}) })).id;
      const request = { previous_response_id: last, input: 'and now?', store: false };
      await post(`${base}/v1/responses`, request);
      // The same transcript, sent whole to chat completions.
      const messages = ((await (await fetch(`${sim.url}/_sim/requests`)).json()) as { requests: Array<{ body: { messages: unknown[] } }> }).requests[0]!.body.messages;
      const chat = { messages };
      const times = { responses: [] as number[], chat: [] as number[], chainRead: [] as number[], storePing: [] as number[] };
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < CALLS; i++) {
          let t = performance.now();
          await post(`${base}/v1/responses`, request);
          times.responses.push(performance.now() - t);
          t = performance.now();
          await post(`${base}/v1/chat/completions`, chat);
          times.chat.push(performance.now() - t);
          t = performance.now();
          await stored.conversation(last!, { tenant: 'bench', keyId: '' });
          times.chainRead.push(performance.now() - t);
          t = performance.now();
          await gatewayStore.ping();
          times.storePing.push(performance.now() - t);
        }
      }
      const summary = (xs: number[]) => ({ p50Us: micros(quantile(xs, 0.5)), p90Us: micros(quantile(xs, 0.9)) });
      results[`depth${depth}`] = {
        messages: messages.length,
        responses: summary(times.responses),
        chatCompletions: summary(times.chat),
        ratioP50: Math.round((quantile(times.responses, 0.5) / quantile(times.chat, 0.5)) * 100) / 100,
        chainRead: summary(times.chainRead),
        // A `SELECT 1` on the same store: the round trip the chain read cannot be faster than.
        storePing: summary(times.storePing),
      };
    }
    console.log(JSON.stringify({ store: store.kind, calls: CALLS * ROUNDS, results }, null, 2));
  } finally {
    await app.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
    if (store.kind === 'postgres') {
      const client = new pg.Client({ connectionString: store.url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  }
}

await main();
