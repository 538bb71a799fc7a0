import type { ChatCompletion, FinishReason, Usage } from '@llm-router/nestjs';
import { newId } from './response-ids.js';
import type { OutputItem, ResponseObject, ResponsesRequest, ResponseStatus, ResponseUsage } from './response.types.js';

/** What a response is, apart from what the model answered. */
export interface ResponseFrame {
  readonly id: string;
  /** Epoch seconds. */
  readonly createdAt: number;
  readonly request: ResponsesRequest;
  /** The catalog model that served (known once routed). */
  readonly model: string;
  readonly store: boolean;
}

export interface ResponseResult {
  readonly status: ResponseStatus;
  readonly output: OutputItem[];
  readonly usage?: Usage;
  readonly finishReason?: FinishReason;
  readonly error?: { code: string; message: string };
}

/** The response object, as OpenAI shapes it, echoing the request's settings. */
export function responseObject(frame: ResponseFrame, result: ResponseResult): ResponseObject {
  const { request } = frame;
  const done = result.status === 'completed' || result.status === 'incomplete';
  return {
    id: frame.id,
    object: 'response',
    created_at: frame.createdAt,
    completed_at: done ? Math.floor(Date.now() / 1000) : null,
    status: result.status,
    background: false,
    error: result.error ?? null,
    incomplete_details: result.status === 'incomplete' ? { reason: result.finishReason === 'content_filter' ? 'content_filter' : 'max_output_tokens' } : null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model: frame.model,
    output: result.output,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    store: frame.store,
    temperature: request.temperature ?? null,
    text: request.text ?? { format: { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: request.top_p ?? null,
    truncation: 'disabled',
    usage: result.usage ? responseUsage(result.usage) : null,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

/** A finished completion's status: cut by the token limit or a content filter is `incomplete`. */
export function statusOf(finishReason: FinishReason | undefined): 'completed' | 'incomplete' {
  return finishReason === 'length' || finishReason === 'content_filter' ? 'incomplete' : 'completed';
}

/** A completion's message as output items: its text (or refusal) as one message, then each tool call as a function_call. */
export function outputItems(completion: ChatCompletion): OutputItem[] {
  const choice = completion.choices[0];
  const message = choice?.message;
  const status = statusOf(choice?.finish_reason ?? undefined);
  const items: OutputItem[] = [];
  const text = message?.content ?? '';
  const calls = message?.tool_calls ?? [];
  if (message?.refusal) {
    items.push({ type: 'message', id: newId('msg'), role: 'assistant', status, content: [{ type: 'refusal', refusal: message.refusal }] });
  } else if (text !== '' || calls.length === 0) {
    items.push({ type: 'message', id: newId('msg'), role: 'assistant', status, content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] });
  }
  for (const call of calls) {
    // The Responses front offers function tools only (parse-responses-request): no custom tool call can answer it.
    if (call.type !== 'function') continue;
    items.push({ type: 'function_call', id: newId('fc'), call_id: call.id, name: call.function.name, arguments: call.function.arguments, status: 'completed' });
  }
  return items;
}

export function responseUsage(usage: Usage): ResponseUsage {
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.total_tokens ?? usage.prompt_tokens + usage.completion_tokens,
  };
}
