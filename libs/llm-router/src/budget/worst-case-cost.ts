import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import type { CompiledClass, CompiledModel } from '../policy/compiled-policy.js';
import { deriveRequestNeeds, type RequestNeeds } from '../planning/request-needs.js';
import type { RoutePlan } from '../planning/route-plan.js';
import { microsToUsd, tokenCostMicros } from './usd.js';

/** Output assumed when the request sets no max_tokens and the model states no limit. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4096;
/** The prompt estimate (by script, or by the model's tokenizer) may fall short of the provider's count: reserve a margin. */
const PROMPT_MARGIN = 1.25;

/** The most output one attempt on `model` may produce: the request's own limit, else the model's, else the default. */
export function outputAllowance(model: CompiledModel, needs: RequestNeeds): number {
  return needs.requestedMaxOutputTokens ?? model.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
}

/**
 * The prompt tokens a reservation covers: the estimate with the margin, or
 * times the model's learned correction (see UsageCalibration) when that is larger.
 */
export function reservedPromptTokens(promptTokens: number, correction = 1): number {
  return Math.ceil(promptTokens * Math.max(PROMPT_MARGIN, correction));
}

/**
 * The most one attempt on `model` can cost: the prompt (by default the
 * estimate by script; a reservation passes the model's own count and
 * correction) plus the whole output allowance.
 */
export function worstCaseCostMicros(model: CompiledModel, needs: RequestNeeds, promptTokens = needs.estimatedPromptTokens, correction = 1): number {
  return tokenCostMicros(reservedPromptTokens(promptTokens, correction), outputAllowance(model, needs), model.price);
}

/**
 * What one attempt of `request` on `model` reserves from a tenant's budget,
 * in micro-dollars: for sizing a budget in whole worst cases.
 */
export function requestWorstCaseMicros(model: CompiledModel, request: ChatCompletionRequest): number {
  return worstCaseCostMicros(model, deriveRequestNeeds(request));
}

/**
 * Why an attempt on `model` would break the class's per-request cost ceiling,
 * or undefined when the class has none or the worst case stays under it.
 */
export function costCeilingBreach(model: CompiledModel, plan: Pick<RoutePlan, 'needs' | 'prompt'>, cls: CompiledClass): string | undefined {
  const ceiling = cls.maxCostPerRequestUsd;
  // Only priced when there is a ceiling: most classes have none.
  if (ceiling === undefined) return undefined;
  const worstCaseUsd = microsToUsd(worstCaseCostMicros(model, plan.needs, plan.prompt.tokensFor(model)));
  return worstCaseUsd > ceiling ? `worst-case cost $${worstCaseUsd.toFixed(6)} exceeds the class ceiling $${ceiling}` : undefined;
}
