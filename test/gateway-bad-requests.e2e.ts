/**
 * Whatever a caller sends, the gateway answers a 4xx in the OpenAI error
 * shape, never a 5xx: missing and bad keys, malformed JSON, wrong types,
 * oversized bodies, bad headers, bad admin input, bad report ranges. None of
 * them reaches the upstream.
 */
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ADMIN_KEY, call, createKey, startGw, startSim, type CreatedKey, type Gw, type Res, type SimulatorHandle } from './gateway-support/harness.js';

const LIMIT = 16 * 1024;
let sim: SimulatorHandle;
let gw: Gw;
let key: CreatedKey;

before(async () => {
  sim = await startSim();
  gw = await startGw(sim, { bodyLimitBytes: LIMIT });
  key = await createKey(gw, { tenant: 'bad-requests' });
  sim.resetStats();
});
after(async () => {
  await gw.close();
  await sim.close();
  // Nothing above may have reached the upstream.
});

/** A 4xx with `{error:{message,type,code,param}}`, and the expected status/code when given. */
function assertClientError(res: Res, status: number, code?: string): void {
  assert.ok(res.status >= 400 && res.status < 500, `expected a 4xx, got ${res.status}: ${res.text}`);
  assert.equal(res.status, status, res.text);
  assert.equal(typeof res.json?.error?.message, 'string', res.text);
  assert.equal(typeof res.json.error.type, 'string');
  assert.ok('code' in res.json.error && 'param' in res.json.error, res.text);
  if (code !== undefined) assert.equal(res.json.error.code, code, res.text);
  assert.ok(!res.text.includes(key.key.slice(18)), 'an error echoed the key');
}

const valid = { messages: [{ role: 'user', content: 'hi' }] };

function collect(res: IncomingMessage, resolve: (r: Res) => void): void {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => (text += c));
  res.on('end', () => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    resolve({ status: res.statusCode ?? 0, headers: new Headers(res.headers as Record<string, string>), json, text });
  });
}

/** A POST whose body goes out in chunks (Transfer-Encoding: chunked): the limit must hold without a Content-Length. */
function chunkedPost(base: string, apiKey: string, parts: Buffer[]): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' } }, (res) =>
      collect(res, resolve),
    );
    // The gateway may answer 413 and close before the last part is sent.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    for (const part of parts) req.write(part);
    req.end();
  });
}
const completions = (init: Parameters<typeof call>[2]) => call(gw.url, '/v1/chat/completions', { method: 'POST', ...init });

describe('missing and bad keys: 401', () => {
  const cases: [string, Record<string, string>, string][] = [
    ['no Authorization header', {}, 'missing_api_key'],
    ['Basic auth', { authorization: 'Basic dXNlcjpwYXNz' }, 'missing_api_key'],
    ['Bearer with nothing', { authorization: 'Bearer ' }, 'missing_api_key'],
    ['a random token', { authorization: 'Bearer sk-not-a-gateway-key-123456' }, 'invalid_api_key'],
    ['a well-formed key that does not exist', { authorization: `Bearer llmr_abcdefghijkl_${'x'.repeat(43)}` }, 'invalid_api_key'],
    ['a truncated real key', { authorization: '' }, 'invalid_api_key'],
    ['a 600-character token', { authorization: `Bearer ${'a'.repeat(600)}` }, 'invalid_api_key'],
  ];
  for (const [name, headers, code] of cases) {
    test(name, async () => {
      const h = name === 'a truncated real key' ? { authorization: `Bearer ${key.key.slice(0, -1)}` } : headers;
      const res = await completions({ body: valid, headers: h });
      assertClientError(res, 401, code);
      assert.equal(res.headers.get('x-should-retry'), 'false');
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    });
  }

  test('a bad key with a malformed or oversized body: still 401 (the body is never read)', async () => {
    assertClientError(await completions({ raw: '{"messages": [', headers: { authorization: 'Bearer nope-nope-nope' } }), 401);
    assertClientError(await completions({ raw: JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(LIMIT * 2) }] }) }), 401);
  });

  test('a 401 closes the connection only when an unread body is pending', async () => {
    const refused = (headers: Record<string, string | number>, body?: string) =>
      new Promise<Res>((resolve, reject) => {
        const req = request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer nope-nope-nope', ...headers } }, (res) => collect(res, resolve));
        req.on('error', reject);
        req.end(body);
      });
    const withBody = await refused({ 'content-type': 'application/json', 'content-length': 2 }, '{}');
    assertClientError(withBody, 401);
    assert.equal(withBody.headers.get('connection'), 'close');
    const withoutBody = await refused({ 'content-length': 0 });
    assertClientError(withoutBody, 401);
    assert.equal(withoutBody.headers.get('connection'), 'keep-alive');
  });

  test('percent-encoded paths do not slip past authentication', async () => {
    for (const path of ['/%61dmin/keys', '/admin%2Fkeys', '/%76%31/models', '/v1/%6dodels', '/v1/../admin/keys']) {
      const res = await call(gw.url, path);
      assert.equal(res.status, 401, `${path}: ${res.status} ${res.text}`);
    }
  });

  test('every /v1 route needs the key', async () => {
    for (const path of ['/v1/models', '/v1/usage', '/v1/policy', '/v1/nothing-here']) assertClientError(await call(gw.url, path), 401, 'missing_api_key');
  });
});

describe('malformed bodies: 400', () => {
  const cases: [string, string, string | undefined][] = [
    ['truncated JSON', '{"messages": [', undefined],
    ['not JSON at all', 'messages=hi', undefined],
    ['an empty body', '', undefined],
    ['a JSON array', '[1, 2]', 'invalid_body'],
    ['a JSON string', '"hello"', 'invalid_body'],
    ['JSON null', 'null', 'invalid_body'],
  ];
  for (const [name, raw, code] of cases) {
    test(name, async () => assertClientError(await completions({ key: key.key, raw }), 400, code));
  }

  test('a body sent as text/plain: 400 invalid_body; an unsupported content type: 415', async () => {
    assertClientError(await completions({ key: key.key, raw: JSON.stringify(valid), headers: { 'content-type': 'text/plain' } }), 400, 'invalid_body');
    assertClientError(await completions({ key: key.key, raw: '<xml/>', headers: { 'content-type': 'application/xml' } }), 415);
  });

  test('a body without a Content-Type: 415; no body at all: 400 invalid_body', async () => {
    const noType = await new Promise<Res>((resolve, reject) => {
      const req = request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key.key}`, 'content-length': 2 } }, (res) => collect(res, resolve));
      req.on('error', reject);
      req.end('{}');
    });
    assertClientError(noType, 415, 'unsupported_media_type');
    assertClientError(await completions({ key: key.key, method: 'POST' }), 400, 'invalid_body');
  });
});

describe('wrong types: 400 naming the field', () => {
  const cases: [string, unknown, string][] = [
    ['messages is a string', { messages: 'hi' }, 'messages'],
    ['messages is empty', { messages: [] }, 'messages'],
    ['messages missing', { model: 'auto' }, 'messages'],
    ['an unknown role', { messages: [{ role: 'wizard', content: 'hi' }] }, 'messages[0].role'],
    ['content is a number', { messages: [{ role: 'user', content: 42 }] }, 'messages[0].content'],
    ['temperature is a string', { ...valid, temperature: 'hot' }, 'temperature'],
    ['temperature out of range', { ...valid, temperature: 7 }, 'temperature'],
    ['max_tokens negative', { ...valid, max_tokens: -5 }, 'max_tokens'],
    ['max_tokens fractional', { ...valid, max_tokens: 1.5 }, 'max_tokens'],
    ['stream is a string', { ...valid, stream: 'yes' }, 'stream'],
    ['model is a number', { ...valid, model: 7 }, 'model'],
    ['tools is an object', { ...valid, tools: { name: 'x' } }, 'tools'],
    ['n other than 1', { ...valid, n: 3 }, 'n'],
    ['presence_penalty out of range', { ...valid, presence_penalty: 2.5 }, 'presence_penalty'],
    ['frequency_penalty is a string', { ...valid, frequency_penalty: 'some' }, 'frequency_penalty'],
    ['logit_bias beyond 100', { ...valid, logit_bias: { '50256': -101 } }, 'logit_bias.50256'],
    ['top_logprobs over 20', { ...valid, logprobs: true, top_logprobs: 21 }, 'top_logprobs'],
    ['parallel_tool_calls is a string', { ...valid, parallel_tool_calls: 'no' }, 'parallel_tool_calls'],
    ['metadata values must be strings', { ...valid, metadata: { run: 7 } }, 'metadata.run'],
  ];
  for (const [name, body, param] of cases) {
    test(name, async () => {
      const res = await completions({ key: key.key, body });
      assertClientError(res, 400, 'invalid_value');
      assert.equal(res.json.error.param, param);
      assert.equal(res.json.error.type, 'invalid_request_error');
    });
  }
});

describe('oversized bodies: 413', () => {
  test('a body over LLM_BODY_LIMIT_BYTES', async () => {
    const res = await completions({ key: key.key, body: { messages: [{ role: 'user', content: 'x'.repeat(LIMIT + 1) }] } });
    assertClientError(res, 413);
  });

  test('a chunked body (no Content-Length) that grows past the limit', async () => {
    const res = await chunkedPost(gw.url, key.key, [Buffer.from('{"messages":[{"role":"user","content":"'), Buffer.alloc(LIMIT, 'x'), Buffer.from('"}]}')]);
    assertClientError(res, 413, 'request_too_large');
  });

  test('a streaming request over the limit', async () => {
    const res = await completions({ key: key.key, body: { stream: true, messages: [{ role: 'user', content: 'x'.repeat(LIMIT * 4) }] } });
    assertClientError(res, 413);
  });
});

describe('bad headers, routes and queries', () => {
  test('x-feature too long or not printable ASCII: 400 invalid_header', async () => {
    assertClientError(await completions({ key: key.key, body: valid, headers: { 'x-feature': 'f'.repeat(200) } }), 400, 'invalid_header');
    assertClientError(await completions({ key: key.key, body: valid, headers: { 'x-session-id': 'caf\u00e9' } }), 400, 'invalid_header');
  });

  test('an unknown /v1 route with a key: 404; a wrong method: 404', async () => {
    assertClientError(await call(gw.url, '/v1/embeddings', { key: key.key, body: { input: 'x' } }), 404);
    assertClientError(await call(gw.url, '/v1/chat/completions', { key: key.key }), 404);
  });

  test('usage with a bad period or range: 400', async () => {
    assertClientError(await call(gw.url, '/v1/usage?period=year', { key: key.key }), 400, 'invalid_period');
    assertClientError(await call(gw.url, '/v1/usage?from=yesterday', { key: key.key }), 400, 'invalid_range');
    assertClientError(await call(gw.url, '/v1/usage?from=2026-02-01&to=2026-01-01', { key: key.key }), 400, 'invalid_range');
    assertClientError(await call(gw.url, '/admin/report?period=decade', { key: ADMIN_KEY }), 400, 'invalid_period');
  });
});

describe('bad admin input: 400', () => {
  const admin = (path: string, init: Parameters<typeof call>[2]) => call(gw.url, path, { key: ADMIN_KEY, ...init });
  const cases: [string, string, string, unknown, string | null][] = [
    ['malformed JSON', 'POST', '/admin/keys', '{"tenant":', null],
    ['no tenant', 'POST', '/admin/keys', {}, 'tenant'],
    ['a tenant with spaces', 'POST', '/admin/keys', { tenant: 'a b' }, 'tenant'],
    ['an unknown field', 'POST', '/admin/keys', { tenant: 'a', admin: true }, null],
    ['an unknown class', 'POST', '/admin/keys', { tenant: 'a', allowedClasses: ['nope'] }, 'allowedClasses.0'],
    ['an unknown model', 'POST', '/admin/keys', { tenant: 'a', allowedModels: ['nope'] }, 'allowedModels.0'],
    ['a default class outside the allowed ones', 'POST', '/admin/keys', { tenant: 'a', allowedClasses: ['general'], defaultClass: 'cheap' }, 'defaultClass'],
    ['a negative key budget', 'POST', '/admin/keys', { tenant: 'a', budget: { budgetUsd: -1 } }, 'budget.budgetUsd'],
    ['an expiry that is not a date', 'POST', '/admin/keys', { tenant: 'a', expiresAt: 'tomorrow' }, 'expiresAt'],
    ['a budget of zero', 'PUT', '/admin/tenants/acme/budget', { budgetUsd: 0 }, 'budgetUsd'],
    ['a budget as a string', 'PUT', '/admin/tenants/acme/budget', { budgetUsd: '10' }, 'budgetUsd'],
    ['an unknown period', 'PUT', '/admin/tenants/acme/budget', { budgetUsd: 10, period: 'year' }, 'period'],
    ['unordered thresholds', 'PUT', '/admin/tenants/acme/budget', { budgetUsd: 10, thresholds: { notice: 0.9, downgrade: 0.5 } }, 'thresholds'],
  ];
  for (const [name, method, path, body, param] of cases) {
    test(name, async () => {
      const res = await admin(path, typeof body === 'string' ? { method, raw: body } : { method, body });
      assertClientError(res, 400);
      if (param !== null) assert.equal(res.json.error.param, param, res.text);
    });
  }

  test('an unknown key id: 404; a tenant without a budget: 404', async () => {
    assertClientError(await admin('/admin/keys/zzzzzzzzzzzz', {}), 404, 'not_found');
    assertClientError(await admin('/admin/tenants/nobody/budget', {}), 404, 'not_found');
  });
});

test('none of the above reached the upstream', () => {
  assert.equal(sim.stats().requests, 0);
});
