/** An LlmRouter on a test policy, with every routing record collected. */
import { compilePolicy, createLlmRouter, type LlmRouter, LlmRouterError, type ChatCompletionRequest, type PolicyDocument, type RoutingRecord } from '@llm-router/nestjs';

export interface TestRouter {
  readonly router: LlmRouter;
  readonly records: RoutingRecord[];
  close(): void;
}

export function makeRouter(policy: PolicyDocument): TestRouter {
  const router = createLlmRouter({ policy: compilePolicy(policy) });
  const records: RoutingRecord[] = [];
  router.records$.subscribe((r) => records.push(r));
  return { router, records, close: () => router.close() };
}

/** A one-message chat request. */
export function ask(text: string, extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest {
  return { messages: [{ role: 'user', content: text }], ...extra };
}

/** The LlmRouterError a call rejects with (fails the test if it resolves or throws anything else). */
export async function rejection(promise: Promise<unknown>): Promise<LlmRouterError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof LlmRouterError) return err;
    throw new Error(`expected an LlmRouterError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** The reply text the simulator produces for `prompt` on a catalog model (prompt under 60 chars). */
export function simReply(model: string, prompt: string): string {
  return `Simulated reply from up-${model}: ${prompt}`;
}
