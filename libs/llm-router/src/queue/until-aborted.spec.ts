import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMPTY, NEVER, Observable, of, throwError } from 'rxjs';
import { untilAborted } from './until-aborted.js';

describe('untilAborted', () => {
  it("resolves the call's last value", async () => {
    assert.equal(await untilAborted(of(1, 2), new AbortController().signal), 2);
  });

  it('rejects as the call does, and when it completes without a value', async () => {
    await assert.rejects(untilAborted(throwError(() => new Error('boom')), new AbortController().signal), /boom/);
    await assert.rejects(untilAborted(EMPTY, new AbortController().signal), /completed without a result/);
  });

  it('resolves undefined once the signal aborts, and unsubscribes the call', async () => {
    const abort = new AbortController();
    let unsubscribed = false;
    const call$ = new Observable<number>(() => () => (unsubscribed = true));
    const result = untilAborted(call$, abort.signal);
    abort.abort();
    assert.equal(await result, undefined);
    assert.equal(unsubscribed, true);
  });

  it('resolves undefined without subscribing when the signal aborted already', async () => {
    const abort = new AbortController();
    abort.abort();
    assert.equal(await untilAborted(NEVER, abort.signal), undefined);
  });
});
