import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import type { ChatCompletionRequest, ChatMessage } from '../chat/chat-completion.types.js';
import { LlmRouterError } from '../errors/llm-router.error.js';
import { compilePolicy } from '../policy/compile-policy.js';
import { InMemorySessionStore } from '../session/in-memory-session.store.js';
import type { RoutingRecord } from '../telemetry/routing-record.js';
import { fixturePolicy, openAiCompletionBody } from '../testing/policy.fixture.js';
import { ScriptedTransport } from '../testing/scripted-transport.js';
import { createLlmRouter } from './create-llm-router.js';

/** An assistant turn whose tool call is null: what a caller's own bug sends. */
const MALFORMED = {
  messages: [
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: null, tool_calls: [null] },
  ],
} as unknown as ChatCompletionRequest;

function harness() {
  const transport = new ScriptedTransport().script('premium-a', { status: 200, body: openAiCompletionBody('premium-a') });
  const router = createLlmRouter({ policy: compilePolicy(fixturePolicy()), transport, sessionStore: new InMemorySessionStore() });
  const records: RoutingRecord[] = [];
  router.records$.subscribe((r) => records.push(r));
  return { router, transport, records };
}

async function refusal(call: Promise<unknown>): Promise<LlmRouterError> {
  const error = await call.then(
    () => assert.fail('the malformed request was routed'),
    (err: unknown) => err,
  );
  assert.ok(error instanceof LlmRouterError, `an LlmRouterError, not ${String(error)}`);
  return error;
}

describe('a malformed request sent to the router itself', () => {
  it('is refused as invalid_request naming the field, with its routing record, before any upstream call', async () => {
    const h = harness();
    const error = await refusal(h.router.complete(MALFORMED, { tenant: 'acme', requestId: 'req-malformed-1' }));
    assert.deepEqual([error.category, error.code, error.httpStatus, error.param, error.requestId], ['invalid_request', 'invalid_value', 400, 'messages[1].tool_calls[0]', 'req-malformed-1']);
    assert.equal(error.policyVersion, h.router.policyVersion.id);
    assert.equal(error.toOpenAiError().error.param, 'messages[1].tool_calls[0]');
    assert.equal(h.records.length, 1);
    const record = h.records[0]!;
    assert.deepEqual(
      [record.requestId, record.outcome, record.errorCategory, record.trafficClass, record.tenant, record.attempts, record.plannedRoute, record.stream],
      ['req-malformed-1', 'failure', 'invalid_request', 'general', 'acme', [], [], false],
    );
    assert.match(record.errorMessage!, /messages\[1\]\.tool_calls\[0\]/);
    assert.equal(record.needs, undefined, 'nothing is read of a request refused for its shape');
    assert.deepEqual(h.transport.calls, []);
    h.router.close();
  });

  it('a stream, a session turn and a deferrable call are refused the same way; a request that is not an object too', async () => {
    const h = harness();
    const streamed = await refusal(lastValueFrom(h.router.stream$({ ...MALFORMED, stream: true }).pipe(toArray())));
    assert.equal(streamed.param, 'messages[1].tool_calls[0]');
    const turn = await refusal(h.router.session('s1').complete(null as unknown as ChatMessage));
    assert.equal(turn.param, 'messages[0]');
    const deferrable = await refusal(h.router.completeOrDefer({ messages: [{ role: 'user', content: 'hi' }], max_tokens: -1 }));
    assert.equal(deferrable.param, 'max_tokens');
    const notAnObject = await refusal(h.router.complete('hello' as unknown as ChatCompletionRequest));
    assert.deepEqual([notAnObject.category, notAnObject.param], ['invalid_request', null]);
    assert.deepEqual(
      h.records.map((r) => [r.outcome, r.errorCategory, r.stream]),
      [
        ['failure', 'invalid_request', true],
        ['failure', 'invalid_request', false],
        ['failure', 'invalid_request', false],
        ['failure', 'invalid_request', false],
      ],
    );
    assert.deepEqual(h.transport.calls, []);
    assert.equal(await h.router.session('s1').state(), undefined, 'the refused turn opened no session');
    h.router.close();
  });

  it('explain answers it as the refusal the call would get, naming the field', async () => {
    const h = harness();
    const explained = await h.router.explain(MALFORMED);
    assert.deepEqual(explained.refusal, {
      status: 400,
      category: 'invalid_request',
      code: 'invalid_value',
      param: 'messages[1].tool_calls[0]',
      message: "Invalid value for 'messages[1].tool_calls[0]': expected a tool call object, got null.",
    });
    assert.equal(explained.firstTarget, null);
    h.router.close();
  });
});
