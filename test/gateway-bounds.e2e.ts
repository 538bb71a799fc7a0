/**
 * Issue #13, items 6-8: one caller cannot crash a request into a 500 or stall
 * everyone. Bodies are bounded in depth and size before anything walks them,
 * admin input in range, Fastify's own errors in the OpenAI shape, slow
 * clients timed out, connections capped. Real gateway, real sockets.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ADMIN_KEY, call, createKey, startGw, startSim, type CreatedKey, type Gw, type Res, type SimulatorHandle } from './gateway-support/harness.js';

let sim: SimulatorHandle;
let gw: Gw;
let key: CreatedKey;

before(async () => {
  sim = await startSim();
  gw = await startGw(sim, { requestTimeoutMs: 1_000, headersTimeoutMs: 1_000 });
  key = await createKey(gw, { tenant: 'bounds' });
  sim.resetStats();
});
after(async () => {
  await gw.close();
  await sim.close();
});

function assertOpenAiError(res: Res, status: number, code: string): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.error?.code, code, res.text);
  assert.equal(typeof res.json.error.message, 'string');
  assert.equal(res.json.error.type, 'invalid_request_error');
}

/** Arrays nested `depth` deep, as JSON text (no recursion on either side). */
const deepArrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const completions = (raw: string) => call(gw.url, '/v1/chat/completions', { key: key.key, raw });
const withTool = (parameters: string) => `{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${parameters}}}]}`;

describe('bodies past their bounds: 400, never a 500, never an upstream call', () => {
  test('a tool schema nested 5,000 levels deep', async () => {
    const res = await completions(withTool(`{"a":${deepArrays(5_000)}}`));
    assertOpenAiError(res, 400, 'json_too_deep');
  });

  test('the same nesting in another parameter is the caller\'s error, not an attempt on a provider', async () => {
    const res = await completions(`{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":${deepArrays(5_000)}}}}`);
    assertOpenAiError(res, 400, 'json_too_deep');
    const record = gw.records.find((r) => r.attempts.some((a) => a.outcome !== 'success'));
    assert.equal(record, undefined, 'no failed attempt was recorded');
  });

  test('a tool schema with 100,000 properties', async () => {
    const properties = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`p${i}`, { type: 'string' }]));
    const res = await completions(withTool(JSON.stringify({ type: 'object', properties })));
    assertOpenAiError(res, 400, 'json_too_large');
  });

  test('deep bodies on the framework\'s routes (admin, sample endpoints) too', async () => {
    assertOpenAiError(await call(gw.url, '/admin/keys', { key: ADMIN_KEY, raw: `{"tenant":"a","name":${deepArrays(5_000)}}` }), 400, 'json_too_deep');
    assertOpenAiError(await call(gw.url, '/support/chat', { key: key.key, raw: `{"message":${deepArrays(5_000)}}` }), 400, 'json_too_deep');
  });

  test('a realistic large request stays within the defaults', async () => {
    const tools = Array.from({ length: 128 }, (_, i) => ({
      type: 'function',
      function: { name: `tool_${i}`, parameters: { type: 'object', properties: Object.fromEntries(Array.from({ length: 12 }, (_, j) => [`arg${j}`, { type: 'string', description: 'd' }])) } },
    }));
    const messages = Array.from({ length: 200 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i}` }));
    const res = await call(gw.url, '/v1/chat/completions', { key: key.key, body: { messages, tools } });
    assert.equal(res.status, 200, res.text);
  });
});

describe('admin input in range', () => {
  test('expiresInSeconds 9e15: 400, nothing stored, and the key list still answers', async () => {
    const res = await call(gw.url, '/admin/keys', { key: ADMIN_KEY, body: { tenant: 'far', expiresInSeconds: 9e15 } });
    assertOpenAiError(res, 400, 'invalid_value');
    assert.equal(res.json.error.param, 'expiresInSeconds');
    const list = await call(gw.url, '/admin/keys', { key: ADMIN_KEY });
    assert.equal(list.status, 200, list.text);
    assert.ok(!list.json.data.some((k: { tenant: string }) => k.tenant === 'far'));
  });

  test('a path segment over 256 characters: 414 in the OpenAI shape', async () => {
    assertOpenAiError(await call(gw.url, `/admin/keys/${'x'.repeat(300)}`, { key: ADMIN_KEY }), 414, 'uri_too_long');
    assertOpenAiError(await call(gw.url, `/admin/tenants/${'x'.repeat(300)}/budget`, { key: ADMIN_KEY }), 414, 'uri_too_long');
  });
});

/** A raw connection: what it received and whether the server closed it. */
function rawConnection(base = gw.url): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const { port, hostname } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('connect', () => resolve({ socket, received: () => text, closed }));
    socket.on('error', reject);
  });
}

describe('what Node would answer itself, answered in the OpenAI shape', () => {
  /** One raw request; resolves with the status line and the JSON body once the server closes or answers. */
  async function raw(text: string): Promise<{ statusLine: string; body: { error?: { code: string } } }> {
    const c = await rawConnection();
    c.socket.write(text);
    await c.closed;
    const received = c.received();
    return { statusLine: received.slice(0, received.indexOf('\r\n')), body: JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4)) };
  }

  test('HTTP/1.1 without Host: 400 missing_host', async () => {
    const res = await raw('GET /v1/models HTTP/1.1\r\n\r\n');
    assert.match(res.statusLine, /^HTTP\/1\.1 400 /);
    assert.equal(res.body.error?.code, 'missing_host');
  });

  test('an Expect other than 100-continue: 417 expectation_failed', async () => {
    const res = await raw('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\nContent-Length: 2\r\n\r\n{}');
    assert.match(res.statusLine, /^HTTP\/1\.1 417 /);
    assert.equal(res.body.error?.code, 'expectation_failed');
  });

  test('a body somewhat over the limit: the client, still sending, gets the 413, not a reset connection', async () => {
    const body = JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(4.5 * 1024 * 1024) }] });
    for (const path of ['/v1/chat/completions', '/support/chat']) {
      const res = await call(gw.url, path, { key: key.key, raw: body });
      assertOpenAiError(res, 413, res.json?.error?.code);
    }
  });
});

describe('slow clients and too many connections', () => {
  test('a body that never finishes: 408 in the OpenAI shape, connection closed', async () => {
    const c = await rawConnection();
    c.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key.key}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"messages":`);
    await c.closed;
    const text = c.received();
    assert.match(text, /^HTTP\/1\.1 408 /);
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: { code: string } };
    assert.equal(body.error.code, 'request_timeout');
  });

  test('headers that never finish: 408, connection closed', async () => {
    const c = await rawConnection();
    c.socket.write('GET /v1/models HTTP/1.1\r\nHost: x\r\n');
    await c.closed;
    assert.match(c.received(), /^HTTP\/1\.1 408 /);
  });

  test('connections beyond LLM_MAX_CONNECTIONS are closed on arrival; a freed slot serves again', async () => {
    const capped = await startGw(sim, { maxConnections: 5 });
    try {
      const held = await Promise.all(Array.from({ length: 5 }, () => rawConnection(capped.url)));
      // The server counts a connection once it has accepted it: let all five be accepted.
      await new Promise((r) => setTimeout(r, 200));
      const extra = await rawConnection(capped.url);
      await extra.closed;
      assert.equal(extra.received(), '', 'closed without an answer');
      for (const c of held) c.socket.destroy();
      await Promise.all(held.map((c) => c.closed));
      await new Promise((r) => setTimeout(r, 100));
      const res = await call(capped.url, '/v1/models', { key: (await createKey(capped, { tenant: 'capped' })).key });
      assert.equal(res.status, 200);
    } finally {
      await capped.close();
    }
  });
});

test('none of the refused requests reached the upstream', () => {
  // Only "a realistic large request" was served.
  assert.equal(sim.stats().requests, 1);
});
