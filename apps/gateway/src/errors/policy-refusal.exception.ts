import { HttpException } from '@nestjs/common';
import type { OpenAiErrorBody } from './openai-error.js';

/**
 * A refusal the gateway decided on the policy before routing (a key's scope
 * against the policy's classes): it names the policy version it was decided
 * under (`x-llm-policy-version`), as the router's own refusals do.
 */
export class PolicyRefusal extends HttpException {
  constructor(
    body: OpenAiErrorBody,
    status: number,
    readonly policyVersion: string,
  ) {
    super(body, status);
  }
}
