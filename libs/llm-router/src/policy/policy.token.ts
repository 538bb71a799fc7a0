/** Injection token of the compiled policy the router runs on. */
export const LLM_ROUTER_POLICY = Symbol('LLM_ROUTER_POLICY');
