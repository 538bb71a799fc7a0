import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy } from './compile-policy.js';
import { describePolicy } from './describe-policy.js';
import { fixturePolicy } from '../testing/policy.fixture.js';
import { tokenizerEncoding } from './tokenizer-encoding.js';

describe('tokenizerEncoding', () => {
  it('knows the OpenAI families by upstream id, on OpenAI-format providers', () => {
    for (const id of ['gpt-4o', 'gpt-4o-mini-2024-07-18', 'gpt-4.1', 'gpt-5-mini', 'o1', 'o3-mini', 'o4-mini', 'ft:gpt-4o-mini:acme::abc']) {
      assert.equal(tokenizerEncoding('openai', id, undefined), 'o200k_base', id);
    }
    for (const id of ['gpt-4', 'gpt-4-turbo', 'gpt-4-0613', 'gpt-3.5-turbo']) assert.equal(tokenizerEncoding('openai', id, undefined), 'cl100k_base', id);
    for (const id of ['o1234', 'gpt-40', 'llama-3', 'sim-premium-a']) assert.equal(tokenizerEncoding('openai', id, undefined), undefined, id);
    assert.equal(tokenizerEncoding('anthropic', 'gpt-4o', undefined), undefined, 'an Anthropic-format provider');
  });

  it('the policy may name the encoding (an Azure deployment id, a compatible server) or turn it off', () => {
    assert.equal(tokenizerEncoding('openai', 'my-deployment', 'o200k_base'), 'o200k_base');
    assert.equal(tokenizerEncoding('openai', 'gpt-4o', 'none'), undefined);
    const doc = fixturePolicy();
    doc.models['premium-a'] = { ...doc.models['premium-a']!, tokenizer: 'cl100k_base' };
    doc.models['frontier-1'] = { ...doc.models['frontier-1']!, upstreamModel: 'gpt-4o' };
    const policy = compilePolicy(doc);
    assert.equal(policy.models.get('premium-a')!.tokenizer, 'cl100k_base');
    assert.equal(policy.models.get('frontier-1')!.tokenizer, 'o200k_base');
    assert.equal(policy.models.get('standard-1')!.tokenizer, undefined);
    const described = describePolicy(policy) as { models: Record<string, { tokenizer: string | null }> };
    assert.equal(described.models['frontier-1']!.tokenizer, 'o200k_base');
    assert.equal(described.models['standard-1']!.tokenizer, null);
  });
});
