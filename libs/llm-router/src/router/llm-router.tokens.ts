/** Injection token of the parts the module assembles into `LlmRouter`. */
export const LLM_ROUTER_PARTS = Symbol('LLM_ROUTER_PARTS');
