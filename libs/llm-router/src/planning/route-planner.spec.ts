import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import { LlmRouterError } from '../errors/llm-router.error.js';
import { refusal } from '../testing/refusal.spec-helper.js';
import { compilePolicy } from '../policy/compile-policy.js';
import { fixturePolicy } from '../testing/policy.fixture.js';
import { deriveRequestNeeds } from './request-needs.js';
import { textTokens } from '../chat/text-tokens.js';
import { mergeFloors, RoutePlanner } from './route-planner.js';

const policy = compilePolicy(fixturePolicy());
const planner = new RoutePlanner(policy);
const hi: ChatCompletionRequest = { messages: [{ role: 'user', content: 'hi' }] };
const names = (plan: { candidates: readonly { name: string }[] }) => plan.candidates.map((m) => m.name);


describe('RoutePlanner', () => {
  it('plans the class route in order', () => {
    assert.deepEqual(names(planner.plan(hi, 'general', undefined)), ['premium-a', 'premium-b', 'standard-1']);
  });

  it("with nothing left out, the plan's candidates are the class route itself, not a copy per call (a stream's plan holds them for its life)", () => {
    const general = policy.classes.get('general')!;
    assert.equal(planner.plan(hi, 'general', undefined).candidates, general.route);
    const premium = planner.plan(hi, 'general', { tier: 'premium' });
    assert.deepEqual(names(premium), ['premium-a', 'premium-b']);
  });

  it('uses the default class when none is named', () => {
    assert.equal(planner.plan(hi, undefined, undefined).trafficClass.name, 'general');
  });

  it('a quality floor excludes lower tiers, with the reason', () => {
    const plan = planner.plan(hi, 'general', { tier: 'premium' });
    assert.deepEqual(names(plan), ['premium-a', 'premium-b']);
    assert.deepEqual(plan.excluded, [{ model: 'standard-1', reason: 'tier "standard" is below the quality floor "premium"' }]);
  });

  it('critical classes keep to the primary tier (equivalent-quality backup only)', () => {
    const plan = planner.plan(hi, 'support', undefined);
    assert.deepEqual(names(plan), ['premium-a', 'premium-b']);
    assert.match(plan.excluded[0]!.reason, /switches only to equivalent quality/);
  });

  it('floor capabilities and request-derived needs exclude models that lack them', () => {
    const withTools: ChatCompletionRequest = { ...hi, tools: [{ type: 'function', function: { name: 'lookup' } }] };
    assert.deepEqual(names(planner.plan(withTools, 'titles', undefined)), ['premium-a', 'standard-1']);
    const withImage: ChatCompletionRequest = {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }],
    };
    const plan = planner.plan(withImage, 'general', undefined);
    assert.deepEqual(names(plan), ['premium-a']);
    assert.ok(plan.excluded.every((e) => /lacks the "vision" capability required by the request/.test(e.reason)));
    assert.deepEqual(names(planner.plan(hi, 'general', { capabilities: ['vision'] })), ['premium-a']);
  });

  it('the estimated prompt plus requested output must fit the context window', () => {
    const long: ChatCompletionRequest = { messages: [{ role: 'user', content: 'x'.repeat(4 * 30_000) }], max_tokens: 4_000 };
    const plan = planner.plan(long, 'general', undefined);
    assert.deepEqual(names(plan), ['premium-a', 'premium-b']);
    assert.match(plan.excluded[0]!.reason, /context window 32000 is smaller than the request's ~34004 tokens/);
  });

  it('a prompt no model can hold is a context_length refusal, not a floor refusal', () => {
    const huge: ChatCompletionRequest = { messages: [{ role: 'user', content: 'x'.repeat(4 * 300_000) }] };
    const err = refusal(() => planner.plan(huge, 'general', undefined));
    assert.equal(err.category, 'context_length');
    assert.equal(err.httpStatus, 400);
  });

  it('no model meeting the floor: quality_floor_unmet listing every exclusion', () => {
    const err = refusal(() => planner.plan(hi, 'general', { tier: 'frontier' }));
    assert.equal(err.category, 'quality_floor_unmet');
    assert.equal(err.httpStatus, 422);
    assert.equal(err.excluded.length, 3);
    assert.match(err.message, /premium-a \(tier "premium" is below the quality floor "frontier"\)/);
  });

  it('a model named in the request becomes the primary, the route follows', () => {
    assert.deepEqual(names(planner.plan({ ...hi, model: 'standard-1' }, 'general', undefined)), ['standard-1', 'premium-a', 'premium-b']);
    assert.deepEqual(names(planner.plan({ ...hi, model: 'premium-a' }, 'exp', undefined)), ['premium-a']);
  });

  it('a requested model the floor excludes is flagged as the requested one, on the plan and in its exclusions', () => {
    const plan = planner.plan({ ...hi, model: 'standard-1' }, 'general', { tier: 'premium' });
    assert.deepEqual(names(plan), ['premium-a', 'premium-b']);
    const pin = { model: 'standard-1', reason: 'tier "standard" is below the quality floor "premium"', requested: true };
    assert.deepEqual(plan.excluded, [pin]);
    assert.equal(plan.requestedModel, 'standard-1');
    assert.deepEqual(plan.requestedExclusion, pin);
    // Served as asked: named, not excluded.
    const kept = planner.plan({ ...hi, model: 'premium-b' }, 'general', { tier: 'premium' });
    assert.equal(kept.requestedModel, 'premium-b');
    assert.equal(kept.requestedExclusion, undefined);
    assert.ok(kept.excluded.every((e) => e.requested === undefined));
    // Nothing named: nothing flagged.
    assert.equal(planner.plan(hi, 'general', { tier: 'premium' }).requestedModel, undefined);
  });

  it('a requested model off the cheaper route a budget downgrade takes is excluded with that reason', () => {
    const plan = planner.plan({ ...hi, model: 'frontier-1' }, 'titles', undefined, true);
    assert.equal(plan.downgrade, 'taken');
    assert.ok(!names(plan).includes('frontier-1'));
    assert.deepEqual(plan.requestedExclusion, { model: 'frontier-1', reason: "the tenant's budget tier took the class's cheaper route", requested: true });
  });

  it('unknown class and unknown model are clear 4xx refusals', () => {
    const cls = refusal(() => planner.plan(hi, 'nope', undefined));
    assert.equal(cls.code, 'unknown_traffic_class');
    assert.equal(cls.httpStatus, 400);
    const model = refusal(() => planner.plan({ ...hi, model: 'gpt-9' }, 'general', undefined));
    assert.equal(model.code, 'model_not_found');
    assert.equal(model.httpStatus, 404);
  });

  it('the class floor and a caller floor merge to the stricter', () => {
    assert.deepEqual(mergeFloors({ tier: 'standard', capabilities: ['json'] }, { tier: 'premium', capabilities: ['tools'] }, policy), {
      tier: 'premium',
      capabilities: ['json', 'tools'],
    });
    assert.deepEqual(mergeFloors({ tier: 'premium' }, { tier: 'economy' }, policy), { tier: 'premium' });
    assert.equal(mergeFloors(undefined, undefined, policy), undefined);
  });
});

describe('deriveRequestNeeds', () => {
  it('derives capabilities from tools, images, json format and streaming', () => {
    const needs = deriveRequestNeeds({
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }],
      tools: [{ type: 'function', function: { name: 'f' } }],
      response_format: { type: 'json_object' },
      stream: true,
    });
    assert.deepEqual(needs.capabilities, ['tools', 'vision', 'json', 'streaming']);
  });

  it('estimates tokens from text, tool calls and images; takes max_completion_tokens over max_tokens', () => {
    const needs = deriveRequestNeeds({ messages: [{ role: 'user', content: 'abcd'.repeat(100) }], max_tokens: 10, max_completion_tokens: 20 });
    assert.equal(needs.estimatedPromptTokens, 100 + 4);
    assert.equal(needs.requestedMaxOutputTokens, 20);
  });

  it('counts text by script: Latin 4 characters per token, Cyrillic about 1.6, CJK 1', () => {
    const prompt = (content: string) => deriveRequestNeeds({ messages: [{ role: 'user', content }] }).estimatedPromptTokens - 4;
    assert.equal(prompt('x'.repeat(4000)), 1000);
    assert.equal(prompt('д'.repeat(4000)), 2500);
    assert.equal(prompt('語'.repeat(4000)), 4000);
    assert.equal(prompt('abcd語語語語'.repeat(500)), 500 + 2000);
    assert.equal(textTokens(''), 0);
    assert.equal(textTokens('é'), 0.625);
  });

  it('a CJK prompt that a characters / 4 rule would let through is kept from a model whose context cannot hold it', () => {
    // 40,000 CJK characters: ~10,000 tokens by characters / 4 (fits standard-1's 32,000), ~40,000 by script (it does not).
    const cjk: ChatCompletionRequest = { messages: [{ role: 'user', content: '請'.repeat(40_000) }], max_tokens: 100 };
    assert.ok(deriveRequestNeeds(cjk).estimatedPromptTokens >= 40_000);
    const plan = planner.plan(cjk, 'general', undefined);
    assert.deepEqual(names(plan), ['premium-a', 'premium-b']);
    assert.match(plan.excluded.find((e) => e.model === 'standard-1')?.reason ?? '', /context window 32000 is smaller/);
  });
});
