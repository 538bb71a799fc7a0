import type { ChatCompletionChunk, FinishReason, Usage } from '@llm-router/nestjs';
import { newId } from './response-ids.js';
import { responseObject, statusOf, type ResponseFrame } from './response-object.js';
import type { OutputFunctionCallItem, OutputItem, OutputMessageItem, OutputTextPart, ResponseObject } from './response.types.js';

/**
 * A routed chat-completions stream as the Responses API's typed events
 * (`event: <type>` and `data: <json>` with a rising `sequence_number`):
 * response.created and response.in_progress, then per output item
 * output_item.added, for a message content_part.added, output_text.delta
 * ... output_text.done, content_part.done, for a function call
 * function_call_arguments.delta ... .done, then output_item.done; the stream
 * ends with response.completed (response.incomplete when cut by the token
 * limit), or response.failed. Each method returns the SSE text to write.
 */
export class ResponseEvents {
  private sequence = 0;
  private readonly output: OutputItem[] = [];
  /** The message item whose text is streaming, if one is open. */
  private message?: { index: number; item: OutputMessageItem; part: OutputTextPart };
  /** Open function calls by the chunk's tool-call index. */
  private readonly calls = new Map<number, { index: number; item: OutputFunctionCallItem }>();
  private finishReason: FinishReason | undefined;
  private usage?: Usage;

  constructor(private readonly frame: ResponseFrame) {}

  start(): string {
    const response = this.response('in_progress');
    return this.event('response.created', { response }) + this.event('response.in_progress', { response });
  }

  chunk(chunk: ChatCompletionChunk, usage: Usage | undefined): string {
    if (usage) this.usage = usage;
    let out = '';
    for (const choice of chunk.choices) {
      const { content, tool_calls: toolCalls } = choice.delta;
      if (content) out += this.text(content);
      for (const delta of toolCalls ?? []) {
        let call = this.calls.get(delta.index);
        if (call === undefined) {
          out += this.closeMessage();
          const item: OutputFunctionCallItem = { type: 'function_call', id: newId('fc'), call_id: delta.id ?? newId('fc'), name: delta.function?.name ?? '', arguments: '', status: 'in_progress' };
          call = { index: this.output.push(item) - 1, item };
          this.calls.set(delta.index, call);
          out += this.event('response.output_item.added', { output_index: call.index, item });
        }
        const args = delta.function?.arguments;
        if (args) {
          call.item.arguments += args;
          out += this.event('response.function_call_arguments.delta', { item_id: call.item.id, output_index: call.index, delta: args });
        }
      }
      if (choice.finish_reason) this.finishReason = choice.finish_reason;
    }
    return out;
  }

  /** The events that close every open item, and the finished response (its last event is written once it is stored). */
  finish(): { text: string; response: ResponseObject } {
    // An answer with neither text nor calls is one empty message, as a non-streamed response has.
    let text = this.output.length === 0 ? this.openMessage() : '';
    text += this.closeMessage();
    for (const { index, item } of [...this.calls.values()].sort((a, b) => a.index - b.index)) {
      item.status = 'completed';
      text += this.event('response.function_call_arguments.done', { item_id: item.id, output_index: index, name: item.name, arguments: item.arguments });
      text += this.event('response.output_item.done', { output_index: index, item });
    }
    this.calls.clear();
    return { text, response: this.response(statusOf(this.finishReason)) };
  }

  /** The last event of a finished stream: response.completed, or response.incomplete. */
  completed(response: ResponseObject): string {
    return this.event(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response });
  }

  /** A stream that broke after it started: what was produced so far, and why it failed. */
  failed(error: { code: string; message: string }): string {
    return this.event('response.failed', { response: responseObject(this.frame, { status: 'failed', output: this.output, error, ...(this.usage ? { usage: this.usage } : {}) }) });
  }

  private text(delta: string): string {
    let out = this.message === undefined ? this.openMessage() : '';
    const open = this.message!;
    open.part.text += delta;
    out += this.event('response.output_text.delta', { item_id: open.item.id, output_index: open.index, content_index: 0, delta, logprobs: [] });
    return out;
  }

  private openMessage(): string {
    const item: OutputMessageItem = { type: 'message', id: newId('msg'), role: 'assistant', status: 'in_progress', content: [] };
    const part: OutputTextPart = { type: 'output_text', text: '', annotations: [], logprobs: [] };
    const index = this.output.push(item) - 1;
    this.message = { index, item, part };
    const added = this.event('response.output_item.added', { output_index: index, item });
    item.content.push(part);
    return added + this.event('response.content_part.added', { item_id: item.id, output_index: index, content_index: 0, part });
  }

  private closeMessage(): string {
    const open = this.message;
    if (open === undefined) return '';
    this.message = undefined;
    const { index, item, part } = open;
    item.status = statusOf(this.finishReason);
    return (
      this.event('response.output_text.done', { item_id: item.id, output_index: index, content_index: 0, text: part.text, logprobs: [] }) +
      this.event('response.content_part.done', { item_id: item.id, output_index: index, content_index: 0, part }) +
      this.event('response.output_item.done', { output_index: index, item })
    );
  }

  private response(status: 'in_progress' | 'completed' | 'incomplete'): ResponseObject {
    return responseObject(this.frame, { status, output: this.output, ...(this.usage ? { usage: this.usage } : {}), ...(this.finishReason ? { finishReason: this.finishReason } : {}) });
  }

  /** One SSE event; its data is serialized now, so later changes to the items are not in it. */
  private event(type: string, fields: Record<string, unknown>): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.sequence++, ...fields })}\n\n`;
  }
}
