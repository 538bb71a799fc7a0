/**
 * Sessions over real HTTP (issue #15), with the official `openai` client and
 * the simulated provider: a session's turns stay on one target; when it
 * fails, the Anthropic-format backup receives the whole transcript (tool
 * calls and results included), the session stays there, and only the turn
 * that moved says so; a backup whose window cannot hold the history is
 * refused or trimmed as the class says; two gateway instances on one Redis
 * route one session alike.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { call, createKey, FAST, forEachStore, gatewayForFile, postgresOrSkip, startGw, startSim, testPolicy, type Gw, type SimulatorHandle } from './gateway-support/harness.js';
import { deletePrefix, REDIS_URL, redisAvailable } from './support/services.js';

// Checked before any suite starts a gateway: a busy event loop could time the check out.
const redis = await redisAvailable();
const pgStore = await postgresOrSkip();

interface SimRequest {
  seq: number;
  format: 'openai' | 'anthropic';
  body: { model: string; system?: string; messages: Array<{ role: string; content: unknown }> };
}

/** What the simulator was sent, newest first. */
async function received(sim: SimulatorHandle): Promise<SimRequest[]> {
  return ((await call(sim.url, '/_sim/requests')).json as { requests: SimRequest[] }).requests;
}

function clientFor(gw: Gw, apiKey: string): OpenAI {
  return new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
}

/** One turn of a conversation the client keeps: the whole history sent, the answer appended. */
async function turn(client: OpenAI, session: string, history: ChatCompletionMessageParam[], text: string) {
  history.push({ role: 'user', content: text });
  const { data, response } = await client.chat.completions
    .create({ model: 'auto', messages: history }, { headers: { 'x-session-id': session } })
    .withResponse();
  history.push({ role: 'assistant', content: data.choices[0]!.message.content ?? '' });
  return { model: response.headers.get('x-llm-model'), moved: response.headers.get('x-llm-session-moved'), requestId: response.headers.get('x-llm-request-id')!, data };
}

const WEATHER_TOOL = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

describe('sticky sessions through the gateway', () => {
  const env = gatewayForFile();
  let client: OpenAI;
  let clientKey: string;

  before(async () => {
    const { key } = await createKey(env.gw, { tenant: 'acme', allowedClasses: ['general'], defaultClass: 'general' });
    clientKey = key;
    client = clientFor(env.gw, key);
  });

  test('ten turns of one session go to one target; a second session is routed on its own', async () => {
    const a: ChatCompletionMessageParam[] = [];
    const b: ChatCompletionMessageParam[] = [];
    // Session B's first turn finds the primary down (a fault for that request only): B starts on the backup.
    const firstB = await turn(client, 'session-b', b, `hello [[sim {"model":"up-premium-a","error":"overloaded"}]]`);
    assert.equal(firstB.model, 'premium-b');
    const served: string[] = [];
    for (let i = 1; i <= 10; i++) {
      served.push((await turn(client, 'session-a', a, `turn ${i}`)).model!);
      // B's turns interleave with A's, and stay where B is.
      if (i % 3 === 0) assert.equal((await turn(client, 'session-b', b, `b ${i}`)).model, 'premium-b');
    }
    assert.deepEqual(served, Array(10).fill('premium-a'));
    const recordsOfA = env.gw.records.filter((r) => r.session === 'session-a');
    assert.equal(recordsOfA.length, 10);
    assert.ok(recordsOfA.slice(1).every((r) => r.sessionTarget === 'premium-a' && r.sessionMove === undefined));
  });

  test('the primary fails on turn 4: the Anthropic backup gets the whole transcript with tool calls and results, turn 5 stays, the move is said on turn 4 only', async () => {
    const session = `tools-${randomUUID()}`;
    const history: ChatCompletionMessageParam[] = [{ role: 'system', content: 'You are a weather assistant.' }];
    assert.equal((await turn(client, session, history, 'Hi there')).model, 'premium-a');
    // Turn 2: the model asked for a tool; the app ran it and sends the result (OpenAI's shapes, as the client holds them).
    history.push({ role: 'user', content: 'Weather in Paris?' });
    history.push({ role: 'assistant', content: null, tool_calls: [{ id: 'call_w1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] });
    history.push({ role: 'tool', tool_call_id: 'call_w1', content: '{"temp_c":18}' });
    const t2 = await client.chat.completions.create({ model: 'auto', messages: history, tools: [WEATHER_TOOL] }, { headers: { 'x-session-id': session } }).withResponse();
    assert.equal(t2.response.headers.get('x-llm-model'), 'premium-a');
    history.push({ role: 'assistant', content: t2.data.choices[0]!.message.content ?? '' });
    assert.equal((await turn(client, session, history, 'Thanks. And Rome?')).model, 'premium-a');

    env.sim.addFaults({ match: { model: 'up-premium-a' }, fault: { error: 'overloaded' } });
    history.push({ role: 'user', content: 'Which is warmer?' });
    const t4 = await client.chat.completions.create({ model: 'auto', messages: history, tools: [WEATHER_TOOL] }, { headers: { 'x-session-id': session } }).withResponse();
    assert.equal(t4.response.headers.get('x-llm-model'), 'premium-b');
    assert.match(t4.response.headers.get('x-llm-session-moved') ?? '', /^premium-a -> premium-b; transient \(HTTP 529\) on premium-a$|^premium-a -> premium-b; transient \(HTTP 50\d\) on premium-a$/);
    history.push({ role: 'assistant', content: t4.data.choices[0]!.message.content ?? '' });

    // What the backup was sent: every earlier turn, in Anthropic's format, the tool call and its result paired by id.
    const sent = (await received(env.sim)).find((r) => r.format === 'anthropic')!;
    assert.equal(sent.body.system, 'You are a weather assistant.');
    assert.deepEqual(sent.body.messages, [
      { role: 'user', content: 'Hi there' },
      { role: 'assistant', content: history[2]!.content },
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_w1', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_w1', content: '{"temp_c":18}' }] },
      { role: 'assistant', content: history[6]!.content },
      { role: 'user', content: 'Thanks. And Rome?' },
      { role: 'assistant', content: history[8]!.content },
      { role: 'user', content: 'Which is warmer?' },
    ]);
    const r4 = env.gw.records.find((r) => r.requestId === t4.response.headers.get('x-llm-request-id'))!;
    assert.equal(r4.sessionTarget, 'premium-a');
    assert.equal(r4.sessionMove?.from, 'premium-a');
    assert.equal(r4.sessionMove?.to, 'premium-b');

    // The primary is back: turn 5 stays on the backup, with no moved header.
    env.sim.clearFaults();
    const t5 = await turn(client, session, history, 'Great, thanks!');
    assert.equal(t5.model, 'premium-b');
    assert.equal(t5.moved, null);
    const r5 = env.gw.records.find((r) => r.requestId === t5.requestId)!;
    assert.equal(r5.sessionTarget, 'premium-b');
    assert.equal(r5.sessionMove, undefined);
  });

  test('a streamed turn that moves says so in its headers, and the next streamed turn stays', async () => {
    const session = `stream-${randomUUID()}`;
    const history: ChatCompletionMessageParam[] = [];
    assert.equal((await turn(client, session, history, 'first')).model, 'premium-a');
    env.sim.addFaults({ match: { model: 'up-premium-a' }, fault: { error: 'overloaded' } });
    history.push({ role: 'user', content: 'stream it' });
    const { data: stream, response } = await client.chat.completions.create({ model: 'auto', messages: history, stream: true }, { headers: { 'x-session-id': session } }).withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(response.headers.get('x-llm-model'), 'premium-b');
    assert.match(response.headers.get('x-llm-session-moved') ?? '', /^premium-a -> premium-b; /);
    assert.ok(text.length > 0);
    env.sim.clearFaults();
    history.push({ role: 'assistant', content: text }, { role: 'user', content: 'again' });
    const next = await client.chat.completions.create({ model: 'auto', messages: history, stream: true }, { headers: { 'x-session-id': session } }).withResponse();
    for await (const _ of next.data) void _;
    assert.equal(next.response.headers.get('x-llm-model'), 'premium-b');
    assert.equal(next.response.headers.get('x-llm-session-moved'), null);
  });

  test("provider state a target cannot take (signed thinking blocks) is dropped with a note in the stored record, not sent", async () => {
    const history = [
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: 'It is 18 °C.', thinking_blocks: [{ type: 'thinking', thinking: 'The user wants…', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3h' }] },
      { role: 'user', content: 'Thanks' },
    ] as unknown as ChatCompletionMessageParam[];
    const { response } = await client.chat.completions.create({ model: 'auto', messages: history }, { headers: { 'x-session-id': `state-${randomUUID()}` } }).withResponse();
    const sent = (await received(env.sim))[0]!;
    assert.deepEqual(sent.body.messages[1], { role: 'assistant', content: 'It is 18 °C.' });
    const requestId = response.headers.get('x-llm-request-id')!;
    const stored = await call(env.gw.url, `/v1/records/${requestId}`, { key: clientKey });
    assert.equal(stored.status, 200, stored.text);
    assert.deepEqual(stored.json.plan.attemptNotes, [
      { seq: 0, model: 'premium-a', notes: ['dropped provider-specific state the openai target cannot take (thinking_blocks) from one assistant message'] },
    ]);
  });

  test('two keys (or tenants) sending the same session id share no pin', async () => {
    const other = clientFor(env.gw, (await createKey(env.gw, { tenant: 'acme', allowedClasses: ['general'], defaultClass: 'general' })).key);
    const stranger = clientFor(env.gw, (await createKey(env.gw, { tenant: 'globex', allowedClasses: ['general'], defaultClass: 'general' })).key);
    const id = `shared-${randomUUID()}`;
    assert.equal((await turn(client, id, [], `hi [[sim {"model":"up-premium-a","error":"overloaded"}]]`)).model, 'premium-b');
    assert.equal((await turn(other, id, [], 'hi')).model, 'premium-a');
    assert.equal((await turn(stranger, id, [], 'hi')).model, 'premium-a');
    assert.equal((await turn(client, id, [], 'again')).model, 'premium-b');
  });

  test('a session id over 128 characters or with a control character is a 400 in the OpenAI shape', async () => {
    for (const id of ['x'.repeat(129), 'tab\there']) {
      await assert.rejects(
        client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-session-id': id } }),
        (err: unknown) => err instanceof OpenAI.BadRequestError && (err.error as { code?: string }).code === 'invalid_header' && (err.error as { param?: string }).param === 'x-session-id',
      );
    }
  });
});

describe("a backup whose window cannot hold the session's history", () => {
  let sim: SimulatorHandle;
  let gw: Gw;
  let client: OpenAI;

  before(async () => {
    sim = await startSim();
    const policy = testPolicy(sim.url);
    policy.models['small-b'] = { provider: 'an', upstreamModel: 'up-small-b', tier: 'premium', capabilities: ['streaming'], contextWindow: 3_000, price: { inputPerMTok: 1, outputPerMTok: 1 } };
    policy.classes['refusing'] = { criticality: 'standard', route: ['premium-a', 'small-b'], retriesPerTarget: 0, ...FAST };
    policy.classes['trimming'] = { criticality: 'standard', route: ['premium-a', 'small-b'], retriesPerTarget: 0, session: { onContextOverflow: 'trim' }, ...FAST };
    gw = await startGw(sim, { router: { policy } });
    const { key } = await createKey(gw, { tenant: 'acme', allowedClasses: ['refusing', 'trimming'], defaultClass: 'refusing' });
    client = clientFor(gw, key);
  });
  after(async () => {
    await gw.close();
    await sim.close();
  });

  async function longSession(trafficClass: string) {
    const session = `long-${trafficClass}`;
    const history: ChatCompletionMessageParam[] = [{ role: 'system', content: 'Be brief.' }];
    for (let i = 0; i < 4; i++) history.push({ role: 'user', content: `${i}: ${'lorem ipsum '.repeat(250)}` }, { role: 'assistant', content: `ok ${i}` });
    history.push({ role: 'user', content: 'first' });
    sim.clearFaults();
    const first = await client.chat.completions.create({ model: 'auto', messages: history, max_tokens: 50 }, { headers: { 'x-session-id': session, 'x-traffic-class': trafficClass } }).withResponse();
    assert.equal(first.response.headers.get('x-llm-model'), 'premium-a');
    history.push({ role: 'assistant', content: 'fine' }, { role: 'user', content: 'the last question' });
    sim.addFaults({ match: { model: 'up-premium-a' }, fault: { error: 'overloaded' } });
    return { session, history };
  }

  test('refuse (the default): an explicit context_length error naming the target and the setting, nothing sent to it', async () => {
    const { session, history } = await longSession('refusing');
    sim.resetStats();
    const err = await client.chat.completions
      .create({ model: 'auto', messages: history, max_tokens: 50 }, { headers: { 'x-session-id': session, 'x-traffic-class': 'refusing' } })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal((err.error as { code: string }).code, 'context_length_exceeded');
    assert.match(err.message, /does not fit small-b's context window of 3000; class setting session.onContextOverflow is "refuse"/);
    assert.equal(sim.stats().byModel['up-small-b'] ?? 0, 0);
  });

  test('trim: the oldest turns are dropped (system prompt and the latest turn kept), and the record says how many', async () => {
    const { session, history } = await longSession('trimming');
    const { response } = await client.chat.completions
      .create({ model: 'auto', messages: history, max_tokens: 50 }, { headers: { 'x-session-id': session, 'x-traffic-class': 'trimming' } })
      .withResponse();
    assert.equal(response.headers.get('x-llm-model'), 'small-b');
    assert.match(response.headers.get('x-llm-session-moved') ?? '', /^premium-a -> small-b; /);
    const sent = (await received(sim)).find((r) => r.body.model === 'up-small-b')!;
    assert.equal(sent.body.system, 'Be brief.');
    assert.deepEqual(sent.body.messages.at(-1), { role: 'user', content: 'the last question' });
    assert.ok(sent.body.messages.length < history.length - 1, `trimmed: ${sent.body.messages.length} of ${history.length - 1} turns' messages`);
    const record = gw.records.find((r) => r.requestId === response.headers.get('x-llm-request-id'))!;
    const note = record.attempts.at(-1)!.notes![0]!;
    const dropped = Number(/dropped the (\d+) oldest messages/.exec(note)![1]);
    assert.equal(sent.body.messages.length, history.length - 1 - dropped);
  });
});

describe('two gateway instances on one Redis route one session alike', { skip: redis !== true ? redis : 'skip' in pgStore ? pgStore.skip : false }, () => {
  const prefix = `llmr-test-sessions-${randomUUID()}:`;
  let sim: SimulatorHandle;
  let a: Gw;
  let b: Gw;

  before(async () => {
    if ('skip' in pgStore) return;
    sim = await startSim();
    const options = { store: pgStore.store, redisUrl: REDIS_URL, redisKeyPrefix: prefix, keysRefreshMs: 50 };
    a = await startGw(sim, options);
    b = await startGw(sim, options);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await sim?.close();
    if (!('skip' in pgStore)) await pgStore.drop();
    await deletePrefix(REDIS_URL, prefix);
  });

  test('turn 1 through one instance, turn 2 through the other: same target, same context', async () => {
    const { key } = await createKey(a, { tenant: 'acme', allowedClasses: ['general'], defaultClass: 'general' });
    // b learns of the key at its next refresh.
    for (let i = 0; i < 100 && (await call(b.url, '/v1/models', { key })).status !== 200; i++) await new Promise((r) => setTimeout(r, 20));
    const history: ChatCompletionMessageParam[] = [{ role: 'system', content: 'Remember the code word.' }];
    const first = await turn(clientFor(a, key), 'fleet-1', history, `The code word is heron. [[sim {"model":"up-premium-a","error":"overloaded"}]]`);
    assert.equal(first.model, 'premium-b');
    const second = await turn(clientFor(b, key), 'fleet-1', history, 'What is the code word?');
    assert.equal(second.model, 'premium-b', 'instance b read the pin instance a stored');
    assert.equal(second.moved, null);
    const sent = (await received(sim))[0]!;
    assert.equal(sent.format, 'anthropic');
    assert.equal(sent.body.system, 'Remember the code word.');
    assert.equal(sent.body.messages.length, 3);
    assert.match(JSON.stringify(sent.body.messages[0]), /The code word is heron/);
    assert.equal(b.records.find((r) => r.requestId === second.requestId)!.sessionTarget, 'premium-b');
  });
});

forEachStore((storeName, storeFor) => {
  describe(`GET /v1/sessions/:id and /v1/usage?groupBy=session (${storeName})`, () => {
    let sim: SimulatorHandle;
    let gw: Gw;
    let cleanup: (() => Promise<void>) | undefined;
    let skip: string | undefined;

    before(async () => {
      const store = await storeFor();
      if ('skip' in store) {
        skip = store.skip;
        return;
      }
      cleanup = store.cleanup;
      sim = await startSim();
      gw = await startGw(sim, { store: store.store });
    });
    after(async () => {
      await gw?.close();
      await sim?.close();
      await cleanup?.();
    });

    test("a session's turns, targets, switches with reasons, tokens and cost; its own key only", async (t) => {
      if (skip) return t.skip(skip);
      const { key } = await createKey(gw, { tenant: 'acme', allowedClasses: ['general'], defaultClass: 'general' });
      const client = clientFor(gw, key);
      const history: ChatCompletionMessageParam[] = [];
      await turn(client, 'story', history, 'one');
      sim.addFaults({ match: { model: 'up-premium-a' }, fault: { error: 'overloaded' } });
      const moved = await turn(client, 'story', history, 'two');
      sim.clearFaults();
      await turn(client, 'story', history, 'three');
      await turn(client, 'other-story', [], 'elsewhere');

      const res = await call(gw.url, '/v1/sessions/story', { key });
      assert.equal(res.status, 200, res.text);
      const view = res.json;
      assert.equal(view.object, 'session');
      assert.equal(view.target, 'premium-b');
      assert.equal(view.originalTarget, 'premium-a');
      assert.deepEqual(view.targets, ['premium-a', 'premium-b']);
      assert.equal(view.switches.length, 1);
      assert.equal(view.switches[0].requestId, moved.requestId);
      assert.match(view.switches[0].reason, /on premium-a$/);
      assert.deepEqual(view.turns.map((x: { model: string }) => x.model), ['premium-a', 'premium-b', 'premium-b']);
      assert.deepEqual(view.turns[1].moved, { from: 'premium-a', to: 'premium-b', reason: view.switches[0].reason });
      const records = gw.records.filter((r) => r.session === 'story');
      assert.equal(view.totals.turns, 3);
      assert.equal(view.totals.promptTokens, records.reduce((n, r) => n + r.promptTokens, 0));
      assert.ok(Math.abs(view.totals.costUsd - records.reduce((n, r) => n + r.costUsd, 0)) < 1e-9);

      // Another key of the tenant, another tenant: not theirs.
      const sibling = await createKey(gw, { tenant: 'acme', allowedClasses: ['general'] });
      const stranger = await createKey(gw, { tenant: 'globex', allowedClasses: ['general'] });
      for (const k of [sibling.key, stranger.key]) {
        const other = await call(gw.url, '/v1/sessions/story', { key: k });
        assert.equal(other.status, 404);
        assert.equal(other.json.error.code, 'session_not_found');
      }
      for (const id of ['x'.repeat(129), 'tab%09here']) {
        const bad = await call(gw.url, `/v1/sessions/${id}`, { key });
        assert.equal(bad.status, 400, bad.text);
        assert.equal(bad.json.error.code, 'invalid_session_id');
      }
      // The longest id there is (128 characters) is found like any other.
      assert.equal((await call(gw.url, `/v1/sessions/${'y'.repeat(128)}`, { key })).json.error.code, 'session_not_found');

      const usage = await call(gw.url, '/v1/usage?groupBy=session', { key });
      assert.equal(usage.status, 200, usage.text);
      const story = usage.json.bySession.find((g: { key: string }) => g.key === 'story');
      assert.equal(story.requests, 3);
      assert.equal(usage.json.bySession.find((g: { key: string }) => g.key === 'other-story').requests, 1);
      assert.equal((await call(gw.url, '/v1/usage', { key })).json.bySession, undefined);
      const wrong = await call(gw.url, '/v1/usage?groupBy=planet', { key });
      assert.equal(wrong.status, 400);
      assert.equal(wrong.json.error.param, 'groupBy');
    });
  });
});

describe('a session store that does not answer', () => {
  test('turns are still served (routed as first turns); GET /v1/sessions/:id is a 503 in the OpenAI shape', async () => {
    const sim = await startSim();
    const down = () => Promise.reject(new Error('connection refused'));
    const gw = await startGw(sim, { router: { policy: testPolicy(sim.url), sessionStore: { get: down, set: down, delete: down } } });
    try {
      const { key } = await createKey(gw, { tenant: 'acme', allowedClasses: ['general'], defaultClass: 'general' });
      const client = clientFor(gw, key);
      for (const text of ['one', 'two']) assert.equal((await turn(client, 'unstored', [], text)).model, 'premium-a');
      const res = await call(gw.url, '/v1/sessions/unstored', { key });
      assert.equal(res.status, 503);
      assert.equal(res.json.error.code, 'session_store_unavailable');
    } finally {
      await gw.close();
      await sim.close();
    }
  });
});
