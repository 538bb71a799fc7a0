/**
 * `npm run bench -- batch`: the Batch API's cost and its effect on
 * interactive traffic, in one run, as ratios:
 * - items per second through the gateway (a batch of ITEMS items, run at
 *   CONCURRENCY) against the same requests sent straight to the provider at
 *   the same concurrency;
 * - interactive p50 latency through the gateway with a batch running against
 *   without one.
 * The simulated provider answers after PROVIDER_MS. The gateway runs in this
 * process (embedded SQLite store and its own work queue), the client with it:
 * the figures compare runs of one setup, not machines. Writes
 * bench/results/batch.md.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { startSimulator } from '../../apps/simulator/src/index.js';
import { createGateway } from '../../apps/gateway/src/index.js';
import { RESULTS_DIR } from './config.js';
import { median } from './load.js';

const ITEMS = Number(process.env.BATCH_BENCH_ITEMS ?? 600);
const CONCURRENCY = 8;
const PROVIDER_MS = 20;
const INTERACTIVE_CALLS = 150;
const ADMIN = 'bench-admin-key-0123456789';
const log = (s: string) => process.stderr.write(`[batch] ${s}\n`);

const body = (content: string) => ({ messages: [{ role: 'user', content }], max_tokens: 32 });

async function main(): Promise<void> {
  const sim = await startSimulator({ port: 0 });
  sim.addFaults({ fault: { latencyMs: PROVIDER_MS } });
  const dir = mkdtempSync(join(tmpdir(), 'llm-batch-bench-'));
  const policy = {
    defaultClass: 'general',
    providers: { oa: { kind: 'openai' as const, baseUrl: `${sim.url}/openai/v1` } },
    models: { 'standard-1': { provider: 'oa', upstreamModel: 'up-standard-1', tier: 'standard', contextWindow: 30_000, price: { inputPerMTok: 0.5, outputPerMTok: 1.5 } } },
    classes: {
      general: { criticality: 'standard' as const, route: ['standard-1'] },
      'batch-summaries': { criticality: 'batch' as const, route: ['standard-1'] },
      'support-chat': { criticality: 'critical' as const, route: ['standard-1'] },
    },
    batches: { concurrency: CONCURRENCY, perTenantConcurrency: CONCURRENCY },
  };
  const app = await createGateway({ router: { policy }, logger: false, auth: 'api-keys', adminKey: ADMIN, store: { kind: 'sqlite', path: join(dir, 'gw.sqlite') } });
  await app.listen(0, '127.0.0.1');
  const gw = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  try {
    const key = (await post(`${gw}/admin/keys`, ADMIN, { tenant: 'bench', allowedClasses: ['general', 'batch-summaries'] })).key as string;

    // 1. The same requests straight to the provider, CONCURRENCY at a time.
    const directStart = performance.now();
    await pool(ITEMS, CONCURRENCY, (i) => post(`${sim.url}/openai/v1/chat/completions`, 'sk', { model: 'up-standard-1', ...body(`document ${i}`) }));
    const directPerSec = ITEMS / ((performance.now() - directStart) / 1000);
    log(`direct: ${directPerSec.toFixed(1)} requests/s`);

    // 2. Interactive p50 with no batch running.
    const idle = await interactive(gw, key);
    log(`interactive p50 without a batch: ${idle.toFixed(1)} ms`);

    // 3. A batch of ITEMS items through the gateway; interactive calls while it runs.
    const started = performance.now();
    const batchId = await createBatch(gw, key, ITEMS);
    const during = await interactive(gw, key);
    log(`interactive p50 with a batch running: ${during.toFixed(1)} ms`);
    let status = '';
    while (status !== 'completed') {
      await new Promise((r) => setTimeout(r, 50));
      status = (await get(`${gw}/v1/batches/${batchId}`, key)).status as string;
      if (['failed', 'expired', 'cancelled'].includes(status)) throw new Error(`the batch ended ${status}`);
    }
    const batchPerSec = ITEMS / ((performance.now() - started) / 1000);
    log(`through the gateway: ${batchPerSec.toFixed(1)} items/s`);

    const lines = [
      '# Batch API benchmark',
      '',
      `Run ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${ITEMS} items, concurrency ${CONCURRENCY}, provider latency ${PROVIDER_MS} ms; gateway and client in one process (embedded SQLite store and its work queue).`,
      '',
      '| measure | value |',
      '| --- | --- |',
      `| items/s straight to the provider (${CONCURRENCY} at a time) | ${directPerSec.toFixed(1)} |`,
      `| items/s through the gateway's Batch API (${CONCURRENCY} at a time) | ${batchPerSec.toFixed(1)} |`,
      `| **ratio gateway / direct** | **${(batchPerSec / directPerSec).toFixed(2)}** |`,
      `| interactive p50 without a batch (ms) | ${idle.toFixed(1)} |`,
      `| interactive p50 with a batch running (ms) | ${during.toFixed(1)} |`,
      `| **ratio with / without** | **${(during / idle).toFixed(2)}** |`,
      '',
    ];
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, 'batch.md'), lines.join('\n'));
    process.stdout.write(lines.join('\n'));
  } finally {
    await app.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** INTERACTIVE_CALLS sequential calls of the interactive class: their p50 (ms). */
async function interactive(gw: string, key: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < INTERACTIVE_CALLS; i++) {
    const t = performance.now();
    await post(`${gw}/v1/chat/completions`, key, body(`an interactive question ${i}`));
    times.push(performance.now() - t);
  }
  return median(times);
}

async function createBatch(gw: string, key: string, items: number): Promise<string> {
  const jsonl = Array.from({ length: items }, (_, i) => JSON.stringify({ custom_id: `doc-${i}`, method: 'POST', url: '/v1/chat/completions', body: body(`document ${i}`) })).join('\n');
  const form = new FormData();
  form.append('purpose', 'batch');
  form.append('file', new Blob([jsonl]), 'bench.jsonl');
  const file = (await (await fetch(`${gw}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: form })).json()) as { id: string };
  return (await post(`${gw}/v1/batches`, key, { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id as string;
}

async function pool(n: number, concurrency: number, work: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await work(next++);
  }));
}

async function post(url: string, key: string, payload: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(payload) });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function get(url: string, key: string): Promise<Record<string, unknown>> {
  return (await (await fetch(url, { headers: { authorization: `Bearer ${key}` } })).json()) as Record<string, unknown>;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
