/** Injection token of the options given to `LlmRouterModule.forRoot` / `forRootAsync`. */
export const LLM_ROUTER_OPTIONS = Symbol('LLM_ROUTER_OPTIONS');
