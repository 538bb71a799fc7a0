import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy } from '../policy/compile-policy.js';
import { deriveRequestNeeds } from '../planning/request-needs.js';
import { RoutePlanner } from '../planning/route-planner.js';
import { fixturePolicy } from '../testing/policy.fixture.js';
import { tokenCostUsd } from './usd.js';
import { costCeilingBreach, requestWorstCaseMicros, worstCaseCostMicros } from './worst-case-cost.js';

const REQUEST = { messages: [{ role: 'user' as const, content: 'hi' }] };

describe('worst-case cost', () => {
  const doc = fixturePolicy();
  doc.classes['general']!.maxCostPerRequestUsd = 0.01;
  const policy = compilePolicy(doc);
  const cls = (name: string) => policy.classes.get(name)!;
  const model = (name: string) => policy.models.get(name)!;
  const needs = deriveRequestNeeds(REQUEST);
  const plan = new RoutePlanner(policy).plan(REQUEST, 'general', undefined);

  it('is the padded prompt estimate plus the whole output allowance, at the model’s price', () => {
    // 5 prompt tokens estimated, 7 with the margin; 4096 output tokens when nothing limits them.
    assert.equal(worstCaseCostMicros(model('premium-a'), needs), 7 * 3 + 4096 * 15);
    assert.equal(worstCaseCostMicros(model('premium-a'), deriveRequestNeeds({ ...REQUEST, max_tokens: 100 })), 7 * 3 + 100 * 15);
    assert.equal(requestWorstCaseMicros(model('premium-a'), REQUEST), worstCaseCostMicros(model('premium-a'), needs));
  });

  it('a learned correction above the margin replaces it: the prompt reserved is the estimate times the correction', () => {
    assert.equal(worstCaseCostMicros(model('premium-a'), needs, 5, 1.1), 7 * 3 + 4096 * 15, 'below the margin: the margin');
    assert.equal(worstCaseCostMicros(model('premium-a'), needs, 5, 4), 20 * 3 + 4096 * 15);
    assert.equal(worstCaseCostMicros(model('premium-a'), needs, 1_000, 4), 4_000 * 3 + 4096 * 15, 'the given prompt count, not the estimate by script');
  });

  it('breaches a class ceiling only when the class has one and the worst case is above it', () => {
    assert.equal(costCeilingBreach(model('premium-a'), plan, cls('support')), undefined, 'no ceiling');
    assert.equal(costCeilingBreach(model('standard-1'), plan, cls('general')), undefined, '$0.006148 is under $0.01');
    assert.equal(costCeilingBreach(model('premium-a'), plan, cls('general')), 'worst-case cost $0.061461 exceeds the class ceiling $0.01');
  });

  it('token cost in dollars is the micro-dollar cost, rounded up', () => {
    assert.equal(tokenCostUsd({ promptTokens: 1000, completionTokens: 500 }, { inputPerMTok: 3, outputPerMTok: 15 }), 0.0105);
    assert.equal(tokenCostUsd({ promptTokens: 1, completionTokens: 0 }, { inputPerMTok: 0.1, outputPerMTok: 0 }), 0.000001);
  });
});
