import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveRequestNeeds } from './request-needs.js';
import { requestWithNeeds } from './request-with-needs.js';

test('a stand-in request has exactly the recorded needs', () => {
  for (const needs of [
    { capabilities: [], estimatedPromptTokens: 12 },
    { capabilities: ['tools', 'json', 'streaming'] as const, estimatedPromptTokens: 5_000, requestedMaxOutputTokens: 256 },
    { capabilities: ['vision'] as const, estimatedPromptTokens: 2_000 },
    { capabilities: ['vision', 'tools'] as const, estimatedPromptTokens: 800 },
    { capabilities: ['tools', 'custom_tools'] as const, estimatedPromptTokens: 300 },
    { capabilities: ['custom_tools'] as const, estimatedPromptTokens: 300 },
  ]) {
    const derived = deriveRequestNeeds(requestWithNeeds(needs));
    assert.deepEqual([...derived.capabilities].sort(), [...needs.capabilities].sort());
    assert.equal(derived.estimatedPromptTokens, needs.estimatedPromptTokens, JSON.stringify(needs));
    assert.equal(derived.requestedMaxOutputTokens, needs.requestedMaxOutputTokens);
  }
});
