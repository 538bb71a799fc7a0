import type { ChatCompletionRequest, ChatMessage, ContentPart, ResponseFormat, ToolChoice } from '@llm-router/nestjs';
import { invalid } from '../errors/invalid-value.js';
import type { ConversationItem, MessageItem, ResponsesRequest, TextFormat } from './response.types.js';

/**
 * A Responses API request as the chat-completions request the router routes:
 * the instructions first (as a system message; earlier responses' instructions
 * are not carried, as OpenAI does), then every earlier item of the
 * conversation (`history`, oldest first), then this request's input.
 * Function calls become assistant tool calls with the same ids, their
 * outputs tool messages, so any provider the router picks (Anthropic
 * included) receives the whole conversation.
 */
export function toChatRequest(request: ResponsesRequest, history: readonly ConversationItem[]): ChatCompletionRequest {
  const messages: ChatMessage[] = [];
  if (request.instructions !== undefined && request.instructions !== '') messages.push({ role: 'system', content: request.instructions });
  const calls = new Set<string>();
  for (const item of history) appendItem(messages, item, calls);
  request.input.forEach((item, i) => {
    if (item.type === 'function_call_output' && !calls.has(item.call_id)) {
      throw invalid(`No function call found for the function_call_output with call_id "${item.call_id}".`, `input[${i}].call_id`);
    }
    appendItem(messages, item, calls);
  });
  // Every provider refuses a tool call left without its result (as OpenAI's Responses API does): said here, before any upstream call.
  const answered = new Set([...history, ...request.input].flatMap((item) => (item.type === 'function_call_output' ? [item.call_id] : [])));
  const unanswered = [...calls].find((id) => !answered.has(id));
  if (unanswered !== undefined) throw invalid(`No tool output found for function call ${unanswered}: send a function_call_output item with this call_id.`, 'input');

  const chat: ChatCompletionRequest = { messages };
  if (request.model !== undefined) chat.model = request.model;
  if (request.tools !== undefined && request.tools.length > 0) {
    chat.tools = request.tools.map((tool) => {
      const fn: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean } = { name: tool.name };
      if (tool.description != null) fn.description = tool.description;
      if (tool.parameters != null) fn.parameters = tool.parameters;
      if (tool.strict != null) fn.strict = tool.strict;
      return { type: 'function', function: fn };
    });
  }
  if (request.tool_choice !== undefined) chat.tool_choice = toolChoice(request.tool_choice);
  if (request.max_output_tokens !== undefined) chat.max_completion_tokens = request.max_output_tokens;
  if (request.temperature !== undefined) chat.temperature = request.temperature;
  if (request.top_p !== undefined) chat.top_p = request.top_p;
  if (request.parallel_tool_calls !== undefined) chat.parallel_tool_calls = request.parallel_tool_calls;
  if (request.user !== undefined) chat.user = request.user;
  if (request.text !== undefined) chat.response_format = responseFormat(request.text.format);
  return chat;
}

function appendItem(messages: ChatMessage[], item: ConversationItem, calls: Set<string>): void {
  switch (item.type) {
    case 'message':
      messages.push(item.role === 'assistant' ? { role: 'assistant', content: assistantText(item) } : { role: item.role, content: userContent(item) });
      return;
    case 'function_call': {
      calls.add(item.call_id);
      const call = { id: item.call_id, type: 'function' as const, function: { name: item.name, arguments: item.arguments } };
      // Calls that follow an assistant turn belong to it, as one chat-completions assistant message carries its text and its calls.
      const last = messages[messages.length - 1];
      if (last?.role === 'assistant') (last.tool_calls ??= []).push(call);
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
      return;
    }
    case 'function_call_output':
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: typeof item.output === 'string' ? item.output : item.output.map((p) => p.text).join('') });
      return;
  }
}

function userContent(item: MessageItem): string | ContentPart[] {
  if (typeof item.content === 'string') return item.content;
  return item.content.map((part): ContentPart => {
    switch (part.type) {
      case 'input_image':
        return { type: 'image_url', image_url: { url: part.image_url, detail: part.detail } };
      case 'refusal':
        return { type: 'text', text: part.refusal };
      default:
        return { type: 'text', text: part.text };
    }
  });
}

/** An assistant turn's text (images were refused at parsing; a refusal is what the model said). */
function assistantText(item: MessageItem): string {
  if (typeof item.content === 'string') return item.content;
  return item.content.map((part) => (part.type === 'refusal' ? part.refusal : part.type === 'input_image' ? '' : part.text)).join('');
}

function toolChoice(choice: NonNullable<ResponsesRequest['tool_choice']>): ToolChoice {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

function responseFormat(format: TextFormat): ResponseFormat {
  if (format.type !== 'json_schema') return format;
  const schema: { name: string; schema?: Record<string, unknown>; strict?: boolean } = { name: format.name };
  if (format.schema !== undefined) schema.schema = format.schema;
  if (format.strict != null) schema.strict = format.strict;
  return { type: 'json_schema', json_schema: schema };
}
