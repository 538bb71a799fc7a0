import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteOutcome } from '@llm-router/nestjs';
import { routingHeaderList, routingHeaders } from './routing-headers.js';

const outcome: RouteOutcome = {
  requestId: 'req-1',
  trafficClass: 'support',
  model: 'premium-b',
  provider: 'anthropic',
  upstreamModel: 'claude-x',
  fallback: true,
  attempts: 2,
  policyVersion: '3-abc',
  requestedModelExcluded: { model: 'premium-a', reason: 'circuit open\r\nx' } as RouteOutcome['requestedModelExcluded'],
  sessionMoved: { from: 'premium-a', to: 'premium-b', reason: 'target failed' } as RouteOutcome['sessionMoved'],
  budget: { tier: 'downgrade', shareUsed: 0.812345, budgetUsd: 100, spentUsd: 81.2345, action: 'downgraded' } as RouteOutcome['budget'],
};

test('the list is name, value pairs, appended after what the list held, in the order the headers go out', () => {
  const list = routingHeaderList(outcome, 0.0001234, ['content-type', 'text/event-stream']);
  assert.deepEqual(list, [
    'content-type', 'text/event-stream',
    'x-llm-request-id', 'req-1',
    'x-request-id', 'req-1',
    'x-llm-traffic-class', 'support',
    'x-llm-model', 'premium-b',
    'x-llm-provider', 'anthropic',
    'x-llm-fallback', 'true',
    'x-llm-attempts', '2',
    'x-llm-policy-version', '3-abc',
    'x-llm-cost-usd', '0.000123',
    'x-llm-requested-model-excluded', 'premium-a: circuit open  x',
    'x-llm-session-moved', 'premium-a -> premium-b; target failed',
    'x-llm-budget-tier', 'downgrade',
    'x-llm-budget-used', '0.8123',
    'x-llm-budget-action', 'downgraded',
  ]);
});

test('the object form holds the same headers; optional ones are absent when the outcome has no such part', () => {
  const headers = routingHeaders(outcome);
  assert.equal(Object.keys(headers).length, 13);
  assert.equal(headers['x-llm-requested-model-excluded'], 'premium-a: circuit open  x');
  assert.equal(headers['x-llm-session-moved'], 'premium-a -> premium-b; target failed');
  assert.equal(headers['x-llm-budget-used'], '0.8123');
  assert.equal(headers['x-llm-cost-usd'], undefined, 'no cost given');
  const plain = routingHeaders({ requestId: 'r', trafficClass: 'c', model: 'm', provider: 'p', upstreamModel: 'u', fallback: false, attempts: 1 });
  assert.deepEqual(Object.keys(plain), ['x-llm-request-id', 'x-request-id', 'x-llm-traffic-class', 'x-llm-model', 'x-llm-provider', 'x-llm-fallback', 'x-llm-attempts']);
});
