import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { propagation, trace } from '@opentelemetry/api';
import { core, tracing } from '@opentelemetry/sdk-node';
import { lastValueFrom, Observable, toArray } from 'rxjs';
import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import { compilePolicy } from '../policy/compile-policy.js';
import type { Transport, TransportEvent, TransportRequest } from '../providers/http/transport.interface.js';
import { createLlmRouter } from '../router/create-llm-router.js';
import { anthropicMessageBody, fixturePolicy, openAiErrorBody, openAiStreamPieces } from '../testing/policy.fixture.js';
import { ScriptedTransport } from '../testing/scripted-transport.js';

const REQUEST: ChatCompletionRequest = { messages: [{ role: 'user', content: 'hi' }], max_tokens: 50 };
const CALLER = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };

/** The scripted upstream, keeping the headers each request was sent with. */
class HeaderKeepingTransport implements Transport {
  readonly sent: Record<string, string>[] = [];
  constructor(private readonly inner: ScriptedTransport) {}
  send(request: TransportRequest): Observable<TransportEvent> {
    this.sent.push({ ...request.request.headers });
    return this.inner.send(request);
  }
  close(): void {
    this.inner.close();
  }
}

function harness() {
  const scripted = new ScriptedTransport()
    .script('premium-a', { status: 503, body: openAiErrorBody('overloaded', 'server_error', null), headers: { 'content-type': 'application/json' } })
    .script('premium-b', { status: 200, body: anthropicMessageBody('premium-b') })
    .script('standard-1', { status: 200, chunks: openAiStreamPieces('standard-1', ['a', 'b']) })
    .script('economy-1', { status: 200, hang: true });
  const transport = new HeaderKeepingTransport(scripted);
  const doc = fixturePolicy();
  const policy = compilePolicy({
    ...doc,
    classes: { ...doc.classes, general: { criticality: 'standard', route: ['premium-a', 'premium-b'], retriesPerTarget: 0, backoff: { baseMs: 1, maxMs: 1, jitter: false } }, streamy: { criticality: 'standard', route: ['standard-1'] }, hanging: { criticality: 'standard', route: ['economy-1'] } },
  });
  return { router: createLlmRouter({ policy, transport }), transport };
}

describe('call tracing', () => {
  const exporter = new tracing.InMemorySpanExporter();
  const provider = new tracing.BasicTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] });
  const register = () => {
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  };
  beforeEach(() => {
    trace.disable();
    propagation.disable();
    exporter.reset();
  });
  after(() => {
    trace.disable();
    propagation.disable();
  });

  it('off (no SDK registered): no span, and nothing more goes upstream than without tracing', async () => {
    const { router, transport } = harness();
    await router.complete(REQUEST, { trafficClass: 'general', traceCarrier: { traceparent: `00-${CALLER.traceId}-${CALLER.spanId}-01` } });
    assert.equal(transport.sent.length, 2);
    for (const headers of transport.sent) assert.equal(headers.traceparent, undefined);
    assert.equal(exporter.getFinishedSpans().length, 0);
  });

  it('on, registered after the router was built: a call span under the caller\'s, an attempt span per upstream call, each attempt\'s traceparent upstream', async () => {
    const { router, transport } = harness();
    register();
    const { outcome } = await router.complete(REQUEST, { trafficClass: 'general', tenant: 'acme', traceCarrier: { traceparent: `00-${CALLER.traceId}-${CALLER.spanId}-01` } });
    assert.equal(outcome.fallback, true);
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 3);
    const call = spans.find((s) => s.name === 'chat premium-a' && s.attributes['llm_router.traffic_class'] === 'general')!;
    assert.equal(call.spanContext().traceId, CALLER.traceId);
    assert.equal(call.parentSpanContext?.spanId, CALLER.spanId);
    assert.equal(call.attributes['llm_router.tenant'], 'acme');
    assert.equal(call.attributes['llm_router.policy_version'], outcome.policyVersion);
    assert.match(String(call.attributes['llm_router.policy_version']), /^\d+-[0-9a-f]+$/);
    assert.equal(call.attributes['gen_ai.response.model'], 'premium-b');
    const attempts = spans.filter((s) => s.parentSpanContext?.spanId === call.spanContext().spanId);
    assert.deepEqual(attempts.map((a) => [a.name, a.attributes['llm_router.category'] ?? null]), [['chat premium-a', 'transient'], ['chat premium-b', null]]);
    assert.deepEqual(
      transport.sent.map((h) => h.traceparent),
      attempts.map((a) => `00-${CALLER.traceId}-${a.spanContext().spanId}-01`),
    );
    // A reloaded policy: the next call's span names the new version.
    const reloaded = router.live.swap(router.policy);
    const next = await router.complete(REQUEST, { trafficClass: 'general' });
    assert.equal(next.outcome.policyVersion, reloaded.version.id);
    const nextCall = exporter.getFinishedSpans().slice(3).find((s) => s.attributes['llm_router.traffic_class'] === 'general' && s.attributes['llm_router.attempts'] !== undefined)!;
    assert.equal(nextCall.attributes['llm_router.policy_version'], reloaded.version.id);
    assert.notEqual(reloaded.version.id, outcome.policyVersion);
    exporter.reset();
    // Disabled again: the next call is not traced.
    trace.disable();
    await router.complete(REQUEST, { trafficClass: 'general' });
    assert.equal(exporter.getFinishedSpans().length, 0);
  });

  it('a caller\'s unsampled context: nothing recorded, the context still goes upstream, unsampled', async () => {
    const { router, transport } = harness();
    register();
    await router.complete(REQUEST, { trafficClass: 'general', traceCarrier: { traceparent: `00-${CALLER.traceId}-${CALLER.spanId}-00` } });
    assert.equal(exporter.getFinishedSpans().length, 0);
    assert.equal(transport.sent.length, 2);
    for (const headers of transport.sent) assert.match(headers.traceparent ?? '', new RegExp(`^00-${CALLER.traceId}-[0-9a-f]{16}-00$`));
  });

  it('a stream\'s spans end with its usage; an abandoned call\'s with error.type aborted', async () => {
    const { router } = harness();
    register();
    const chunks = await lastValueFrom(router.stream$({ ...REQUEST, stream: true }, { trafficClass: 'streamy' }).pipe(toArray()));
    assert.ok(chunks.length > 0);
    const streamCall = exporter.getFinishedSpans().find((s) => s.attributes['llm_router.stream'] === true)!;
    assert.equal(streamCall.attributes['gen_ai.usage.output_tokens'], 2);
    assert.equal(streamCall.attributes['llm_router.fallback'], false);

    const subscription = router.completion$(REQUEST, { trafficClass: 'hanging' }).subscribe();
    await new Promise((r) => setTimeout(r, 20));
    subscription.unsubscribe();
    const aborted = exporter.getFinishedSpans().filter((s) => s.attributes['error.type'] === 'aborted');
    assert.deepEqual(aborted.map((s) => s.name).sort(), ['chat economy-1', 'chat economy-1']);
  });
});
