import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import { deriveRequestNeeds } from './request-needs.js';

const user = { role: 'user' as const, content: 'fix it' };
const lookup = { type: 'function' as const, function: { name: 'lookup' } };
const patch = { type: 'custom' as const, custom: { name: 'apply_patch' } };

describe('deriveRequestNeeds: custom tools', () => {
  it('needs custom_tools when a custom tool is offered, named in tool_choice or allowed_tools, or was called earlier', () => {
    const needing: ChatCompletionRequest[] = [
      { messages: [user], tools: [lookup, patch] },
      { messages: [user], tools: [lookup], tool_choice: { type: 'custom', custom: { name: 'apply_patch' } } },
      { messages: [user], tools: [lookup], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [patch] } } },
      { messages: [user, { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'custom', custom: { name: 'apply_patch', input: 'x' } }] }, { role: 'tool', tool_call_id: 'c', content: 'ok' }] },
    ];
    for (const request of needing) assert.ok(deriveRequestNeeds(request).capabilities.includes('custom_tools'), JSON.stringify(request));
  });

  it('function tools alone need only tools', () => {
    const request: ChatCompletionRequest = { messages: [user], tools: [lookup], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [lookup] } } };
    assert.deepEqual(deriveRequestNeeds(request).capabilities, ['tools']);
  });
});

describe('deriveRequestNeeds: the capability list', () => {
  it("is one shared, frozen list per combination of needs (a stream's plan holds it for its life: no list of its own)", () => {
    const a = deriveRequestNeeds({ messages: [user], stream: true }).capabilities;
    const b = deriveRequestNeeds({ messages: [{ role: 'user', content: 'another' }], stream: true }).capabilities;
    assert.deepEqual(a, ['streaming']);
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a));
    assert.notEqual(deriveRequestNeeds({ messages: [user], tools: [lookup], stream: true }).capabilities, a);
  });
});
