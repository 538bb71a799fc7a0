import { BadRequestException } from '@nestjs/common';
import type { z } from 'zod';
import { openAiError } from './openai-error.js';

/** `value` as `schema` reads it, or a 400 in the OpenAI shape naming the first offending field. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.join('.') || null;
    throw new BadRequestException(openAiError(`Invalid value for '${param ?? 'body'}': ${issue.message}`, 'invalid_request_error', 'invalid_value', param));
  }
  return parsed.data;
}
