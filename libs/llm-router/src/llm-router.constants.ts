/** Injection tokens of the module. */
export const LLM_ROUTER_OPTIONS = Symbol('LLM_ROUTER_OPTIONS');
export const LLM_ROUTER_POLICY = Symbol('LLM_ROUTER_POLICY');
