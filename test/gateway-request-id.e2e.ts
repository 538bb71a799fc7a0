/**
 * The caller's x-request-id (issue #17, telemetry): a valid one is the call's
 * request id (its routing record, its request log line, the x-request-id
 * echoed back), attributed to the key that sent it even when two keys send
 * the same id at once; an invalid one is a 400 naming the header, before any
 * upstream call. Real gateway on SQLite, the official OpenAI client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { ADMIN_KEY, call, chat, createKey, simFault, sqliteGateway, type Gw, type SimulatorHandle } from './gateway-support/harness.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('x-request-id', () => {
  let sim: SimulatorHandle;
  let gw: Gw;
  let close: () => Promise<void>;
  const logLines: string[] = [];
  let keyA: { id: string; key: string };
  let keyB: { id: string; key: string };

  before(async () => {
    ({ sim, gw, close } = await sqliteGateway({ requestLog: true, requestLogSink: (chunk) => logLines.push(...chunk.trim().split('\n')) }));
    keyA = await createKey(gw, { tenant: 'alpha' });
    keyB = await createKey(gw, { tenant: 'beta' });
  });
  after(() => close());

  const records = async (id: string): Promise<any[]> => {
    const res = await call(gw.url, `/admin/records/${id}`, { key: ADMIN_KEY });
    assert.equal(res.status, 200, res.text);
    return res.json.object === 'list' ? res.json.data : [res.json];
  };

  test('a valid id is the record\'s, the log line\'s, and echoed, through the official client', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: keyA.key, maxRetries: 0 });
    const id = 'req_01J9Z.client:42@edge=1';
    const { response } = await client.chat.completions
      .create({ model: 'auto', messages: [{ role: 'user', content: 'hello' }] }, { headers: { 'x-request-id': id } })
      .withResponse();
    assert.equal(response.headers.get('x-request-id'), id);
    assert.equal(response.headers.get('x-llm-request-id'), id);
    const [record] = await records(id);
    assert.equal(record.requestId, id);
    assert.equal(record.keyId, keyA.id);
    assert.equal(record.tenant, 'alpha');
    // The key reads it by the same id.
    assert.equal((await call(gw.url, `/v1/records/${id}`, { key: keyA.key })).status, 200);
    let line: any;
    await (async () => {
      for (let i = 0; i < 50 && !line; i++) {
        line = logLines.map((l) => JSON.parse(l)).find((l) => l.requestId === id);
        if (!line) await new Promise((r) => setTimeout(r, 20));
      }
    })();
    assert.ok(line, 'the request log line carries the caller\'s id');
    assert.equal(line.keyId, keyA.id);
  });

  test('a fallback, a stream, a routed error and a refusal before routing echo it too', async () => {
    const fb = await chat(gw, keyA.key, `hi ${simFault('premium-a', { error: 'overloaded' })}`, {}, { 'x-request-id': 'fb-1' });
    assert.equal(fb.status, 200, fb.text);
    assert.equal(fb.headers.get('x-llm-fallback'), 'true');
    assert.equal(fb.headers.get('x-request-id'), 'fb-1');
    const stream = await chat(gw, keyA.key, 'stream', { stream: true }, { 'x-request-id': 'stream-1' });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get('x-request-id'), 'stream-1');
    const failed = await chat(gw, keyA.key, `hi ${simFault('premium-a', { error: 'overloaded' })} ${simFault('premium-b', { error: 'overloaded' })}`, {}, { 'x-request-id': 'fail-1' });
    assert.ok(failed.status >= 500, failed.text);
    assert.equal(failed.headers.get('x-request-id'), 'fail-1');
    const [record] = await records('fail-1');
    assert.equal(record.outcome, 'failure');
    // Refused before routing: a bad key, a class outside the key's scope, a malformed body.
    assert.equal((await chat(gw, 'llmr_not_a_key', 'hi', {}, { 'x-request-id': 'refused-1' })).headers.get('x-request-id'), 'refused-1');
    const scoped = await createKey(gw, { tenant: 'alpha', allowedClasses: ['general'] });
    const outside = await chat(gw, scoped.key, 'hi', {}, { 'x-request-id': 'refused-2', 'x-traffic-class': 'cheap' });
    assert.equal(outside.status, 403, outside.text);
    assert.equal(outside.headers.get('x-request-id'), 'refused-2');
    const malformed = await call(gw.url, '/v1/chat/completions', { key: keyA.key, raw: '{"messages":', headers: { 'x-request-id': 'refused-3' } });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.headers.get('x-request-id'), 'refused-3');
  });

  test('without one, the gateway\'s own id (a UUID v7) is echoed', async () => {
    const res = await chat(gw, keyA.key, 'no id');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('x-request-id')!, UUID_V7);
    assert.equal(res.headers.get('x-request-id'), res.headers.get('x-llm-request-id'));
  });

  test('the same id from two keys at once: each record is its own key\'s', async () => {
    const id = 'shared-id-1';
    const calls = [];
    for (let i = 0; i < 6; i++) calls.push(chat(gw, (i % 2 === 0 ? keyA : keyB).key, `same id ${i}`, {}, { 'x-request-id': id }));
    for (const res of await Promise.all(calls)) assert.equal(res.status, 200, res.text);
    const found = await records(id);
    assert.equal(found.length, 6);
    for (const r of found) assert.equal(r.keyId, r.tenant === 'alpha' ? keyA.id : keyB.id, JSON.stringify(r));
    assert.equal(found.filter((r) => r.tenant === 'alpha').length, 3);
    // Each key sees its own tenant's three only.
    const mine = await call(gw.url, `/v1/records/${id}`, { key: keyB.key });
    assert.equal(mine.json.data.length, 3);
    assert.ok(mine.json.data.every((r: { tenant: string }) => r.tenant === 'beta'));
  });

  test('an invalid id is a 400 naming the header, and nothing goes upstream', async () => {
    sim.resetStats();
    for (const bad of ['has space', 'x'.repeat(129), 'quote"d', 'slash/ed', 'ünïcode', 'semi;colon']) {
      const res = await chat(gw, keyA.key, 'bad id', {}, { 'x-request-id': bad });
      assert.equal(res.status, 400, `${bad}: ${res.text}`);
      assert.deepEqual(
        { type: res.json.error.type, code: res.json.error.code, param: res.json.error.param },
        { type: 'invalid_request_error', code: 'invalid_header', param: 'x-request-id' },
      );
      assert.equal(res.headers.get('x-request-id'), null);
    }
    // 128 characters is the limit, inclusive.
    assert.equal((await chat(gw, keyA.key, 'long id', {}, { 'x-request-id': 'y'.repeat(128) })).status, 200);
    assert.equal(sim.stats().requests, 1);
  });

  test('the sample workflows take and check it the same way', async () => {
    const key = await createKey(gw, { tenant: 'alpha', allowedClasses: ['support-chat', 'general'] });
    const ok = await call(gw.url, '/support/chat', { key: key.key, body: { message: 'where is my order?' }, headers: { 'x-request-id': 'support-1' } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers.get('x-request-id'), 'support-1');
    const [record] = await records('support-1');
    assert.equal(record.keyId, key.id);
    const bad = await call(gw.url, '/support/chat', { key: key.key, body: { message: 'hi' }, headers: { 'x-request-id': 'no spaces allowed' } });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.json.error.param, 'x-request-id');
  });
});
