import { BadRequestException } from '@nestjs/common';
import type { ChatCompletionRequest } from '@llm-router/nestjs';
import { invalidValue } from '../errors/invalid-value.js';
import { openAiError } from '../errors/openai-error.js';
import { chatCompletionRequestSchema } from './chat-completion-request.schema.js';
import { quickChatRequest } from './quick-chat-request.js';

/** Validate a body as a chat-completions request; a failure names the offending field. */
export function parseChatRequest(body: unknown): ChatCompletionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestException(openAiError('The request body must be a JSON object.', 'invalid_request_error', 'invalid_body'));
  }
  // The common request needs no schema run; anything the quick check cannot vouch for (an error included) gets one.
  const quick = quickChatRequest(body as Record<string, unknown>);
  if (quick !== undefined) return quick as unknown as ChatCompletionRequest;
  const parsed = chatCompletionRequestSchema.safeParse(body);
  if (!parsed.success) throw invalidValue(parsed.error);
  // Drop explicit nulls: the router treats absent and null alike.
  const request = parsed.data as Record<string, unknown>;
  for (const key of Object.keys(request)) if (request[key] === null) delete request[key];
  return request as unknown as ChatCompletionRequest;
}
