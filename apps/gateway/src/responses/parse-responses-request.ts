import { BadRequestException } from '@nestjs/common';
import { invalidValue, paramOf } from '../errors/invalid-value.js';
import { openAiError } from '../errors/openai-error.js';
import type { ConversationItem, ResponsesRequest } from './response.types.js';
import { ITEM_SCHEMAS, responsesRequestSchema } from './responses-request.schema.js';

const refuse = (message: string, code: string, param: string | null) => new BadRequestException(openAiError(message, 'invalid_request_error', code, param));

/** Validate a body as a Responses API request; a failure is a 400 naming the offending field. */
export function parseResponsesRequest(body: unknown): ResponsesRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw refuse('The request body must be a JSON object.', 'invalid_body', null);
  refuseHostedTools((body as Record<string, unknown>).tools);
  const parsed = responsesRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const param = paramOf([...issue.path, issue.keys[0]!]);
      throw refuse(`Unsupported parameter: '${param}' is not supported by the gateway's Responses API.`, 'unsupported_parameter', param);
    }
    throw invalidValue(parsed.error);
  }
  const { input, ...rest } = parsed.data;
  const request: Record<string, unknown> = { ...rest };
  // Absent and null mean the same: keep only what was given.
  for (const key of Object.keys(request)) if (request[key] === null) delete request[key];
  request.input = typeof input === 'string' ? [{ type: 'message', role: 'user', content: input }] : input.map(parseItem);
  return request as unknown as ResponsesRequest;
}

function parseItem(raw: unknown, i: number): ConversationItem {
  const type = typeof raw === 'object' && raw !== null && 'type' in raw ? (raw as { type: unknown }).type : 'message';
  const schema = typeof type === 'string' && Object.hasOwn(ITEM_SCHEMAS, type) ? ITEM_SCHEMAS[type as keyof typeof ITEM_SCHEMAS] : undefined;
  if (schema === undefined) {
    throw refuse(
      `Unsupported input item type ${JSON.stringify(type)}: the gateway takes messages, function_call and function_call_output items.`,
      'unsupported_item_type',
      `input[${i}].type`,
    );
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw invalidValue(parsed.error, ['input', i]);
  const item = parsed.data as Record<string, unknown>;
  if (item.id === null || item.id === undefined) delete item.id;
  if (item.status === null || item.status === undefined) delete item.status;
  if (item.type === 'message' && item.role !== 'user' && Array.isArray(item.content)) {
    const image = (item.content as Array<{ type: string }>).findIndex((part) => part.type === 'input_image');
    if (image !== -1) throw refuse(`Images are accepted in user messages only, not in a ${String(item.role)} message.`, 'invalid_value', `input[${i}].content[${image}]`);
  }
  return item as unknown as ConversationItem;
}

/** Hosted tools (web_search, file_search, computer_use ...) run on OpenAI's servers: no other provider has them. */
function refuseHostedTools(tools: unknown): void {
  if (!Array.isArray(tools)) return;
  tools.forEach((tool: unknown, i) => {
    const type = typeof tool === 'object' && tool !== null ? (tool as { type?: unknown }).type : undefined;
    if (typeof type === 'string' && type !== 'function') {
      throw refuse(`Unsupported tool type "${type}": the gateway's Responses API takes function tools only.`, 'unsupported_tool_type', `tools[${i}].type`);
    }
  });
}
