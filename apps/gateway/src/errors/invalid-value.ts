import { BadRequestException } from '@nestjs/common';
import type { z } from 'zod';
import { openAiError } from './openai-error.js';

type Issue = { readonly path: readonly PropertyKey[]; readonly message: string; readonly code?: string; readonly errors?: readonly (readonly Issue[])[] };

/** A zod issue's path as OpenAI names a parameter: `input[2].content[0].text`. */
export function paramOf(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}

/** The first issue of a failed validation as a 400 naming the offending field. */
export function invalidValue(error: z.ZodError, prefix: readonly PropertyKey[] = []): BadRequestException {
  const issue = deepest(error.issues[0]! as Issue);
  const param = paramOf([...prefix, ...issue.path]);
  return new BadRequestException(openAiError(`Invalid value for '${param || 'body'}': ${issue.message}`, 'invalid_request_error', 'invalid_value', param || null));
}

/**
 * Of a union that matched no branch (content: a string or a list of parts),
 * the issue deepest inside the value: the part's missing field, not
 * "invalid input" on the whole list.
 */
function deepest(issue: Issue): Issue {
  let best = issue;
  if (issue.code !== 'invalid_union' || issue.errors === undefined) return best;
  for (const branch of issue.errors) {
    for (const inner of branch) {
      const found = deepest(inner);
      if (found.path.length > 0 && issue.path.length + found.path.length > best.path.length) best = { path: [...issue.path, ...found.path], message: found.message };
    }
  }
  return best;
}

/** A 400 naming `param`, for a value the schema accepted but the gateway cannot use. */
export function invalid(message: string, param: string): BadRequestException {
  return new BadRequestException(openAiError(message, 'invalid_request_error', 'invalid_value', param));
}
