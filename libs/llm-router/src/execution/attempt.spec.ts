import assert from 'node:assert/strict';
import { test } from 'node:test';
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
