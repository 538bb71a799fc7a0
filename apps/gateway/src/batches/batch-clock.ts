import { LLM_ROUTER_OPTIONS, type LlmRouterModuleOptions } from '@llm-router/nestjs';

/** The wall clock batches run on: the router's (`clock` in its options), so a batch's day and period are the budget's. */
export const BATCH_CLOCK = Symbol('BATCH_CLOCK');

export type Clock = () => number;

export const batchClockProvider = {
  provide: BATCH_CLOCK,
  useFactory: (options: LlmRouterModuleOptions): Clock => options.clock ?? Date.now,
  inject: [LLM_ROUTER_OPTIONS],
};
