import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import { deriveRequestNeeds, type RequestNeeds } from './request-needs.js';

/** What a routing record keeps of a request's needs: enough to plan it again. */
export interface RecordedNeeds {
  readonly capabilities: RequestNeeds['capabilities'];
  readonly estimatedPromptTokens: number;
  readonly requestedMaxOutputTokens?: number;
}

/**
 * A stand-in request with exactly `needs` (the same capabilities, prompt
 * estimate and output limit as `deriveRequestNeeds` reads them), to plan a
 * recorded request again under another policy with the one planner: a
 * simulation or a shadow policy never sees the original text, only what
 * routing read of it.
 */
export function requestWithNeeds(needs: RecordedNeeds, model?: string): ChatCompletionRequest {
  const caps = needs.capabilities;
  const request: ChatCompletionRequest = {
    ...(model !== undefined ? { model } : {}),
    messages: [{ role: 'user', content: caps.includes('vision') ? [{ type: 'image_url', image_url: { url: 'data:,' } }] : '' }],
    ...(caps.includes('tools') ? { tools: [caps.includes('custom_tools') ? { type: 'custom', custom: { name: 't' } } : { type: 'function', function: { name: 't' } }] } : {}),
    ...(caps.includes('json') ? { response_format: { type: 'json_object' } } : {}),
    ...(caps.includes('streaming') ? { stream: true } : {}),
    ...(needs.requestedMaxOutputTokens !== undefined ? { max_tokens: needs.requestedMaxOutputTokens } : {}),
  } as ChatCompletionRequest;
  // Custom tools called earlier, none offered now: the conversation holds the call.
  if (caps.includes('custom_tools') && !caps.includes('tools')) {
    request.messages.push({ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'custom', custom: { name: 't', input: '' } }] });
  }
  // Filler text brings the estimate to the recorded one: 4 ASCII characters a token.
  const missing = needs.estimatedPromptTokens - deriveRequestNeeds(request).estimatedPromptTokens;
  if (missing > 0) request.messages.push({ role: 'user', content: 'abcd'.repeat(Math.max(0, missing - 4)) });
  return request;
}
