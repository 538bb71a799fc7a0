import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy } from '../policy/compile-policy.js';
import { PolicyValidationError } from '../policy/policy-validation.error.js';
import { fixturePolicy } from '../testing/policy.fixture.js';
import { LivePolicy } from './live-policy.js';

describe('LivePolicy', () => {
  it('a swap replaces the generation whole; the one taken before stays as it was', () => {
    const live = new LivePolicy(compilePolicy(fixturePolicy()), {});
    const before = live.current();
    assert.equal(before.version.seq, 1);
    const doc = fixturePolicy();
    doc.classes['added'] = { criticality: 'standard', route: ['standard-1'] };
    const after = live.swap(compilePolicy(doc));
    assert.equal(after.version.seq, 2);
    assert.equal(after.version.id, `2-${after.policy.hash}`);
    assert.notEqual(after.version.hash, before.version.hash);
    assert.equal(live.current(), after);
    assert.equal(after.planner.plan({ messages: [{ role: 'user', content: 'hi' }] }, 'added', undefined).policyVersion, after.version.id);
    assert.throws(() => before.planner.resolveClass('added'), /Unknown traffic class/);
    live.close();
  });

  it('a check that refuses the candidate: every reason listed, nothing changed', () => {
    const live = new LivePolicy(compilePolicy(fixturePolicy()), {});
    live.addCheck((p) => (p.classes.has('support') ? [] : [{ path: '@TrafficClass on SupportController', message: 'unknown traffic class "support"' }]));
    const doc = fixturePolicy();
    delete doc.classes['support'];
    const current = live.current();
    assert.throws(() => live.swap(compilePolicy(doc)), (err: unknown) => err instanceof PolicyValidationError && /SupportController/.test(err.message));
    assert.equal(live.current(), current);
    live.close();
  });
});
