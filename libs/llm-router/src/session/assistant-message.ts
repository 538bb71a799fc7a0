import type { ChatMessage, ToolCall } from '../chat/chat-completion.types.js';
import { toolCallInput, toolName } from '../chat/tool-calls.js';
import type { AttemptOutput } from '../execution/routed-event.js';

/**
 * The served answer as the transcript's next assistant message: from one
 * completion, or put together from a stream's chunks (content, and tool calls
 * by their index, ids kept as the provider gave them).
 */
export class AssistantMessage {
  private content = '';
  private sawContent = false;
  private readonly calls: Array<{ id: string; type: 'function' | 'custom'; name: string; input: string }> = [];

  add(output: AttemptOutput): void {
    if (output.type === 'completion') {
      const message = output.completion.choices[0]?.message;
      if (!message) return;
      if (message.content !== null && message.content !== undefined) {
        this.content += message.content;
        this.sawContent = true;
      }
      for (const call of message.tool_calls ?? []) this.calls.push({ id: call.id, type: call.type, name: toolName(call), input: toolCallInput(call) });
      return;
    }
    const delta = output.chunk.choices[0]?.delta;
    if (!delta) return;
    if (typeof delta.content === 'string') {
      this.content += delta.content;
      this.sawContent = true;
    }
    for (const d of delta.tool_calls ?? []) {
      const call = (this.calls[d.index] ??= { id: '', type: 'function', name: '', input: '' });
      if (d.id) call.id = d.id;
      if (d.type) call.type = d.type;
      const part = d.function ?? d.custom;
      if (part?.name) call.name += part.name;
      const input = d.function?.arguments ?? d.custom?.input;
      if (input) call.input += input;
    }
  }

  message(): ChatMessage {
    const toolCalls: ToolCall[] = this.calls
      .filter(Boolean)
      .map((c) => (c.type === 'custom' ? { id: c.id, type: 'custom', custom: { name: c.name, input: c.input } } : { id: c.id, type: 'function', function: { name: c.name, arguments: c.input } }));
    const message: ChatMessage = { role: 'assistant', content: this.sawContent || toolCalls.length === 0 ? this.content : null };
    if (toolCalls.length > 0) message.tool_calls = toolCalls;
    return message;
  }
}
