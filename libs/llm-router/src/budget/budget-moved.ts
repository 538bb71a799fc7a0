import type { LlmRouterError } from '../errors/llm-router.error.js';
import type { BudgetAssessment } from './budget.service.js';

/**
 * A call's first reservation found the tenant's figures no longer give the
 * decision it was planned on (or the ledger did not answer it): nothing was
 * reserved and nothing was called. The call is planned again on `next`, the
 * decision on the ledger's figures (undefined: no budget applies any more),
 * or refused with it: what `assess` would have answered had it read them.
 */
export class BudgetMoved extends Error {
  constructor(readonly next: BudgetAssessment | LlmRouterError | undefined) {
    super('the budget moved since the call was planned');
  }
}
