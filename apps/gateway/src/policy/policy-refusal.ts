import { BadRequestException, ServiceUnavailableException } from '@nestjs/common';
import { PolicyValidationError } from '@llm-router/nestjs';
import { openAiError } from '../errors/openai-error.js';

/**
 * A candidate policy that cannot be applied, as the OpenAI-shaped answer: a
 * 400 whose message lists every offending path (and `issues`, the same as
 * data); a store that does not answer is a 503 (nothing was changed).
 */
export function policyRefusal(err: unknown): Error {
  if (err instanceof PolicyValidationError) {
    const body = openAiError(err.message, 'invalid_request_error', 'invalid_policy', err.issues[0]?.path ?? null);
    body.error['issues'] = err.issues;
    return new BadRequestException(body);
  }
  return new ServiceUnavailableException(openAiError(`The policy was not changed: ${(err as Error).message}`, 'api_error', 'policy_store_unavailable'));
}
