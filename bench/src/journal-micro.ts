/**
 * What the routing-record journal adds per request, measured alone: the
 * append (the row serialized once and written, `writeSync` of one line to a
 * file, or an `XADD` written to the Redis connection without waiting for the
 * reply), plus its share of forgetting the rows once a batch of 500 is
 * stored. The row is a realistic one (one attempt, a planned route of two).
 * Prints one JSON object; Redis is measured when REDIS_URL answers.
 *
 * Run: npm run bench:journal
 * Env: JOURNAL_MICRO_ROWS (rows per batch, default 20000), JOURNAL_MICRO_BATCHES (default 7), REDIS_URL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WriteCoalescingRedis } from '@llm-router/nestjs/redis';
import { recordLine } from '../../apps/gateway/src/store/record-line.js';
import { FileRecordJournal, NoRecordJournal, type RecordJournal } from '../../apps/gateway/src/persistence/record-journal.js';
import { RedisRecordJournal } from '../../apps/gateway/src/persistence/redis-record-journal.js';
import type { RecordRow } from '../../apps/gateway/src/store/gateway-store.js';

const ROWS = Number(process.env.JOURNAL_MICRO_ROWS ?? 20_000);
const BATCHES = Number(process.env.JOURNAL_MICRO_BATCHES ?? 7);
const WRITER_BATCH = 500;

let seq = 0;
function realisticRow(): RecordRow {
  seq++;
  return {
    recordId: `Zk3pQm8sT2vX.${seq.toString(36)}`,
    requestId: `01a2496a-${seq.toString(16).padStart(4, '0')}-7fdf-842a-022ee977ce73`,
    startedAt: Date.now(),
    tenant: 'acme',
    keyId: 'key_4f9a1c2d',
    feature: 'support-bot',
    session: null,
    trafficClass: 'support-chat',
    criticality: 'critical',
    stream: false,
    outcome: 'success',
    errorCategory: null,
    errorMessage: null,
    primaryModel: 'sim-premium-a',
    primaryProvider: 'sim-openai',
    servedModel: 'sim-premium-a',
    servedProvider: 'sim-openai',
    upstreamModel: 'sim-premium-a',
    fallback: false,
    upstreamCalls: 1,
    promptTokens: 42,
    completionTokens: 9,
    usageEstimated: false,
    costUsd: 0.000261,
    latencyMs: 3.21,
    firstChunkMs: null,
    budgetTier: 'normal',
    budgetShare: 0.1234,
    budgetAction: null,
    detail: JSON.stringify({ plannedRoute: ['sim-premium-a', 'sim-premium-b'], excluded: [] }),
    attempts: [{ seq: 0, model: 'sim-premium-a', provider: 'sim-openai', outcome: 'success', category: null, status: null, code: null, latencyMs: 3.1, waitedMs: null }],
  };
}

/** Best batch, in µs per row: append every row, then forget them WRITER_BATCH at a time (as the writer does after each stored batch). */
async function measure(journal: RecordJournal, settle?: () => Promise<void>): Promise<{ appendUs: number; withWrittenUs: number }> {
  let bestAppend = Infinity;
  let bestTotal = Infinity;
  for (let b = 0; b < BATCHES; b++) {
    const rows = Array.from({ length: ROWS }, realisticRow);
    const t0 = process.hrtime.bigint();
    for (const row of rows) journal.append(row);
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < rows.length; i += WRITER_BATCH) journal.written(rows.slice(i, i + WRITER_BATCH));
    const t2 = process.hrtime.bigint();
    await settle?.();
    bestAppend = Math.min(bestAppend, Number(t1 - t0) / 1_000 / ROWS);
    bestTotal = Math.min(bestTotal, Number(t2 - t0) / 1_000 / ROWS);
  }
  return { appendUs: round(bestAppend), withWrittenUs: round(bestTotal) };
}

const round = (us: number) => Math.round(us * 100) / 100;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'journal-micro-'));
  const result: Record<string, unknown> = { rows: ROWS, batches: BATCHES, lineBytes: recordLine(realisticRow()).length };
  try {
    result.none = await measure(new NoRecordJournal());
    const file = new FileRecordJournal(join(dir, 'file'));
    result.file = await measure(file);
    await file.close();
    const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    // The gateway's kind of connection (GatewayRedis), each XADD written at once: as the gateway's goes out while calls come one
    // at a time (at the end of the ledger's step); under load a pass's entries share one write. Connected below.
    const client = new WriteCoalescingRedis(url, { maxRetriesPerRequest: 1, connectTimeout: 1_000 }, ['xadd']);
    client.on('error', () => undefined);
    try {
      await client.ping();
      const key = `journal-micro-${process.pid}:records:journal`;
      const redis = new RedisRecordJournal(client, key, new NoRecordJournal(), { orphanAfterMs: 60_000 });
      // The replies (and the XDELs) are waited for between batches, outside the timed part.
      result.redis = await measure(redis, async () => void (await client.ping()));
      await client.del(key);
    } catch (err) {
      result.redis = `not measured: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      client.disconnect();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result, null, 2));
}

await main();
