import { BadRequestException } from '@nestjs/common';
import type { z } from 'zod';
import { openAiError } from './openai-error.js';

/** A zod issue's path as OpenAI names a parameter: `input[2].content[0].text`. */
export function paramOf(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}

/** The first issue of a failed validation as a 400 naming the offending field. */
export function invalidValue(error: z.ZodError, prefix: readonly PropertyKey[] = []): BadRequestException {
  const issue = error.issues[0]!;
  const param = paramOf([...prefix, ...issue.path]);
  return new BadRequestException(openAiError(`Invalid value for '${param || 'body'}': ${issue.message}`, 'invalid_request_error', 'invalid_value', param || null));
}
