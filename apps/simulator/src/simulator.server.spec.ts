import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { FaultRuleError } from './fault-rules.js';
import { startSimulator, type SimulatorHandle } from './simulator.server.js';
import { ANTHROPIC_HEADERS, call, eventually, parseSse, postJson } from './spec-helpers.js';

let sim: SimulatorHandle;
let openai: string;
let anthropic: string;

before(async () => {
  sim = await startSimulator();
  openai = `${sim.url}/openai/v1/chat/completions`;
  anthropic = `${sim.url}/anthropic/v1/messages`;
});
after(() => sim.close());
beforeEach(() => {
  sim.clearFaults();
  sim.resetStats();
});

const ask = (model = 'gpt-4o', text = 'hello', extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: text }], ...extra });
const askClaude = (text = 'hello', extra: Record<string, unknown> = {}) => ({
  model: 'claude-haiku',
  max_tokens: 64,
  messages: [{ role: 'user', content: text }],
  ...extra,
});
const contentChunks = (body: string) =>
  parseSse(body)
    .filter((f) => f.data !== '[DONE]')
    .map((f) => JSON.parse(f.data))
    .filter((c) => c.choices?.[0]?.delta?.content);

describe('simulator server: handle and lifecycle', () => {
  it('listens on an ephemeral 127.0.0.1 port and answers health', async () => {
    assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(sim.url, `http://127.0.0.1:${sim.port}`);
    const res = await call(`${sim.url}/_sim/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { status: 'ok' });
    assert.equal(res.headers.connection, 'keep-alive');
  });

  it('keeps the bodies it received, newest first, as sent (GET /_sim/requests)', async () => {
    await postJson(openai, ask('gpt-4o', 'first marker'));
    await postJson(anthropic, askClaude('second marker'), { ...ANTHROPIC_HEADERS, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    await call(openai, { method: 'POST', body: '{not json' });
    const { requests } = JSON.parse((await call(`${sim.url}/_sim/requests`)).body);
    assert.equal(requests[0].body, '{not json');
    assert.equal(requests[1].format, 'anthropic');
    assert.equal(requests[1].traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.equal(requests[2].traceparent, undefined);
    assert.deepEqual(requests[1].body.messages, [{ role: 'user', content: 'second marker' }]);
    assert.equal(requests[2].format, 'openai');
    assert.equal(requests[2].body.messages[0].content, 'first marker');
    assert.ok(requests[1].seq > requests[2].seq);
  });

  it('takes initial faults, validates them, and closes idempotently even with a hung request', async () => {
    await assert.rejects(startSimulator({ faults: [{ fault: { error: 'nope' as never } }] }), FaultRuleError);
    const other = await startSimulator({ faults: [{ match: { model: 'm' }, fault: { hang: true } }] });
    const hung = call(`${other.url}/openai/v1/chat/completions`, { body: ask('m') }).catch((err: Error) => err);
    await eventually(() => other.stats().inFlight === 1);
    const started = Date.now();
    await Promise.all([other.close(), other.close()]);
    assert.ok(Date.now() - started < 500, 'close does not wait for the hung request');
    assert.ok((await hung) instanceof Error);
  });

  it('answers unknown routes with 404 JSON', async () => {
    for (const path of ['/', '/v1/chat/completions', '/_sim/nope']) {
      const res = await call(`${sim.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.ok(JSON.parse(res.body).error.message.includes('Not found'));
    }
  });

  it('serves concurrent requests', async () => {
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => postJson(openai, ask(`m${i % 4}`, `q${i}`, { stream: i % 2 === 0 }))));
    assert.ok(replies.every((r) => r.status === 200));
    const stats = sim.stats();
    assert.equal(stats.requests, 40);
    assert.deepEqual(stats.byModel, { m0: 10, m1: 10, m2: 10, m3: 10 });
    assert.equal(stats.inFlight, 0);
  });
});

describe('simulator server: faults', () => {
  it('sends Retry-After (and retry-after-ms for OpenAI)', async () => {
    sim.addFaults({ fault: { error: 'rate_limit', retryAfter: 7 } });
    const a = await postJson(openai, ask());
    assert.equal(a.status, 429);
    assert.equal(a.headers['retry-after'], '7');
    assert.equal(a.headers['retry-after-ms'], '7000');
    const b = await postJson(anthropic, askClaude(), ANTHROPIC_HEADERS);
    assert.equal(b.status, 429);
    assert.equal(b.headers['retry-after'], '7');
    assert.equal(b.headers['retry-after-ms'], undefined);
  });

  it('applies a rule to the next N matching requests only (times)', async () => {
    const [id] = sim.addFaults({ match: { model: 'gpt-4o' }, times: 2, fault: { error: 'overloaded' } });
    assert.equal((await postJson(openai, ask('gpt-4o-mini'))).status, 200, 'other model untouched');
    assert.equal((await postJson(openai, ask())).status, 503);
    assert.equal(sim.faults().find((r) => r.id === id)?.remaining, 1);
    assert.equal((await postJson(openai, ask())).status, 503);
    assert.equal((await postJson(openai, ask())).status, 200);
    assert.equal(sim.faults().length, 0);
    assert.equal(sim.stats().faultsInjected, 2);
  });

  it('delays headers by latencyMs', async () => {
    sim.addFaults({ times: 1, fault: { latencyMs: 120 } });
    let started = Date.now();
    const slow = await postJson(openai, ask());
    assert.equal(slow.status, 200);
    assert.ok(Date.now() - started >= 110, `took ${Date.now() - started}ms`);
    started = Date.now();
    await postJson(openai, ask());
    assert.ok(Date.now() - started < 100);
  });

  it('hangs: the client timeout fires before the first byte, and its disconnect counts as an abort', async () => {
    sim.addFaults({ fault: { hang: true } });
    const pending = call(openai, { body: ask(), timeoutMs: 100 });
    await eventually(() => sim.stats().inFlight === 1);
    await assert.rejects(pending, (err: NodeJS.ErrnoException) => err.code === 'CLIENT_TIMEOUT');
    await eventually(() => sim.stats().clientAborts === 1 && sim.stats().inFlight === 0);
  });

  it('resets the connection without a response', async () => {
    sim.addFaults({ fault: { reset: true } });
    await assert.rejects(call(openai, { body: ask() }), (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET');
    await assert.rejects(call(anthropic, { body: askClaude(), headers: ANTHROPIC_HEADERS }), (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET');
    await eventually(() => sim.stats().inFlight === 0);
    assert.equal(sim.stats().clientAborts, 0, 'our own reset is not a client abort');
    assert.equal(sim.stats().faultsInjected, 2);
  });

  it('cuts a stream after N content chunks (streamCutAfter), with and without chunk delays', async () => {
    for (const chunkDelayMs of [undefined, 5]) {
      sim.clearFaults();
      sim.addFaults({ fault: { streamCutAfter: 3, chunkDelayMs } });
      const res = await call(openai, { body: ask('gpt-4o', 'hello', { stream: true }) });
      assert.equal(res.status, 200);
      assert.equal(res.complete, false, 'body ended abruptly');
      assert.equal(contentChunks(res.body).length, 3);
      assert.ok(!res.body.includes('[DONE]'));
    }
    await eventually(() => sim.stats().inFlight === 0);
    assert.equal(sim.stats().clientAborts, 0);
  });

  it('cuts an Anthropic stream before any content with streamCutAfter 0', async () => {
    sim.addFaults({ fault: { streamCutAfter: 0 } });
    const res = await call(anthropic, { body: askClaude('hi', { stream: true }), headers: ANTHROPIC_HEADERS });
    assert.equal(res.status, 200);
    assert.equal(res.complete, false);
    assert.deepEqual(
      parseSse(res.body).map((f) => f.event),
      ['message_start', 'content_block_start', 'ping'],
    );
  });

  it('stream faults leave non-streaming requests alone, and match.stream selects streams', async () => {
    sim.addFaults([{ match: { stream: true }, fault: { error: 'server_error' } }, { fault: { streamCutAfter: 1 } }]);
    const plain = await postJson(openai, ask());
    assert.equal(plain.status, 200);
    assert.equal(plain.json.choices[0].message.content, 'Simulated reply from gpt-4o: hello');
    assert.equal((await postJson(openai, ask('gpt-4o', 'x', { stream: true }))).status, 500);
  });

  it('paces chunks with chunkDelayMs and sends streamErrorAfter from the slow path', async () => {
    sim.addFaults({ times: 1, fault: { chunks: 4, chunkDelayMs: 25 } });
    let started = Date.now();
    const paced = await call(openai, { body: ask('gpt-4o', 'hello', { stream: true }) });
    assert.ok(Date.now() - started >= 90, `took ${Date.now() - started}ms`);
    assert.equal(contentChunks(paced.body).length, 4);
    assert.ok(paced.body.endsWith('data: [DONE]\n\n'));

    sim.addFaults({ times: 1, fault: { chunkDelayMs: 5, streamErrorAfter: 2, error: 'overloaded' } });
    started = Date.now();
    const failed = await call(anthropic, { body: askClaude('hi', { stream: true }), headers: ANTHROPIC_HEADERS });
    assert.ok(failed.complete);
    const frames = parseSse(failed.body);
    assert.equal(frames.filter((f) => f.event === 'content_block_delta').length, 2);
    assert.equal(frames.at(-1)!.event, 'error');
    assert.equal(JSON.parse(frames.at(-1)!.data).error.type, 'overloaded_error');
  });

  it('counts a client that disconnects mid-stream as a client abort', async () => {
    sim.addFaults({ fault: { chunkDelayMs: 40 } });
    await call(openai, { body: ask('gpt-4o', 'hello', { stream: true }), timeoutMs: 70 }).catch(() => undefined);
    await eventually(() => sim.stats().clientAborts === 1 && sim.stats().inFlight === 0);
    assert.equal(sim.stats().requests, 1);
  });
});

describe('simulator server: per-request directives', () => {
  const directive = '[[sim {"model":"gpt-4o","error":"overloaded","retryAfter":1}]] hello';

  it('fails only the model a directive names', async () => {
    const primary = await postJson(openai, ask('gpt-4o', directive));
    assert.equal(primary.status, 503);
    assert.equal(primary.headers['retry-after'], '1');
    const fallback = await postJson(openai, ask('gpt-4o-mini', directive));
    assert.equal(fallback.status, 200);
    assert.equal(fallback.json.model, 'gpt-4o-mini');
    const claude = await postJson(anthropic, askClaude(directive), ANTHROPIC_HEADERS);
    assert.equal(claude.status, 200);
    assert.deepEqual(sim.stats().byModel, { 'gpt-4o': 1, 'gpt-4o-mini': 1, 'claude-haiku': 1 });
    assert.equal(sim.stats().faultsInjected, 1);
  });

  it('reads directives in any message (system, Anthropic system, tool results) and several per text', async () => {
    const res = await postJson(openai, {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: '[[sim {"model":"claude-haiku","error":"auth"}]] [[sim {"model":"gpt-4o","error":"quota"}]]' },
        { role: 'user', content: 'hi' },
      ],
    });
    assert.equal(res.json.error.code, 'insufficient_quota');
    const claude = await postJson(anthropic, askClaude('hi', { system: '[[sim {"model":"claude-haiku","error":"auth"}]]' }), ANTHROPIC_HEADERS);
    assert.equal(claude.json.error.type, 'authentication_error');
    const tool = await postJson(
      anthropic,
      {
        ...askClaude(),
        messages: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 's', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: '[[sim {"error":"overloaded"}]]' }] },
        ],
      },
      ANTHROPIC_HEADERS,
    );
    assert.equal(tool.status, 529);
  });

  it('honours the x-sim-fault header (object or array)', async () => {
    const a = await postJson(openai, ask(), { 'x-sim-fault': '{"error":"model_not_found"}' });
    assert.equal(a.status, 404);
    const b = await postJson(openai, ask(), { 'x-sim-fault': '[{"model":"other","error":"auth"},{"model":"gpt-4o","status":502}]' });
    assert.equal(b.status, 502);
    const c = await postJson(openai, ask('gpt-4o-mini'), { 'x-sim-fault': '{"model":"gpt-4o","error":"auth"}' });
    assert.equal(c.status, 200);
  });

  it('answers 400 in the format shape for a malformed directive or header', async () => {
    const a = await postJson(openai, ask('gpt-4o', '[[sim {"error":"typo"}]]'));
    assert.equal(a.status, 400);
    assert.match(a.json.error.message, /^simulator: .*error must be one of/);
    const b = await postJson(anthropic, askClaude('hi'), { ...ANTHROPIC_HEADERS, 'x-sim-fault': 'nope' });
    assert.equal(b.status, 400);
    assert.equal(b.json.error.type, 'invalid_request_error');
    assert.match(b.json.error.message, /x-sim-fault/);
  });

  it('ignores a truncated directive echoed in an earlier reply', async () => {
    const res = await postJson(openai, {
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: 'one' },
        { role: 'assistant', content: 'Simulated reply from gpt-4o: [[sim {"model":"gpt-4o","error":"ov' },
        { role: 'user', content: 'two' },
      ],
    });
    assert.equal(res.status, 200);
  });
});

describe('simulator server: admin API', () => {
  const admin = (path: string, method = 'GET', body?: unknown) => call(`${sim.url}/_sim/${path}`, { method, body });

  it('adds, lists, clears faults and resets everything over HTTP', async () => {
    const one = await admin('faults', 'POST', { id: 'mine', match: { format: 'anthropic' }, fault: { error: 'overloaded' } });
    assert.equal(one.status, 200);
    assert.deepEqual(JSON.parse(one.body), { ids: ['mine'] });
    const many = JSON.parse((await admin('faults', 'POST', [{ times: 1, fault: { error: 'auth' } }, { fault: { latencyMs: 1 } }])).body);
    assert.equal(many.ids.length, 2);
    const listed = JSON.parse((await admin('faults')).body).faults;
    assert.deepEqual(
      listed.map((r: { id: string }) => r.id),
      ['mine', ...many.ids],
    );
    assert.equal((await postJson(openai, ask())).status, 401);
    assert.equal((await postJson(anthropic, askClaude(), ANTHROPIC_HEADERS)).status, 529);

    const stats = JSON.parse((await admin('stats')).body);
    assert.deepEqual(stats, {
      requests: 2,
      byModel: { 'gpt-4o': 1, 'claude-haiku': 1 },
      byFormat: { openai: 1, anthropic: 1 },
      faultsInjected: 2,
      clientAborts: 0,
      inFlight: 0,
    });
    assert.deepEqual(JSON.parse((await admin('faults', 'DELETE')).body), { cleared: 2 });
    assert.equal((await postJson(openai, ask())).status, 200);

    sim.addFaults({ fault: { error: 'auth' } });
    assert.equal((await admin('reset', 'POST')).status, 200);
    assert.equal(sim.faults().length, 0);
    assert.equal(sim.stats().requests, 0);
    assert.equal((await postJson(openai, ask())).status, 200);
  });

  it('rejects bad fault bodies with 400 and adds nothing', async () => {
    const badJson = await admin('faults', 'POST', '{"fault":');
    assert.equal(badJson.status, 400);
    assert.match(JSON.parse(badJson.body).error.message, /not valid JSON/);
    const badRule = await admin('faults', 'POST', [{ fault: {} }, { fault: { error: 'nope' } }]);
    assert.equal(badRule.status, 400);
    assert.match(JSON.parse(badRule.body).error.message, /rules\[1\]\.fault\.error/);
    assert.equal(sim.faults().length, 0);
    assert.throws(() => sim.addFaults({ fault: { status: 1000 } }), FaultRuleError);
  });
});
