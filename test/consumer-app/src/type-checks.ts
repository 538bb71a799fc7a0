import { LlmRouter, QualityFloor } from '@llm-router/nestjs';

/**
 * Never called: compile-time checks that the shipped .d.ts carry real types.
 * Were a declaration missing or typed `any`, these expected errors would not
 * occur and tsc would fail on the unused `@ts-expect-error`s.
 */
export function typeChecks(router: LlmRouter): void {
  // @ts-expect-error a quality floor's tier is a tier name
  QualityFloor({ tier: 42 });
  // @ts-expect-error messages are a list of chat messages
  void router.complete({ messages: 'hello' });
}
