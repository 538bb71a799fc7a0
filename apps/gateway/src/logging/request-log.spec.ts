import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { RoutingRecord } from '@llm-router/nestjs';
import { RequestLog, requestLogLine } from './request-log.js';

const base: RoutingRecord = {
  requestId: '019abf00-0000-7000-8000-000000000001',
  startedAt: '2026-11-25T18:00:00.000Z',
  tenant: 'acme',
  trafficClass: 'support-chat',
  stream: false,
  plannedRoute: ['premium-a', 'premium-b'],
  excluded: [],
  attempts: [
    { model: 'premium-a', provider: 'openai', outcome: 'failure', category: 'transient', status: 503, latencyMs: 12.6 },
    { model: 'premium-b', provider: 'anthropic', outcome: 'success', latencyMs: 40.2 },
  ],
  servedBy: { model: 'premium-b', provider: 'anthropic', upstreamModel: 'claude-x' },
  fallback: true,
  outcome: 'success',
  promptTokens: 12,
  completionTokens: 20,
  usageEstimated: false,
  costUsd: 0.000336,
  latencyMs: 53.4,
};

describe('requestLogLine', () => {
  it('writes one JSON object with every field of the record the log promises', () => {
    const line = JSON.parse(requestLogLine({ ...base, budget: { tier: 'downgrade', shareUsed: 0.81, budgetUsd: 100, spentUsd: 81, action: 'downgraded to cheaper route' } }, 'key1', 'T'));
    assert.deepEqual(line, {
      time: 'T',
      level: 'info',
      context: 'Request',
      msg: 'llm.request',
      requestId: base.requestId,
      tenant: 'acme',
      keyId: 'key1',
      feature: null,
      session: null,
      class: 'support-chat',
      stream: false,
      outcome: 'success',
      model: 'premium-b',
      provider: 'anthropic',
      fallback: true,
      plannedRoute: ['premium-a', 'premium-b'],
      attempts: [
        { model: 'premium-a', outcome: 'failure', category: 'transient', status: 503, latencyMs: 13 },
        { model: 'premium-b', outcome: 'success', latencyMs: 40 },
      ],
      errorCategory: null,
      error: null,
      promptTokens: 12,
      completionTokens: 20,
      costUsd: 0.000336,
      latencyMs: 53,
      budget: { tier: 'downgrade', shareUsed: 0.81, action: 'downgraded to cheaper route' },
    });
  });

  it('escapes what callers chose (tenant, feature, session) and redacts the error', () => {
    const tricky = 'a"b\\c\nd\u0000e\u2028f ünïcode 🚀';
    const line = requestLogLine(
      {
        ...base,
        feature: tricky,
        session: '"},"injected":true,"x":{"',
        outcome: 'failure',
        servedBy: undefined,
        fallback: false,
        attempts: [],
        errorCategory: 'provider_misconfigured',
        errorMessage: 'upstream said: invalid key sk-abcdefghijklmnop',
      },
      undefined,
      'T',
    );
    assert.equal(line.includes('\n'), false);
    const parsed = JSON.parse(line);
    assert.equal(parsed.feature, tricky);
    assert.equal(parsed.session, '"},"injected":true,"x":{"');
    assert.equal(parsed.injected, undefined);
    assert.equal(parsed.level, 'warn');
    assert.equal(parsed.keyId, null);
    assert.equal(parsed.model, null);
    assert.equal(parsed.error, 'upstream said: invalid key sk-[redacted]');
    assert.equal(parsed.errorCategory, 'provider_misconfigured');
  });

  it('writes a value it has written before (a tenant, a model, a feature) escaped the same, each line with its own values', () => {
    const tricky = 'a"b\\c\nd\u0000e\u2028f';
    const lines = [tricky, 'plain', tricky, `${tricky}!`].map((tenant, i) =>
      JSON.parse(requestLogLine({ ...base, tenant, feature: tenant, trafficClass: `class-${tenant}`, plannedRoute: [tenant, 'premium-b'] }, `key-${i % 2}`, 'T')),
    );
    lines.forEach((line, i) => {
      const tenant = [tricky, 'plain', tricky, `${tricky}!`][i];
      assert.deepEqual([line.tenant, line.feature, line.class, line.plannedRoute[0], line.keyId], [tenant, tenant, `class-${tenant}`, tenant, `key-${i % 2}`]);
    });
  });

  it('adds firstChunkMs for streams and writes numbers JSON can carry', () => {
    const parsed = JSON.parse(requestLogLine({ ...base, stream: true, firstChunkMs: 7.7, costUsd: Number.NaN, latencyMs: Number.POSITIVE_INFINITY }, 'k', 'T'));
    assert.equal(parsed.stream, true);
    assert.equal(parsed.firstChunkMs, 8);
    assert.equal(parsed.costUsd, null);
    assert.equal(parsed.latencyMs, null);
    assert.equal('budget' in parsed, false);
  });
});

describe('RequestLog', () => {
  it('joins lines and writes them in one chunk on flush, each stamped with an ISO time', () => {
    const chunks: string[] = [];
    const log = new RequestLog((c) => chunks.push(c), 60_000);
    log.write(base, 'k1');
    log.write({ ...base, requestId: 'second' }, 'k2');
    assert.equal(chunks.length, 0);
    log.flush();
    assert.equal(chunks.length, 1);
    const lines = chunks[0]!.trimEnd().split('\n').map((l) => JSON.parse(l) as { requestId: string; time: string });
    assert.deepEqual(lines.map((l) => l.requestId), [base.requestId, 'second']);
    for (const l of lines) assert.ok(Math.abs(Date.parse(l.time) - Date.now()) < 5_000, l.time);
  });

  it('keeps the bytes of every line as written, characters beyond ASCII included, in the order written', () => {
    const chunks: string[] = [];
    const log = new RequestLog((c) => chunks.push(c), 60_000);
    const records = ['ünïcode 🚀 \u2028', 'plain', '日本語'].map((feature, i) => ({ ...base, requestId: `r${i}`, feature }));
    for (const r of records) log.write(r, 'k');
    log.flush();
    log.flush(); // nothing left: no empty chunk
    assert.equal(chunks.length, 1);
    const lines = chunks[0]!.split('\n');
    assert.equal(lines.pop(), '');
    assert.deepEqual(lines.map((l) => JSON.parse(l).feature), records.map((r) => r.feature));
    // The same text as the line function's, but for the time stamped on each.
    assert.deepEqual(lines.map((l) => l.replace(/"time":"[^"]*"/, '"time":"T"')), records.map((r) => requestLogLine(r, 'k', 'T')));
  });

  it('writes what it holds before a line that might not fit, and a line longer than the buffer alone, in order', () => {
    const chunks: string[] = [];
    const length = requestLogLine({ ...base, requestId: 'r0' }, 'k', new Date().toISOString()).length;
    // Room for a line as written and one more at the most UTF-8 could take (3 bytes a character), not for a third.
    const log = new RequestLog((c) => chunks.push(c), 60_000, length + 1 + length * 3 + 1 + 10);
    for (let i = 0; i < 3; i++) log.write({ ...base, requestId: `r${i}` }, 'k');
    assert.equal(chunks.length, 1);
    log.write({ ...base, requestId: 'long', feature: 'x'.repeat(length * 2) }, 'k');
    log.write({ ...base, requestId: 'after' }, 'k');
    log.flush();
    const ids = chunks.map((c) => c.trimEnd().split('\n').map((l) => JSON.parse(l).requestId as string));
    assert.deepEqual(ids, [['r0', 'r1'], ['r2'], ['long'], ['after']]);
    assert.ok(chunks.every((c) => c.endsWith('\n')));
  });

  it('holds the lines waiting for the flush outside the JS heap (the young collections copied them as strings)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const log = new RequestLog(() => undefined, 60_000);
    const lines = 60;
    const lineBytes = requestLogLine(base, 'k', 'T').length;
    // A first round makes the buffer and compiles what writing takes, so that neither counts below.
    for (let i = 0; i < lines; i++) log.write({ ...base, requestId: `${base.requestId}-${i}` }, 'k');
    log.flush();
    gc();
    const before = getHeapStatistics().used_heap_size;
    for (let i = 0; i < lines; i++) log.write({ ...base, requestId: `${base.requestId}-${i}` }, 'k');
    gc();
    const held = getHeapStatistics().used_heap_size - before;
    log.flush();
    // Kept as strings, the lines alone would be lines × lineBytes (~45 kB); their bytes cost the heap nothing.
    assert.ok(held < (lines * lineBytes) / 4, `${held} bytes of heap held for ${lines} lines of ${lineBytes}`);
  });

  it('hands the standard output a copy of the bytes: a pipe may still hold them when the buffer is written again', (t) => {
    const given: Buffer[] = [];
    t.mock.method(process.stdout, 'write', (chunk: Buffer) => given.push(chunk) > 0);
    const log = new RequestLog(undefined, 60_000);
    log.write({ ...base, requestId: 'first' }, 'k');
    log.flush();
    const first = Buffer.from(given[0]!);
    log.write({ ...base, requestId: 'other' }, 'k');
    log.flush();
    t.mock.restoreAll();
    assert.equal(given.length, 2);
    assert.ok(Buffer.isBuffer(given[0]));
    assert.deepEqual(given[0], first, 'the bytes written first changed under the standard output');
    assert.equal(JSON.parse(given[0]!.toString()).requestId, 'first');
  });
});
