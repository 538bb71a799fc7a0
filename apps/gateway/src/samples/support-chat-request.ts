import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';
import { openAiError } from '../errors/openai-error.js';

const supportChatRequestSchema = z.object({
  message: z.string().min(1).max(20_000),
  history: z
    .array(z.object({ role: z.enum(['user', 'assistant']), content: z.string() }))
    .max(100)
    .default([]),
});

export type SupportChatRequest = z.output<typeof supportChatRequestSchema>;

export function parseSupportChatRequest(body: unknown): SupportChatRequest {
  const parsed = supportChatRequestSchema.safeParse(body ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.join('.') || 'body';
    throw new BadRequestException(openAiError(`Invalid value for '${param}': ${issue.message}`, 'invalid_request_error', 'invalid_value', param));
  }
  return parsed.data;
}
