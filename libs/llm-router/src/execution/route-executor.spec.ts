import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualAction, VirtualTimeScheduler, type Observable } from 'rxjs';
import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import { LlmRouterError } from '../errors/llm-router.error.js';
import { UpstreamFailure } from '../errors/upstream-failure.js';
import { createLlmRouter } from '../router/create-llm-router.js';
import type { LlmRouter } from '../router/llm-router.service.js';
import { compilePolicy } from '../policy/compile-policy.js';
import type { PolicyDocument } from '../policy/policy.schema.js';
import type { RoutingRecord } from '../telemetry/routing-record.js';
import {
  anthropicMessageBody,
  fixturePolicy,
  openAiCompletionBody,
  openAiErrorBody,
  openAiStreamPieces,
} from '../testing/policy.fixture.js';
import { ScriptedTransport, type ScriptedResponse } from '../testing/scripted-transport.js';

const REQUEST: ChatCompletionRequest = { messages: [{ role: 'user', content: 'hi' }] };
const ok = (model: string): ScriptedResponse => ({ status: 200, body: openAiCompletionBody(model) });
const okAnthropic = (model: string): ScriptedResponse => ({ status: 200, body: anthropicMessageBody(model) });
const status = (code: number, body = openAiErrorBody('The server had an error', 'server_error', null), headers = {}): ScriptedResponse => ({
  status: code,
  body,
  headers,
});

/** A router on virtual time: every wait, timeout and deadline runs instantly and exactly. */
function harness(doc: PolicyDocument = fixturePolicy(), random = () => 1) {
  const scheduler = new VirtualTimeScheduler(VirtualAction, Infinity);
  const transport = new ScriptedTransport(undefined, scheduler);
  const router = createLlmRouter({ policy: compilePolicy(doc), transport, scheduler, random });
  const records: RoutingRecord[] = [];
  router.records$.subscribe((r) => records.push(r));
  function run<T>(source: Observable<T>): { values: T[]; error?: unknown; completed: boolean } {
    const out: { values: T[]; error?: unknown; completed: boolean } = { values: [], completed: false };
    source.subscribe({ next: (v) => out.values.push(v), error: (e) => (out.error = e), complete: () => (out.completed = true) });
    scheduler.flush();
    return out;
  }
  return { scheduler, transport, router, records, run };
}

describe('route executor: retry and switch by category', () => {
  it('standard class: one retry on the primary, then switches', () => {
    const h = harness();
    h.transport.script('premium-a', status(503)).script('premium-b', okAnthropic('premium-b'));
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.equal(out.error, undefined);
    assert.deepEqual(h.transport.calls, ['premium-a', 'premium-a', 'premium-b']);
    assert.equal(out.values[0]!.outcome.model, 'premium-b');
    assert.equal(out.values[0]!.outcome.fallback, true);
    assert.equal(out.values[0]!.outcome.attempts, 3);
    assert.equal(out.values[0]!.completion.model, 'premium-b');
  });

  it('critical class: switches at once, no retry on the primary', () => {
    const h = harness();
    h.transport.script('premium-a', status(503)).script('premium-b', okAnthropic('premium-b'));
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'support' }));
    assert.equal(out.error, undefined);
    assert.deepEqual(h.transport.calls, ['premium-a', 'premium-b']);
  });

  it('critical class never falls to a lower tier: exhausted route fails explicitly', () => {
    const h = harness();
    h.transport.script('premium-a', status(503)).script('premium-b', status(529, JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })));
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'support' }));
    assert.ok(out.error instanceof LlmRouterError);
    assert.equal(out.error.code, 'route_exhausted');
    assert.equal(out.error.httpStatus, 502);
    assert.deepEqual(h.transport.calls, ['premium-a', 'premium-b']);
    assert.equal(h.transport.callsTo('standard-1'), 0);
  });

  it('experimentation: exactly one call, no retry, no fallback', () => {
    const h = harness();
    h.transport.script('frontier-1', status(503));
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'exp' }));
    assert.ok(out.error instanceof LlmRouterError);
    assert.deepEqual(h.transport.calls, ['frontier-1']);
  });

  it('invalid_request: returned at once, no retry, no switch, upstream message kept', () => {
    const h = harness();
    h.transport.script('premium-a', status(400, openAiErrorBody("Invalid value for 'temperature'", 'invalid_request_error', 'invalid_value')));
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.ok(out.error instanceof LlmRouterError);
    assert.equal(out.error.httpStatus, 400);
    assert.equal(out.error.origin, 'upstream');
    assert.match(out.error.message, /temperature/);
    assert.deepEqual(h.transport.calls, ['premium-a']);
  });

  it('provider_misconfigured: no retry, switches, and the target is skipped by the next request', () => {
    const h = harness();
    h.transport.script('premium-a', status(401, openAiErrorBody('Incorrect API key provided', 'invalid_request_error', 'invalid_api_key'))).script('premium-b', okAnthropic('premium-b'));
    h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.deepEqual(h.transport.calls, ['premium-a', 'premium-b']);
    const second = h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.equal(second.error, undefined);
    assert.deepEqual(h.transport.calls, ['premium-a', 'premium-b', 'premium-b']);
    const skipped = h.records[1]!.attempts[0]!;
    assert.equal(skipped.outcome, 'skipped');
    assert.equal(skipped.category, 'circuit_open');
  });

  it('upstream_quota: no retry, switches', () => {
    const h = harness();
    h.transport
      .script('premium-a', status(429, openAiErrorBody('You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', 'insufficient_quota')))
      .script('premium-b', okAnthropic('premium-b'));
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.equal(out.error, undefined);
    assert.deepEqual(h.transport.calls, ['premium-a', 'premium-b']);
  });

  it('context_length: switches only to a model with a larger window', () => {
    const doc = fixturePolicy();
    doc.classes['wide'] = { criticality: 'standard', route: ['premium-a', 'standard-1', 'premium-b'] };
    const h = harness(doc);
    h.transport
      .script('premium-a', status(400, openAiErrorBody("This model's maximum context length is 128000 tokens.", 'invalid_request_error', 'context_length_exceeded')))
      .script('premium-b', okAnthropic('premium-b'));
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'wide' }));
    assert.equal(out.error, undefined);
    // standard-1 (32k) is smaller than premium-a (128k): skipped without a call.
    assert.deepEqual(h.transport.calls, ['premium-a', 'premium-b']);
  });

  it('context_length with no larger window left: 400 context_length_exceeded', () => {
    const h = harness();
    h.transport.script('premium-b', status(400, JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 208310 tokens > 200000 maximum' } })));
    const out = h.run(h.router.completion$({ ...REQUEST, model: 'premium-b' }, { trafficClass: 'general' }));
    assert.ok(out.error instanceof LlmRouterError);
    assert.equal(out.error.code, 'context_length_exceeded');
    assert.deepEqual(h.transport.calls, ['premium-b']);
  });

  it('content_filtered: no switch unless the class allows it', () => {
    const filtered = status(400, JSON.stringify({ error: { message: 'The response was filtered', type: null, param: 'prompt', code: 'content_filter', status: 400 } }));
    const h = harness();
    h.transport.script('premium-a', filtered).script('premium-b', okAnthropic('premium-b'));
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.ok(out.error instanceof LlmRouterError);
    assert.equal(out.error.category, 'content_filtered');
    assert.deepEqual(h.transport.calls, ['premium-a']);

    const doc = fixturePolicy();
    doc.classes['general'] = { criticality: 'standard', route: ['premium-a', 'premium-b'], switchOnContentFilter: true };
    const h2 = harness(doc);
    h2.transport.script('premium-a', filtered).script('premium-b', okAnthropic('premium-b'));
    const out2 = h2.run(h2.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.equal(out2.error, undefined);
    assert.deepEqual(h2.transport.calls, ['premium-a', 'premium-b']);
  });

  it('maxAttempts caps calls across all targets', () => {
    const doc = fixturePolicy();
    doc.classes['general'] = { criticality: 'standard', route: ['premium-a', 'premium-b', 'standard-1'], retriesPerTarget: 2, maxAttempts: 4 };
    const h = harness(doc);
    h.transport.script('premium-a', status(503)).script('premium-b', status(503)).script('standard-1', ok('standard-1'));
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.ok(out.error instanceof LlmRouterError);
    assert.equal(h.transport.calls.length, 4);
    assert.deepEqual(h.transport.calls, ['premium-a', 'premium-a', 'premium-a', 'premium-b']);
  });
});

describe('route executor: waits and deadlines on virtual time', () => {
  it('backoff grows exponentially with jitter inside [half, full]', () => {
    const doc = fixturePolicy();
    doc.classes['general'] = { criticality: 'standard', route: ['premium-a'], retriesPerTarget: 3, maxAttempts: 4, backoff: { baseMs: 100, maxMs: 10_000, jitter: true } };
    const full = harness(doc, () => 1);
    full.transport.script('premium-a', status(503));
    full.run(full.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.deepEqual(full.records[0]!.attempts.map((a) => a.waitedMs ?? 0), [0, 100, 200, 400]);
    const half = harness(doc, () => 0);
    half.transport.script('premium-a', status(503));
    half.run(half.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.deepEqual(half.records[0]!.attempts.map((a) => a.waitedMs ?? 0), [0, 50, 100, 200]);
    // Total virtual time: the waits only (calls answer instantly).
    assert.equal(half.records[0]!.latencyMs, 350);
  });

  it("a record's start as a number is the instant its text names, on virtual time as on the wall clock", () => {
    const h = harness();
    h.transport.script('premium-a', status(503)).script('premium-a', ok('premium-a'));
    const before = Date.now();
    h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    const record = h.records[0]!;
    assert.equal(typeof record.startedAtMs, 'number');
    assert.equal(record.startedAtMs, Date.parse(record.startedAt));
    // Virtual time: the wall clock less the call's elapsed virtual time.
    assert.ok(record.startedAtMs! >= before - record.latencyMs - 1000 && record.startedAtMs! <= Date.now());
    const real = createLlmRouter({ policy: compilePolicy(fixturePolicy()), transport: new ScriptedTransport() });
    const records: RoutingRecord[] = [];
    real.records$.subscribe((r) => records.push(r));
    // Refused before planning (an unknown class): the unplanned record.
    real.completion$(REQUEST, { trafficClass: 'no-such-class' }).subscribe({ error: () => undefined });
    assert.equal(records.length, 1);
    assert.equal(records[0]!.startedAtMs, Date.parse(records[0]!.startedAt));
  });

  it('backoff is capped at maxMs', () => {
    const doc = fixturePolicy();
    doc.classes['general'] = { criticality: 'standard', route: ['premium-a'], retriesPerTarget: 4, maxAttempts: 5, backoff: { baseMs: 100, maxMs: 250, jitter: false } };
    const h = harness(doc);
    h.transport.script('premium-a', status(503));
    h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.deepEqual(h.records[0]!.attempts.map((a) => a.waitedMs ?? 0), [0, 100, 200, 250, 250]);
  });

  it('rate_limited: honours Retry-After on the same target when it fits the deadline', () => {
    const h = harness();
    h.transport.script('premium-a', status(429, openAiErrorBody('Rate limit reached', 'requests', 'rate_limit_exceeded'), { 'retry-after': '7' }), ok('premium-a'));
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.equal(out.error, undefined);
    assert.deepEqual(h.transport.calls, ['premium-a', 'premium-a']);
    assert.equal(h.records[0]!.attempts[1]!.waitedMs, 7_000);
    assert.equal(h.records[0]!.latencyMs, 7_000);
  });

  it('rate_limited: a Retry-After beyond the deadline switches at once instead of waiting', () => {
    const h = harness();
    h.transport.script('premium-a', status(429, openAiErrorBody('Rate limit reached', 'requests', 'rate_limit_exceeded'), { 'retry-after': '600' })).script('premium-b', okAnthropic('premium-b'));
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.equal(out.error, undefined);
    assert.deepEqual(h.transport.calls, ['premium-a', 'premium-b']);
    assert.equal(h.records[0]!.latencyMs, 0);
  });

  it('a hung target times out per attempt, and the class deadline ends the call with 504', () => {
    const doc = fixturePolicy();
    doc.classes['general'] = { criticality: 'standard', route: ['premium-a', 'premium-b'], attemptTimeoutMs: 400, deadlineMs: 1_000, retriesPerTarget: 1, backoff: { baseMs: 10, maxMs: 10, jitter: false } };
    const h = harness(doc);
    h.transport.script('premium-a', { hang: true }).script('premium-b', { hang: true });
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.ok(out.error instanceof LlmRouterError);
    assert.equal(out.error.category, 'deadline_exceeded');
    assert.equal(out.error.httpStatus, 504);
    // 400 (a) + 10 + 400 (a) + the last 190 ms on b before the deadline.
    assert.deepEqual(h.transport.calls, ['premium-a', 'premium-a', 'premium-b']);
    assert.equal(h.records[0]!.latencyMs, 1_000);
    assert.equal(h.transport.aborted, 3, 'every hung call was torn down');
  });

  it('a deadline that fires with the primary in flight names that attempt, as the record lists it (not "no attempt was made")', () => {
    const doc = fixturePolicy();
    // Only the deadline set: the attempt timeout is capped to it, and the deadline fires first.
    doc.classes['general'] = { criticality: 'standard', route: ['premium-a', 'premium-b'], deadlineMs: 1_500 };
    const h = harness(doc);
    h.transport.script('premium-a', { hang: true });
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.ok(out.error instanceof LlmRouterError);
    assert.equal(out.error.category, 'deadline_exceeded');
    assert.equal(out.error.message, 'The "general" deadline of 1500 ms passed after premium-a aborted in flight');
    assert.deepEqual(h.records[0]!.attempts.map((a) => [a.model, a.outcome, a.latencyMs]), [['premium-a', 'aborted', 1_500]]);
    assert.equal(h.records[0]!.errorMessage, out.error.message);
    assert.equal(h.transport.aborted, 1);
  });

  it("a JSON call with no answer within its attempt timeout is attempt_timeout: its limit is the whole answer's, not a first byte's", () => {
    const doc = fixturePolicy();
    doc.classes['general'] = { criticality: 'standard', route: ['premium-a', 'standard-1'], retriesPerTarget: 0, attemptTimeoutMs: 300 };
    const h = harness(doc);
    h.transport.script('premium-a', { hang: true }).script('standard-1', ok('standard-1'));
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.equal(out.error, undefined);
    assert.equal(h.records[0]!.attempts[0]!.code, 'attempt_timeout');
  });

  // Late is late either way; the code says which wait ran out: the response head's, or the first content's after it.
  for (const [late, delay, code] of [
    ['no response head', { delayMs: 5_000 }, 'first_byte_timeout'],
    ['the head and the role chunk, but no content', { chunkDelayMs: 5_000 }, 'attempt_timeout'],
  ] as const) {
    it(`a stream with ${late} in time switches (time-to-first-token timeout), the attempt coded ${code}`, () => {
      const doc = fixturePolicy();
      doc.classes['general'] = { criticality: 'standard', route: ['premium-a', 'standard-1'], retriesPerTarget: 0, firstByteTimeoutMs: 300 };
      const h = harness(doc);
      h.transport.script('premium-a', { status: 200, chunks: openAiStreamPieces('premium-a', ['late']), ...delay }).script('standard-1', { status: 200, chunks: openAiStreamPieces('standard-1', ['a', 'b']) });
      const out = h.run(h.router.stream$({ ...REQUEST, stream: true }, { trafficClass: 'general' }));
      assert.equal(out.error, undefined);
      assert.ok(out.values.every((v) => v.chunk.model === 'standard-1'));
      assert.equal(h.records[0]!.attempts[0]!.code, code);
      assert.match(h.records[0]!.attempts[0]!.message ?? '', /within 300 ms/);
    });
  }
});

describe('route executor: streams', () => {
  it('a failure before the first chunk switches target; the answer comes from one model', () => {
    const h = harness();
    h.transport.script('premium-a', status(503)).script('premium-b', { status: 200, chunks: anthropicStream() });
    const out = h.run(h.router.stream$({ ...REQUEST, stream: true }, { trafficClass: 'support' }));
    assert.equal(out.error, undefined);
    assert.ok(out.values.length > 0);
    assert.ok(out.values.every((v) => v.chunk.model === 'premium-b' && v.outcome.model === 'premium-b'));
    assert.equal(out.values.map((v) => v.chunk.choices[0]?.delta.content ?? '').join(''), 'Hello there');
  });

  it('a failure after the first chunk errors the stream with stream_interrupted: no retry, no splice', () => {
    const h = harness();
    h.transport
      .script('premium-a', { status: 200, chunks: openAiStreamPieces('premium-a', ['one', 'two', 'three']), failAfterChunks: 2, failure: new UpstreamFailure({ category: 'transient', code: 'ECONNRESET', message: 'socket hang up' }) })
      .script('premium-b', { status: 200, chunks: anthropicStream() });
    const out = h.run(h.router.stream$({ ...REQUEST, stream: true }, { trafficClass: 'general' }));
    assert.ok(out.error instanceof LlmRouterError);
    assert.equal(out.error.category, 'stream_interrupted');
    assert.deepEqual(h.transport.calls, ['premium-a']);
    assert.ok(out.values.every((v) => v.chunk.model === 'premium-a'));
    const record = h.records[0]!;
    assert.equal(record.outcome, 'failure');
    assert.equal(record.attempts.at(-1)!.category, 'stream_interrupted');
    assert.ok(record.completionTokens > 0, 'a cut stream is still charged for what it delivered');
  });

  it('a stream without reported usage is charged from counted tokens, never zero', () => {
    const h = harness();
    const pieces = openAiStreamPieces('premium-a', ['x'.repeat(40), 'y'.repeat(40)]).filter((p) => !p.includes('"usage"'));
    h.transport.script('premium-a', { status: 200, chunks: pieces });
    const out = h.run(h.router.stream$({ ...REQUEST, stream: true }, { trafficClass: 'general' }));
    assert.equal(out.error, undefined);
    const record = h.records[0]!;
    assert.equal(record.usageEstimated, true);
    assert.equal(record.completionTokens, 20);
    assert.ok(record.costUsd > 0);
  });

  it('counted tokens read the script: a CJK answer without usage is not charged a quarter of its length', () => {
    const h = harness();
    const pieces = openAiStreamPieces('premium-a', ['您好'.repeat(20), '謝謝'.repeat(20)]).filter((p) => !p.includes('"usage"'));
    h.transport.script('premium-a', { status: 200, chunks: pieces });
    h.run(h.router.stream$({ ...REQUEST, stream: true }, { trafficClass: 'general' }));
    assert.equal(h.records[0]!.completionTokens, 80);
  });

  it('unsubscribing aborts the upstream call and records the call as aborted', () => {
    const h = harness();
    h.transport.script('premium-a', { status: 200, chunks: openAiStreamPieces('premium-a', ['a', 'b', 'c']), chunkDelayMs: 100 });
    const sub = h.router.stream$({ ...REQUEST, stream: true }, { trafficClass: 'general' }).subscribe();
    h.scheduler.schedule(() => sub.unsubscribe(), 150);
    h.scheduler.flush();
    assert.equal(h.transport.aborted, 1);
    assert.equal(h.records[0]!.outcome, 'aborted');
    assert.equal(h.records[0]!.attempts[0]!.outcome, 'aborted');
  });
});

describe('route executor: circuit breaker', () => {
  it('opens after the threshold, skips without calling, probes once after the cool-down, closes on success', async () => {
    const doc = fixturePolicy({ circuit: { failureThreshold: 2, cooldownMs: 1_000 } });
    doc.classes['general'] = { criticality: 'standard', route: ['premium-a', 'premium-b'], retriesPerTarget: 0 };
    const h = harness(doc);
    h.transport.script('premium-a', status(503), status(503), ok('premium-a')).script('premium-b', okAnthropic('premium-b'));
    h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.equal(h.transport.callsTo('premium-a'), 2);
    // Open: the third request goes straight to premium-b.
    h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.equal(h.transport.callsTo('premium-a'), 2);
    assert.equal(h.records[2]!.attempts[0]!.category, 'circuit_open');
    assert.equal(h.records[2]!.fallback, true);
    // After the cool-down, one probe goes through and closes the circuit.
    h.scheduler.schedule(() => undefined, 1_000);
    h.scheduler.flush();
    const probe = h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.equal(probe.values[0]!.outcome.model, 'premium-a');
    assert.equal(h.transport.callsTo('premium-a'), 3);
    const states = await h.router.circuitStates();
    assert.equal(states.find((s) => s.target === 'premium-a')!.status, 'closed');
  });

  it('a failed probe re-opens the circuit for another cool-down', () => {
    const doc = fixturePolicy({ circuit: { failureThreshold: 1, cooldownMs: 500 } });
    doc.classes['general'] = { criticality: 'standard', route: ['premium-a', 'premium-b'], retriesPerTarget: 0 };
    const h = harness(doc);
    h.transport.script('premium-a', status(503)).script('premium-b', okAnthropic('premium-b'));
    h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    h.scheduler.schedule(() => undefined, 500);
    h.scheduler.flush();
    h.run(h.router.completion$(REQUEST, { trafficClass: 'general' })); // probe, fails
    h.run(h.router.completion$(REQUEST, { trafficClass: 'general' })); // skipped
    assert.equal(h.transport.callsTo('premium-a'), 2);
    assert.equal(h.records[2]!.attempts[0]!.category, 'circuit_open');
  });
});

describe('route executor: records', () => {
  it('every call produces one record with attempts, serving target, tokens and cost', () => {
    const h = harness();
    h.transport.script('premium-a', status(503)).script('premium-b', okAnthropic('premium-b'));
    h.run(h.router.completion$(REQUEST, { trafficClass: 'general', tenant: 't1', feature: 'f1', session: 's1', requestId: 'req-1' }));
    assert.equal(h.records.length, 1);
    const r = h.records[0]!;
    assert.equal(r.requestId, 'req-1');
    assert.deepEqual([r.tenant, r.feature, r.session, r.trafficClass], ['t1', 'f1', 's1', 'general']);
    assert.deepEqual(r.plannedRoute, ['premium-a', 'premium-b', 'standard-1']);
    assert.deepEqual(r.attempts.map((a) => [a.model, a.outcome, a.category, a.status]), [
      ['premium-a', 'failure', 'transient', 503],
      ['premium-a', 'failure', 'transient', 503],
      ['premium-b', 'success', undefined, undefined],
    ]);
    assert.deepEqual(r.servedBy, { model: 'premium-b', provider: 'an', upstreamModel: 'premium-b' });
    assert.equal(r.fallback, true);
    assert.equal(r.outcome, 'success');
    assert.equal(r.promptTokens, 10);
    assert.equal(r.completionTokens, 5);
    assert.equal(r.costUsd, (10 * 3 + 5 * 15) / 1e6);
  });

  it('a planning refusal still produces a record', () => {
    const h = harness();
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'general', qualityFloor: { tier: 'frontier' } }));
    assert.ok(out.error instanceof LlmRouterError);
    assert.equal(out.error.category, 'quality_floor_unmet');
    assert.equal(h.records.length, 1);
    assert.equal(h.records[0]!.errorCategory, 'quality_floor_unmet');
    assert.equal(h.records[0]!.excluded.length, 3);
    assert.equal(h.transport.calls.length, 0);
  });
});

function anthropicStream(): string[] {
  const ev = (event: string, data: object) => `event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`;
  return [
    ev('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'premium-b', content: [], usage: { input_tokens: 10, output_tokens: 1 } } }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello' } }),
    ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ' there' } }),
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } }),
    ev('message_stop', {}),
  ];
}

describe('route executor: review regressions', () => {
  it('a stream that ends without its terminal event after only the role chunk still switches', () => {
    const h = harness();
    const roleOnly = openAiStreamPieces('premium-a', []).slice(0, 1);
    h.transport.script('premium-a', { status: 200, chunks: roleOnly }).script('premium-b', { status: 200, chunks: anthropicStream() });
    const out = h.run(h.router.stream$({ ...REQUEST, stream: true }, { trafficClass: 'support' }));
    assert.equal(out.error, undefined);
    assert.ok(out.values.every((v) => v.chunk.model === 'premium-b'));
  });

  it('a completion without usage is charged from its content, never zero', () => {
    const h = harness();
    const body = JSON.parse(openAiCompletionBody('premium-a', 'x'.repeat(80))) as Record<string, unknown>;
    delete body['usage'];
    h.transport.script('premium-a', { status: 200, body: JSON.stringify(body) });
    h.run(h.router.completion$(REQUEST, { trafficClass: 'general' }));
    assert.equal(h.records[0]!.usageEstimated, true);
    assert.equal(h.records[0]!.completionTokens, 20);
    assert.ok(h.records[0]!.costUsd > 0);
  });
});
