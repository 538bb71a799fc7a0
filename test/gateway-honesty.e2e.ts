/**
 * What the caller is told agrees with what happened (issue 13), over real
 * HTTP with the simulated provider:
 * - a deadline that fires while an attempt is in flight names that attempt,
 *   as the routing record does;
 * - a model named in the request that the class's floor excludes is said to
 *   be replaced (a response header, and the record's exclusions).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { RoutingRecord } from '@llm-router/nestjs';
import { chat, createKey, FAST, gatewayForFile, simFault, testPolicy, type CreatedKey } from './gateway-support/harness.js';

const t = gatewayForFile((sim) => {
  const policy = testPolicy(sim.url);
  policy.classes = {
    ...policy.classes,
    // Both targets hang: premium-a times out at 300 ms, the deadline passes while premium-b is in flight.
    hurried: { criticality: 'standard', route: ['premium-a', 'premium-b'], retriesPerTarget: 0, ...FAST, attemptTimeoutMs: 300, deadlineMs: 450 },
  };
  return { router: { policy } };
});

function recordOf(requestId: string | null): RoutingRecord {
  const record = t.gw.records.find((r) => r.requestId === requestId);
  assert.ok(record, `a routing record for ${requestId}`);
  return record;
}

describe('item 14: a deadline with an attempt in flight', () => {
  let key: CreatedKey;
  before(async () => {
    key = await createKey(t.gw, { tenant: 'deadline-t' });
  });

  test('the 504 names the aborted attempt, as the routing record lists it', async () => {
    const hang = `${simFault('premium-a', { hang: true })} ${simFault('premium-b', { hang: true })}`;
    const res = await chat(t.gw, key.key, `hello ${hang}`, {}, { 'x-traffic-class': 'hurried' });
    assert.equal(res.status, 504, res.text);
    assert.equal(res.json.error.category, 'deadline_exceeded');
    const message: string = res.json.error.message;
    const record = recordOf(res.headers.get('x-llm-request-id'));
    assert.deepEqual(
      record.attempts.map((a) => [a.model, a.outcome, a.code]),
      [
        ['premium-a', 'failure', 'attempt_timeout'],
        ['premium-b', 'aborted', undefined],
      ],
    );
    assert.equal(message, 'The "hurried" deadline of 450 ms passed after premium-a failed (transient), premium-b aborted in flight');
    assert.equal(record.errorMessage, message);
    assert.deepEqual(t.sim.stats().byModel, { 'up-premium-a': 1, 'up-premium-b': 1 });
  });
});

describe('item 15: a requested model the floor excludes', () => {
  let key: CreatedKey;
  before(async () => {
    key = await createKey(t.gw, { tenant: 'pin-t' });
  });

  test('served by another model: a header says the requested one was excluded and why; the record flags the exclusion', async () => {
    const res = await chat(t.gw, key.key, 'hi', { model: 'economy-1' }, { 'x-traffic-class': 'support-chat' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-llm-model'), 'premium-a');
    assert.equal(res.headers.get('x-llm-requested-model-excluded'), 'economy-1: tier "economy" is below the quality floor "premium"');
    const record = recordOf(res.headers.get('x-llm-request-id'));
    assert.equal(record.requestedModel, 'economy-1');
    const pin = record.excluded.find((e) => e.model === 'economy-1');
    assert.deepEqual(pin, { model: 'economy-1', reason: 'tier "economy" is below the quality floor "premium"', requested: true });
  });

  test('a requested model that is served: no such header', async () => {
    const res = await chat(t.gw, key.key, 'hi', { model: 'premium-b' }, { 'x-traffic-class': 'support-chat' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-llm-model'), 'premium-b');
    assert.equal(res.headers.get('x-llm-requested-model-excluded'), null);
    assert.equal(recordOf(res.headers.get('x-llm-request-id')).requestedModel, 'premium-b');
  });
});
