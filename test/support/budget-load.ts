import { lastValueFrom, toArray } from 'rxjs';
import { createLlmRouter, LlmRouterError, type LlmRouterDeps, type PolicyDocument, compilePolicy, type RoutingRecord } from '@llm-router/nestjs';

export interface LoadResult {
  served: number;
  refused: number;
  other: string[];
  /** Sum of the routing records' cost, in micro-dollars. */
  recordedMicros: number;
}

/** Fire `count` concurrent routed calls for one tenant and tally what happened to each. */
export async function budgetLoad(policy: PolicyDocument, tenant: string, count: number, deps: Partial<LlmRouterDeps> = {}): Promise<LoadResult> {
  const router = createLlmRouter({ policy: compilePolicy(policy), ...deps });
  const records: RoutingRecord[] = [];
  router.records$.subscribe((r) => records.push(r));
  const result: LoadResult = { served: 0, refused: 0, other: [], recordedMicros: 0 };
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      try {
        const call = i % 2 === 0 ? router.complete(budgetRequest(i), { tenant, trafficClass: 'metered' }) : lastValueFrom(router.stream$({ ...budgetRequest(i), stream: true }, { tenant, trafficClass: 'metered' }).pipe(toArray()));
        await call;
        result.served++;
      } catch (err) {
        if (err instanceof LlmRouterError && err.httpStatus === 402 && err.code === 'insufficient_quota') result.refused++;
        else result.other.push(err instanceof LlmRouterError ? `${err.httpStatus} ${err.code}: ${err.message}` : String(err));
      }
    }),
  );
  result.recordedMicros = records.reduce((sum, r) => sum + Math.round(r.costUsd * 1e6), 0);
  router.close();
  return result;
}

export function budgetRequest(i: number) {
  return { messages: [{ role: 'user' as const, content: `Summarize ticket number ${1000 + i} in one line.` }], max_tokens: 200 };
}
