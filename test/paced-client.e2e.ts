/**
 * The paced client (bench/src/load.ts, the soak's and the fixed-rate section's load): an open-loop load at a fixed
 * rate, each request sent no earlier than its due time (the n-th n / rate seconds after the start, not autocannon's
 * share of a second sent at once), and every answer handed to the per-response callback with its status; behind a
 * target slower than the rate, requests wait for a free connection in the client, and what none came free for by the
 * load's end (plus a second) is not sent. Timing is checked as bounds a loaded machine cannot break: it only makes
 * requests later, and a slow server slower.
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
      // A minute's grace: a stalled machine must not turn due requests into unsent ones here.
    }, 60_000);
    assert.equal(arrivals.length, 100);
    // By the k-th arrival (from 0) k + 1 requests had gone out, which the client does once (k + 1) / rate s have passed.
    arrivals.forEach((at, k) => assert.ok(at - start >= ((k + 1) * 1000) / rate, `request ${k + 1} arrived ${(at - start).toFixed(2)} ms after the start, before its due time ${((k + 1) * 1000) / rate} ms`));
    assert.equal(statuses.length, 100);
    assert.equal(statuses.filter((s) => s === 503).length, 25);
    assert.equal(statuses.filter((s) => s === 200).length, 75);
    assert.deepEqual({ requests: r.requests, ok: r.ok, non2xx: r.non2xx, errors: r.errors, unsent: r.unsent }, { requests: 100, ok: 75, non2xx: 25, errors: 0, unsent: 0 });
    // Lateness: sent at or after the due time, never before (a little float rounding aside).
    assert.ok(lates.every((l) => l >= -1e-9));
    assert.ok(r.lateP99! >= r.lateP50! && r.lateP50! >= -1e-9);
  } finally {
    server.close();
  }
});

test('behind a server slower than the rate, at most `connections` requests are out at once and what no connection came free for by the end is not sent', async () => {
  let open = 0;
  let mostOpen = 0;
  // Each answer takes 300 ms: two connections answer at most 2 × (1.2 s / 0.3 s) = 8 of the 20 due in the load's 0.2 s and the second after it.
  const server = createServer((req, res) => {
    mostOpen = Math.max(mostOpen, ++open);
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        open--;
        res.end('{}');
      }, 300),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const r = await runPacedClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, headers: {}, body: '{}' }, 2, 100, 0.2);
    assert.ok(mostOpen <= 2, `${mostOpen} at once`);
    assert.ok(r.requests <= 8 && r.requests >= 1, `${r.requests} answered`);
    assert.equal(r.requests + r.errors + r.unsent!, 20);
    assert.ok(r.unsent! >= 12);
    // A request that waited for a connection counts the wait as lateness: the third (due at 30 ms) waited for the first
    // answer (at 310 ms at the earliest).
    if (r.requests + r.errors >= 3) assert.ok(r.lateP99! >= 280, `late p99 ${r.lateP99} ms`);
  } finally {
    server.close();
  }
});
