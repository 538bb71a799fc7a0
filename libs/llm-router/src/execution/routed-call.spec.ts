import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Observable } from 'rxjs';
import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import { compilePolicy } from '../policy/compile-policy.js';
import type { Transport, TransportEvent } from '../providers/http/transport.interface.js';
import { createLlmRouter } from '../router/create-llm-router.js';
import type { RouteOptions, RoutedChunk } from '../router/llm-router.service.js';
import { fixturePolicy, openAiStreamPieces } from '../testing/policy.fixture.js';

async function promptLetGoOfOnceAnswerStarted(context: RouteOptions): Promise<void> {
  // A full collection on demand (the flag, then a fresh context's gc), to see whether the prompt is still held.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // The role chunk now; the first content when asked; the stream stays open.
  let sendContent: (() => void) | undefined;
  const transport: Transport = {
    send: () =>
      new Observable<TransportEvent>((subscriber) => {
        const [role, content] = openAiStreamPieces('premium-a', ['one']);
        subscriber.next({ type: 'head', status: 200, headers: { 'content-type': 'text/event-stream' } });
        subscriber.next({ type: 'data', text: role! });
        sendContent = () => subscriber.next({ type: 'data', text: content! });
      }),
    close: () => undefined,
  };
  const router = createLlmRouter({ policy: compilePolicy(fixturePolicy()), transport });
  const chunks: RoutedChunk[] = [];
  let prompt: WeakRef<ChatCompletionRequest> | undefined;
  const subscription = (() => {
    const request: ChatCompletionRequest = { messages: [{ role: 'user', content: 'hi '.repeat(1000) }], stream: true };
    prompt = new WeakRef(request);
    return router.stream$(request, context).subscribe({ next: (c) => chunks.push(c) });
  })();
  try {
    // A WeakRef's target is kept until the job that made it ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    // Before the first content a failure may still switch targets: the prompt is kept.
    assert.equal(chunks.length, 0);
    assert.notEqual(prompt!.deref(), undefined);
    sendContent!();
    assert.ok(chunks.length > 0);
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(prompt!.deref(), undefined);
    assert.equal(subscription.closed, false);
  } finally {
    subscription.unsubscribe();
    router.close?.();
  }
}

test('an open stream lets go of its prompt once the answer started, not before', () => promptLetGoOfOnceAnswerStarted({ trafficClass: 'general' }));

// The session's follow-up reads the call's pin when the turn ends: through an object, not a closure over the caller's scope (which holds the prompt).
test('an open stream in a session lets go of its prompt once the answer started', () => promptLetGoOfOnceAnswerStarted({ trafficClass: 'general', session: 's1' }));
