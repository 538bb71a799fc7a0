/**
 * The paced client (bench/src/load.ts, the soak's and the fixed-rate section's load): an open-loop load at a fixed
 * rate, each request sent no earlier than its due time (the n-th n / rate seconds after the start, not autocannon's
 * share of a second sent at once), and every answer handed to the per-response callback with its status. The pacing
 * is checked as a lower bound only, which a loaded machine cannot break: it only makes requests later.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { runPacedClient } from '../bench/src/load.js';

test('the n-th request reaches the server no earlier than n / rate seconds after the start; each answer reaches the callback with its status', async () => {
  const arrivals: number[] = [];
  let answered = 0;
  const server = createServer((req, res) => {
    arrivals.push(performance.now());
    req.resume();
    req.on('end', () => {
      res.statusCode = ++answered % 4 === 0 ? 503 : 200;
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const rate = 200;
    const statuses: number[] = [];
    const lates: number[] = [];
    const start = performance.now();
    // 100 requests over 32 connections: a burst at the start would put 32 of them on the wire at once.
    const r = await runPacedClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, headers: {}, body: '{}' }, 32, rate, 0.5, (status, ms, lateMs) => {
      statuses.push(status);
      lates.push(lateMs);
      assert.ok(ms >= 0);
    });
    assert.equal(arrivals.length, 100);
    // By the k-th arrival (from 0) k + 1 requests had gone out, which the client does once (k + 1) / rate s have passed.
    arrivals.forEach((at, k) => assert.ok(at - start >= ((k + 1) * 1000) / rate, `request ${k + 1} arrived ${(at - start).toFixed(2)} ms after the start, before its due time ${((k + 1) * 1000) / rate} ms`));
    assert.equal(statuses.length, 100);
    assert.equal(statuses.filter((s) => s === 503).length, 25);
    assert.equal(statuses.filter((s) => s === 200).length, 75);
    assert.deepEqual({ requests: r.requests, ok: r.ok, non2xx: r.non2xx, errors: r.errors }, { requests: 100, ok: 75, non2xx: 25, errors: 0 });
    // Lateness: sent at or after the due time, never before (a little float rounding aside).
    assert.ok(lates.every((l) => l >= -1e-9));
    assert.ok(r.lateP99! >= r.lateP50! && r.lateP50! >= -1e-9);
  } finally {
    server.close();
  }
});
