/**
 * Issue #13, item 13: SIGTERM took 68 s with ordinary keep-alive clients and
 * did not finish within 100 s with one slow-body client. Shutdown (what
 * SIGTERM triggers through Nest's shutdown hooks) is now bounded by
 * LLM_SHUTDOWN_GRACE_MS: idle keep-alive connections close at once, no new
 * connection is accepted, calls in flight get the grace period, then a JSON
 * call still waiting gets a 503 and a stream an explicit error event, and
 * every connection closes. Real gateway, real sockets, real simulator.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { call, createKey, simFault, startGw, startSim, type Gw, type SimulatorHandle } from './gateway-support/harness.js';

let sim: SimulatorHandle;
let gw: Gw;

before(async () => {
  sim = await startSim();
  gw = await startGw(sim, { shutdownGraceMs: 1_000 });
});
after(async () => {
  await gw.close();
  await sim.close();
});

/** A POST whose response is read as it arrives; resolves with everything once the server ends it. */
function post(key: string, body: unknown, onData: (text: string) => void): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        onData(text);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

test('calls still in flight when the grace is over end with an explicit error; idle and slow clients are let go; close returns', async () => {
  const { key } = await createKey(gw, { tenant: 'closing' });
  const address = new URL(gw.url);

  // A stream that would take 10 s: 20 chunks, 500 ms apart.
  let streamStarted!: () => void;
  const started = new Promise<void>((r) => (streamStarted = r));
  const stream = post(key, { stream: true, messages: [{ role: 'user', content: `long ${simFault('premium-a', { chunks: 20, chunkDelayMs: 500 })}` }] }, (text) => {
    if (text.includes('data: {')) streamStarted();
  });
  // A JSON call whose provider never answers (the class's attempt timeout is 3 s, past the grace).
  const hanging = post(key, { messages: [{ role: 'user', content: `wait ${simFault('premium-a', { hang: true })}` }] }, () => undefined);
  // An idle keep-alive connection, and a client that sends half a body and stalls.
  const idle = connect(Number(address.port), address.hostname);
  const idleClosed = new Promise<void>((r) => idle.on('close', () => r()));
  idle.on('error', () => undefined);
  idle.resume(); // read (and drop) what arrives, so that the end is seen
  idle.write(`GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n\r\n`);
  const slow = connect(Number(address.port), address.hostname);
  const slowClosed = new Promise<void>((r) => slow.on('close', () => r()));
  slow.on('error', () => undefined);
  slow.resume();
  slow.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"messages":`);
  await started;

  await gw.close();

  const streamed = await stream;
  assert.equal(streamed.status, 200);
  assert.match(streamed.text, /data: \{"error":\{[^\n]*"code":"gateway_shutting_down"/, 'the stream ends with an explicit error event');
  assert.ok(!streamed.text.includes('[DONE]'));
  const json = await hanging;
  assert.equal(json.status, 503, json.text);
  assert.equal(JSON.parse(json.text).error.code, 'gateway_shutting_down');
  await idleClosed;
  await slowClosed;
  // Both calls were aborted, and recorded as such.
  const closing = gw.records.filter((r) => r.tenant === 'closing');
  assert.equal(closing.length, 2);
  assert.ok(closing.every((r) => r.outcome !== 'success'));
});

test('after the close nothing is accepted', async () => {
  await assert.rejects(call(gw.url, '/v1/models'));
});
