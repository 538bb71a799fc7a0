import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualAction, VirtualTimeScheduler, type Observable } from 'rxjs';
import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import { LlmRouterError } from '../errors/llm-router.error.js';
import { compilePolicy } from '../policy/compile-policy.js';
import type { PolicyDocument } from '../policy/policy.schema.js';
import type { Transport, TransportRequest } from '../providers/http/transport.interface.js';
import { InMemorySessionStore } from '../session/in-memory-session.store.js';
import type { RoutingRecord } from '../telemetry/routing-record.js';
import { anthropicMessageBody, fixturePolicy, openAiCompletionBody, openAiErrorBody, openAiStreamPieces } from '../testing/policy.fixture.js';
import { ScriptedTransport, type ScriptedResponse } from '../testing/scripted-transport.js';
import { createLlmRouter } from './create-llm-router.js';

const OK_A: ScriptedResponse = { status: 200, body: openAiCompletionBody('premium-a', 'from a') };
const DOWN: ScriptedResponse = { status: 503, body: openAiErrorBody('overloaded', 'server_error', null) };

/** The fixture, its general class switching at once (no retry on the same target). */
function policy(): PolicyDocument {
  const doc = fixturePolicy();
  doc.classes['general'] = { criticality: 'standard', route: ['premium-a', 'premium-b', 'standard-1'], retriesPerTarget: 0 };
  return doc;
}

function harness(doc: PolicyDocument = policy()) {
  const scheduler = new VirtualTimeScheduler(VirtualAction, Infinity);
  const scripted = new ScriptedTransport(undefined, scheduler);
  scripted.script('premium-a', OK_A);
  scripted.script('premium-b', { status: 200, body: anthropicMessageBody('premium-b', 'from b') });
  scripted.script('standard-1', { status: 200, body: openAiCompletionBody('standard-1', 'from standard') });
  // Every body sent upstream, in order: what each provider was actually asked.
  const bodies: Array<{ path: string; body: Record<string, unknown> }> = [];
  const transport: Transport = {
    send: (req: TransportRequest) => {
      bodies.push({ path: req.request.path, body: JSON.parse(req.request.body) as Record<string, unknown> });
      return scripted.send(req);
    },
    close: () => undefined,
  };
  let now = Date.UTC(2026, 11, 6);
  const store = new InMemorySessionStore({ clock: () => now });
  const router = createLlmRouter({ policy: compilePolicy(doc), transport, scheduler, clock: () => now, sessionStore: store });
  const records: RoutingRecord[] = [];
  router.records$.subscribe((r) => records.push(r));
  const run = <T>(source: Observable<T>) => {
    const out: { values: T[]; error?: unknown } = { values: [] };
    source.subscribe({ next: (v) => out.values.push(v), error: (e) => (out.error = e) });
    scheduler.flush();
    return out;
  };
  const turn = (text: string, options: Record<string, unknown> = {}) =>
    run(router.completion$({ messages: [{ role: 'user', content: text }] }, { trafficClass: 'general', tenant: 'acme', caller: 'key1', session: 's1', ...options }));
  return { router, scripted, bodies, records, run, turn, store, advance: (ms: number) => (now += ms) };
}

describe('sticky sessions (class session affinity)', () => {
  it("keeps a session on the target that served its previous turn; after a switch it stays on the new one, and only that turn says it moved", () => {
    const h = harness();
    assert.equal(h.turn('1').values[0]!.outcome.model, 'premium-a');
    h.scripted.script('premium-a', DOWN);
    const moved = h.turn('2').values[0]!.outcome;
    assert.equal(moved.model, 'premium-b');
    assert.equal(moved.sessionMoved?.from, 'premium-a');
    assert.equal(moved.sessionMoved?.to, 'premium-b');
    assert.match(moved.sessionMoved!.reason, /transient \(HTTP 503\) on premium-a/);
    assert.equal(h.records[1]!.sessionTarget, 'premium-a');
    assert.deepEqual(h.records[1]!.sessionMove, moved.sessionMoved);
    // The primary is healthy again: the session does not flip back mid-conversation.
    h.scripted.script('premium-a', OK_A);
    const after = h.turn('3').values[0]!.outcome;
    assert.equal(after.model, 'premium-b');
    assert.equal(after.sessionMoved, undefined);
    assert.equal(after.fallback, false);
    assert.equal(h.records[2]!.sessionTarget, 'premium-b');
    assert.equal(h.records[2]!.sessionMove, undefined);
    // Another session of the same caller is routed on its own: the class's primary.
    assert.equal(h.turn('x', { session: 's2' }).values[0]!.outcome.model, 'premium-a');
  });

  it('sessions are scoped to tenant and caller: the same id under another key or tenant shares no pin', () => {
    const h = harness();
    h.scripted.script('premium-a', DOWN, OK_A);
    assert.equal(h.turn('1').values[0]!.outcome.model, 'premium-b'); // key1's session starts on the backup
    assert.equal(h.turn('1', { caller: 'key2' }).values[0]!.outcome.model, 'premium-a');
    assert.equal(h.turn('1', { tenant: 'globex' }).values[0]!.outcome.model, 'premium-a');
    assert.equal(h.turn('2').values[0]!.outcome.model, 'premium-b');
  });

  it('a session id over 128 characters or with a control character is a 400 invalid_session_id, with a record', () => {
    const h = harness();
    for (const id of ['x'.repeat(129), 'a\nb', 'tab\there', '']) {
      const out = h.turn('1', { session: id });
      if (id === '') {
        assert.equal(out.error, undefined); // no id: not a session turn
        continue;
      }
      assert.ok(out.error instanceof LlmRouterError, `refused: ${JSON.stringify(id)}`);
      assert.equal(out.error.httpStatus, 400);
      assert.equal(out.error.code, 'invalid_session_id');
      assert.equal(out.error.toOpenAiError().error.param, 'session');
    }
    assert.equal(h.scripted.calls.length, 1);
  });

  it('a pin the plan rules out (a request need the target lacks) moves the session, naming the exclusion', () => {
    const h = harness();
    h.scripted.script('premium-a', DOWN, OK_A);
    h.turn('1'); // pinned to premium-b (anthropic, no vision in the fixture)
    const image: ChatCompletionRequest = { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }] };
    const out = h.run(h.router.completion$(image, { trafficClass: 'general', tenant: 'acme', caller: 'key1', session: 's1' }));
    assert.equal(out.values[0]!.outcome.model, 'premium-a');
    assert.match(out.values[0]!.outcome.sessionMoved!.reason, /premium-b lacks the "vision" capability/);
  });

  it('a model the request names wins over the pin, and the session moves to it, saying why', () => {
    const h = harness();
    h.turn('1');
    const out = h.run(h.router.completion$({ model: 'standard-1', messages: [{ role: 'user', content: '2' }] }, { trafficClass: 'general', tenant: 'acme', caller: 'key1', session: 's1' }));
    assert.equal(out.values[0]!.outcome.model, 'standard-1');
    assert.equal(out.values[0]!.outcome.sessionMoved?.reason, 'the request named the model standard-1');
    assert.equal(h.turn('3').values[0]!.outcome.model, 'standard-1');
  });

  it('a class without affinity (nonessential by default) routes every turn from its primary', () => {
    const h = harness();
    // The class's route, premium first: premium-a (one retry), then standard-1.
    h.scripted.script('premium-a', DOWN, DOWN, OK_A);
    assert.equal(h.turn('1', { trafficClass: 'titles' }).values[0]!.outcome.model, 'standard-1');
    assert.equal(h.turn('2', { trafficClass: 'titles' }).values[0]!.outcome.model, 'premium-a');
    assert.equal(h.records[1]!.sessionTarget, undefined);
  });

  it('returnToOriginal afterHealthyMinutes: back to the original once its circuit stayed closed that long, said on that turn', () => {
    const doc = policy();
    doc.classes['general'] = { criticality: 'standard', route: ['premium-a', 'premium-b'], retriesPerTarget: 0, session: { returnToOriginal: { afterHealthyMinutes: 5 } } };
    const h = harness(doc);
    h.turn('1');
    h.scripted.script('premium-a', DOWN, OK_A);
    assert.equal(h.turn('2').values[0]!.outcome.model, 'premium-b');
    h.advance(4 * 60_000);
    assert.equal(h.turn('3').values[0]!.outcome.model, 'premium-b');
    h.advance(60_000);
    const back = h.turn('4').values[0]!.outcome;
    assert.equal(back.model, 'premium-a');
    assert.match(back.sessionMoved!.reason, /returned to the original target premium-a: healthy for 5 min/);
  });

  it('explain says the pin as the next turn meets it (held, ruled out by a need, returning to the original), the store untouched', async () => {
    const doc = policy();
    doc.classes['general'] = { criticality: 'standard', route: ['premium-a', 'premium-b'], retriesPerTarget: 0, session: { returnToOriginal: { afterHealthyMinutes: 5 } } };
    const h = harness(doc);
    const options = { trafficClass: 'general', tenant: 'acme', caller: 'key1', session: 's1' };
    const key = { tenant: 'acme', caller: 'key1', id: 's1' };
    const ask: ChatCompletionRequest = { messages: [{ role: 'user', content: 'next' }] };
    assert.deepEqual((await h.router.explain(ask, options)).session, { id: 's1', pinnedTarget: null, originalTarget: null, turns: 0, holds: null, movesTo: null, reason: 'a new session (or one expired): the target of its first turn becomes its pin' });
    h.turn('1');
    h.scripted.script('premium-a', DOWN, OK_A);
    assert.equal(h.turn('2').values[0]!.outcome.model, 'premium-b');
    const stored = h.store.get(key);
    const held = (await h.router.explain(ask, options)).session!;
    assert.deepEqual([held.pinnedTarget, held.originalTarget, held.turns, held.holds, held.movesTo], ['premium-b', 'premium-a', 2, true, null]);
    const image: ChatCompletionRequest = { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }] };
    const ruledOut = (await h.router.explain(image, options)).session!;
    assert.deepEqual([ruledOut.holds, ruledOut.movesTo], [false, 'premium-a']);
    assert.match(ruledOut.reason, /premium-b lacks the "vision" capability/);
    h.advance(5 * 60_000);
    const returning = (await h.router.explain(ask, options)).session!;
    assert.deepEqual([returning.holds, returning.movesTo], [false, 'premium-a']);
    assert.deepEqual(h.store.get(key), stored, 'explain wrote nothing to the session');
    const turn = h.turn('3').values[0]!.outcome;
    assert.equal(turn.model, returning.movesTo);
    assert.equal(turn.sessionMoved!.reason, returning.reason);
  });

  it("next_session (the default) keeps a moved session away from its original however long it has been healthy", () => {
    const h = harness();
    h.turn('1');
    h.scripted.script('premium-a', DOWN, OK_A);
    h.turn('2');
    h.advance(24 * 60 * 60_000 - 1);
    assert.equal(h.turn('3').values[0]!.outcome.model, 'premium-b');
  });
});

describe('a session store that fails', () => {
  it('never fails the call: a turn whose session cannot be read is routed as a first turn, a save that fails leaves the answer', () => {
    const scheduler = new VirtualTimeScheduler(VirtualAction, Infinity);
    const transport = new ScriptedTransport(undefined, scheduler).script('premium-a', OK_A);
    const broken = { get: () => Promise.reject(new Error('store down')), set: () => Promise.reject(new Error('store down')), delete: () => undefined };
    const router = createLlmRouter({ policy: compilePolicy(policy()), transport, scheduler, sessionStore: broken });
    let served: string | undefined;
    let failed: unknown;
    router.completion$({ messages: [{ role: 'user', content: 'hi' }] }, { tenant: 'acme', session: 's' }).subscribe({ next: (r) => (served = r.outcome.model), error: (e) => (failed = e) });
    return new Promise<void>((resolve) => {
      const poll = () => {
        scheduler.flush();
        if (served === undefined && failed === undefined) return setImmediate(poll);
        assert.equal(failed, undefined);
        assert.equal(served, 'premium-a');
        resolve();
      };
      poll();
    });
  });
});

describe('router.session(): the router keeps the transcript', () => {
  it('the app sends only each new turn; after a switch the Anthropic backup receives the whole conversation, tool call and result ids matched', async () => {
    const h = harness();
    const toolTurn = JSON.stringify({
      id: 'chatcmpl-2', object: 'chat.completion', created: 1, model: 'premium-a',
      choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_Ab12', type: 'function', function: { name: 'order_status', arguments: '{"order":"42"}' } }] }, finish_reason: 'tool_calls' }],
      usage: { prompt_tokens: 20, completion_tokens: 8, total_tokens: 28 },
    });
    h.scripted.script('premium-a', { status: 200, body: toolTurn }, DOWN);
    const session = h.router.session('conv-1', { trafficClass: 'general', tenant: 'acme', caller: 'key1' });
    const tools = [{ type: 'function' as const, function: { name: 'order_status', parameters: { type: 'object', properties: { order: { type: 'string' } } } } }];
    const first = h.run(session.completion$({ messages: [{ role: 'system', content: 'You are support.' }, { role: 'user', content: 'Where is order 42?' }], tools }));
    assert.equal(first.values[0]!.outcome.model, 'premium-a');
    const second = h.run(session.completion$({ messages: [{ role: 'tool', tool_call_id: 'call_Ab12', content: '{"status":"shipped"}' }], tools }));
    assert.equal(second.values[0]!.outcome.model, 'premium-b');
    assert.equal(second.values[0]!.outcome.sessionMoved?.from, 'premium-a');
    const sent = h.bodies.at(-1)!;
    assert.match(sent.path, /\/messages$/);
    assert.equal(sent.body['system'], 'You are support.');
    assert.deepEqual(sent.body['messages'], [
      { role: 'user', content: 'Where is order 42?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_Ab12', name: 'order_status', input: { order: '42' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_Ab12', content: '{"status":"shipped"}' }] },
    ]);
    const state = await session.state();
    assert.equal(state!.target, 'premium-b');
    assert.equal(state!.turns, 2);
    assert.equal(state!.transcript!.length, 5); // system, user, assistant tool call, tool result, the backup's answer
    assert.deepEqual(state!.transcript!.at(-1), { role: 'assistant', content: 'from b' });
    // A third turn stays on the backup, with everything before it.
    const third = h.run(session.completion$('Thanks!'));
    assert.equal(third.values[0]!.outcome.model, 'premium-b');
    assert.equal((h.bodies.at(-1)!.body['messages'] as unknown[]).length, 5);
    await session.end();
    assert.equal(await session.state(), undefined);
  });

  it('a streamed turn is kept too: the answer put together from its chunks', async () => {
    const h = harness();
    h.scripted.script('premium-a', { status: 200, chunks: openAiStreamPieces('premium-a', ['Hel', 'lo']) });
    const session = h.router.session('streamed', { trafficClass: 'general', tenant: 'acme' });
    const out = h.run(session.stream$('hi'));
    assert.equal(out.error, undefined);
    assert.ok(out.values.length > 0);
    assert.deepEqual((await session.state())!.transcript, [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'Hello' }]);
  });

  it('a history the new target cannot hold: refused as context_length by default, trimmed oldest-first when the class says trim', async () => {
    const long = 'word '.repeat(2_500); // ~3,100 tokens per turn
    for (const mode of ['refuse', 'trim'] as const) {
      const doc = policy();
      doc.models['small-b'] = { provider: 'an', upstreamModel: 'small-b', tier: 'premium', capabilities: ['streaming'], contextWindow: 8_000, price: { inputPerMTok: 1, outputPerMTok: 1 } };
      doc.classes['general'] = { criticality: 'standard', route: ['premium-a', 'small-b'], retriesPerTarget: 0, session: { onContextOverflow: mode } };
      const h = harness(doc);
      h.scripted.script('small-b', { status: 200, body: anthropicMessageBody('small-b', 'short') });
      const session = h.router.session('long', { trafficClass: 'general', tenant: 'acme' });
      for (let i = 0; i < 3; i++) assert.equal(h.run(session.completion$({ messages: [{ role: 'user', content: `${i} ${long}` }], max_tokens: 100 })).values[0]!.outcome.model, 'premium-a');
      h.scripted.script('premium-a', DOWN);
      const out = h.run(session.completion$({ messages: [{ role: 'user', content: 'and now?' }], max_tokens: 100 }));
      const record = h.records.at(-1)!;
      if (mode === 'refuse') {
        assert.ok(out.error instanceof LlmRouterError);
        assert.equal(out.error.code, 'context_length_exceeded');
        assert.equal(record.attempts.at(-1)!.category, 'context_length');
        assert.match(record.attempts.at(-1)!.message!, /does not fit small-b's context window of 8000.*"refuse"/);
      } else {
        assert.equal(out.values[0]!.outcome.model, 'small-b');
        const messages = h.bodies.at(-1)!.body['messages'] as Array<{ role: string; content: unknown }>;
        assert.equal(messages.at(-1)!.content, 'and now?');
        assert.ok(messages.length < 7);
        assert.match(record.attempts.at(-1)!.notes![0]!, /^trimmed: dropped the \d+ oldest messages/);
        // The transcript itself keeps every turn: only what this target was sent was trimmed.
        assert.equal((await session.state())!.transcript!.length, 8);
      }
    }
  });
});
