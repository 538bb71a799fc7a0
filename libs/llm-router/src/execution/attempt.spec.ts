import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Observable } from 'rxjs';
import { compilePolicy } from '../policy/compile-policy.js';
import type { Transport, TransportEvent } from '../providers/http/transport.interface.js';
import { buildProviderTargets } from '../providers/provider-targets.js';
import { fixturePolicy, openAiStreamPieces } from '../testing/policy.fixture.js';
import type { AttemptOutput } from './routed-event.js';
import { UpstreamAttempt } from './attempt.js';

/** Answers every call with one read holding `text` whole, then the end. */
function oneRead(text: string): Transport {
  return {
    send: () =>
      new Observable<TransportEvent>((subscriber) => {
        subscriber.next({ type: 'head', status: 200, headers: {} });
        subscriber.next({ type: 'data', text });
        subscriber.complete();
      }),
    close: () => undefined,
  };
}

test('a consumer that leaves during a read hears nothing more of it', () => {
  const target = buildProviderTargets(compilePolicy(fixturePolicy())).get('premium-a')!;
  const outputs: AttemptOutput[] = [];
  const ends: string[] = [];
  const attempt: UpstreamAttempt = new UpstreamAttempt(target, true, {
    // The first output (the held role chunk, released by the first content) makes the consumer leave.
    output: (output) => {
      outputs.push(output);
      attempt.unsubscribe();
    },
    failed: () => ends.push('failed'),
    done: () => ends.push('done'),
  });
  // One read: the role chunk, three content chunks, the finish, the usage report and [DONE].
  const read = openAiStreamPieces('premium-a', ['one', 'two', 'three']).join('');
  attempt.start(oneRead(read), { model: 'premium-a', messages: [{ role: 'user', content: 'hi' }], stream: true }, 1000);
  assert.equal(outputs.length, 1);
  assert.deepEqual(ends, []);
  assert.equal(attempt.closed, true);
});

test("an open stream does not hold its upstream answer's head", async () => {
  // A full collection on demand (the flag, then a fresh context's gc), to see whether the head is still held.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const target = buildProviderTargets(compilePolicy(fixturePolicy())).get('premium-a')!;
  let head: WeakRef<object> | undefined;
  const transport: Transport = {
    send: () =>
      new Observable<TransportEvent>((subscriber) => {
        const headers = { 'content-type': 'text/event-stream', 'x-request-id': 'up-1' };
        head = new WeakRef(headers);
        subscriber.next({ type: 'head', status: 200, headers });
        // The role chunk and one content chunk; the stream stays open.
        subscriber.next({ type: 'data', text: openAiStreamPieces('premium-a', ['one']).slice(0, 2).join('') });
      }),
    close: () => undefined,
  };
  const outputs: AttemptOutput[] = [];
  const attempt = new UpstreamAttempt(target, true, { output: (o) => outputs.push(o), failed: () => undefined, done: () => undefined });
  attempt.start(transport, { model: 'premium-a', messages: [{ role: 'user', content: 'hi' }], stream: true }, 1000);
  assert.equal(outputs.length, 2);
  // A WeakRef's target is kept until the job that made it ends.
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  assert.equal(head!.deref(), undefined);
  assert.equal(attempt.closed, false);
  attempt.unsubscribe();
});
