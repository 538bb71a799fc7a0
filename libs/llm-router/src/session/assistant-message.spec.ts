import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatCompletionChunk, ToolCallDelta } from '../chat/chat-completion.types.js';
import { AssistantMessage } from './assistant-message.js';

const chunk = (toolCalls: ToolCallDelta[]): { type: 'chunk'; chunk: ChatCompletionChunk } => ({
  type: 'chunk',
  chunk: { id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { tool_calls: toolCalls }, finish_reason: null }] },
});

describe('AssistantMessage', () => {
  it('puts streamed function and custom tool calls together by index, each of its own kind', () => {
    const message = new AssistantMessage();
    message.add(chunk([{ index: 0, id: 'call_f', type: 'function', function: { name: 'lookup', arguments: '' } }]));
    message.add(chunk([{ index: 1, id: 'call_c', type: 'custom', custom: { name: 'apply_patch', input: '' } }]));
    message.add(chunk([{ index: 0, function: { arguments: '{"q":' } }, { index: 1, custom: { input: '*** Begin' } }]));
    message.add(chunk([{ index: 0, function: { arguments: '1}' } }, { index: 1, custom: { input: ' Patch' } }]));
    assert.deepEqual(message.message(), {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_f', type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } },
        { id: 'call_c', type: 'custom', custom: { name: 'apply_patch', input: '*** Begin Patch' } },
      ],
    });
  });

  it('keeps a completed custom tool call as it came', () => {
    const message = new AssistantMessage();
    const call = { id: 'call_c', type: 'custom' as const, custom: { name: 'apply_patch', input: 'x' } };
    message.add({
      type: 'completion',
      completion: { id: 'c', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [call] }, finish_reason: 'tool_calls' }] },
    });
    assert.deepEqual(message.message(), { role: 'assistant', content: null, tool_calls: [call] });
  });
});
