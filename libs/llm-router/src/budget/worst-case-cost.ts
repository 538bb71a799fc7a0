import type { CompiledModel } from '../policy/compiled-policy.js';
import type { RequestNeeds } from '../planning/request-needs.js';
import { tokenCostMicros } from './usd.js';

/** Output assumed when the request sets no max_tokens and the model states no limit. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4096;
/** The prompt estimate is characters / 4; providers may count more, so reserve a margin. */
const PROMPT_MARGIN = 1.25;

/** The most one attempt on `model` can cost: the estimated prompt plus the whole output allowance. */
export function worstCaseCostMicros(model: CompiledModel, needs: RequestNeeds): number {
  const maxOut = needs.requestedMaxOutputTokens ?? model.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
  return tokenCostMicros(Math.ceil(needs.estimatedPromptTokens * PROMPT_MARGIN), maxOut, model.price);
}
