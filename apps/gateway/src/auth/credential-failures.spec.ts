import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CREDENTIAL_FAILURE_WINDOW_MS, CREDENTIAL_FAILURES_ALLOWED, CredentialFailures } from './credential-failures.js';

/** Failures on a clock the test moves. */
class ClockedFailures extends CredentialFailures {
  at = 5_000_000;
  protected override now(): number {
    return this.at;
  }
}

test('an address is refused once it has sent the allowed number of wrong credentials, until its window ends', () => {
  const failures = new ClockedFailures();
  for (let i = 0; i < CREDENTIAL_FAILURES_ALLOWED; i++) {
    assert.equal(failures.refusal('10.0.0.1'), undefined, `before failure ${i + 1}`);
    failures.failed('10.0.0.1');
  }
  const refusal = failures.refusal('10.0.0.1');
  assert.equal(refusal?.status, 429);
  assert.equal(refusal?.body.error.code, 'too_many_failed_credentials');
  assert.equal(refusal?.headers['retry-after'], String(CREDENTIAL_FAILURE_WINDOW_MS / 1000));
  assert.equal(failures.refusal('10.0.0.2'), undefined, 'another address is not affected');

  failures.at += CREDENTIAL_FAILURE_WINDOW_MS - 1_500;
  assert.equal(failures.refusal('10.0.0.1')?.headers['retry-after'], '2', 'retry-after counts down to the window end');
  failures.at += 1_500;
  assert.equal(failures.refusal('10.0.0.1'), undefined, 'a new window starts empty');
});

test('failures spread over windows never add up to a refusal', () => {
  const failures = new ClockedFailures();
  for (let window = 0; window < 3; window++) {
    for (let i = 0; i < CREDENTIAL_FAILURES_ALLOWED - 1; i++) failures.failed('::1');
    assert.equal(failures.refusal('::1'), undefined);
    failures.at += CREDENTIAL_FAILURE_WINDOW_MS;
  }
});

test('verify: the right secret passes, a wrong one is counted, none sent is not; a used-up window answers its 429 before any comparison', () => {
  const failures = new ClockedFailures();
  assert.equal(failures.verify('10.0.0.3', 'the-admin-key', 'the-admin-key'), 'right');
  for (let i = 0; i < 20; i++) assert.equal(failures.verify('10.0.0.3', undefined, 'the-admin-key'), 'wrong');
  assert.equal(failures.refusal('10.0.0.3'), undefined, 'nothing sent, nothing counted');
  for (let i = 0; i < CREDENTIAL_FAILURES_ALLOWED; i++) assert.equal(failures.verify('10.0.0.3', `guess-${i}`, 'the-admin-key'), 'wrong');
  const locked = failures.verify('10.0.0.3', 'the-admin-key', 'the-admin-key');
  assert.equal(typeof locked === 'object' && locked.status, 429);
});
