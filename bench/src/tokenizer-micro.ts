/**
 * What counting prompts with a tokenizer costs a routed call (`npm run bench --
 * tokenizer`): one budgeted call with a 1 KB prompt through LlmRouter over the
 * in-process ScriptedTransport, on a model whose prompts are estimated by
 * script and on one counted with o200k_base (its upstream id is gpt-4o): once
 * the prompt has been counted (the cache answers), and with a new prompt on
 * every call (the estimate by script answers, the text goes to the tokenizer
 * thread). For scale: js-tiktoken on the event loop, per 1 KB prompt, and the
 * time o200k_base takes to load. Prints one JSON object.
 *
 * Env: BENCH_MICRO_CALLS (calls per batch, default 5000), BENCH_MICRO_BATCHES (default 7).
 */
import { compilePolicy, createLlmRouter, type ChatCompletionRequest, type RoutingRecord } from '@llm-router/nestjs';
import { openAiCompletionBody, ScriptedTransport } from '@llm-router/nestjs/testing';
import { Tiktoken } from 'js-tiktoken/lite';

const CALLS = Number(process.env.BENCH_MICRO_CALLS ?? 5_000);
const BATCHES = Number(process.env.BENCH_MICRO_BATCHES ?? 7);

const completion = (model: string) => openAiCompletionBody(model, 'A short answer.', { prompt_tokens: 260, completion_tokens: 4 });

const model = (upstreamModel: string) => ({ provider: 'p', upstreamModel, tier: 'premium', contextWindow: 128_000, price: { inputPerMTok: 3, outputPerMTok: 15 } });
const policy = compilePolicy({
  tiers: ['premium'],
  defaultClass: 'byScript',
  providers: { p: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1' } },
  models: { byScript: model('sim-bench-b'), counted: model('gpt-4o') },
  classes: { byScript: { criticality: 'standard', route: ['byScript'] }, counted: { criticality: 'standard', route: ['counted'] } },
  budgets: { tenants: { bench: { budgetUsd: 1_000_000 } } },
  circuit: { failureThreshold: 1_000_000_000, cooldownMs: 60_000 },
});
const transport = new ScriptedTransport().script('sim-bench-b', { status: 200, body: completion('sim-bench-b') }).script('gpt-4o', { status: 200, body: completion('gpt-4o') });
const router = createLlmRouter({ policy, transport });
const records: RoutingRecord[] = [];
router.records$.subscribe((r) => records.push(r));

const SYSTEM = 'You are a concise assistant for an online shop. Answer in one or two sentences; never invent order data.';
/** A 1 KB prompt: a system message and a user message of prose with an order id and a little JSON. */
function prompt(i: number): ChatCompletionRequest {
  const user = `Order #${12_345 + i}: it was due yesterday and the tracking page shows nothing. ${'The parcel left the depot on Monday and has not been scanned since; {"status":"in_transit","eta":null}. '.repeat(8)}`.slice(0, 1_024 - SYSTEM.length);
  return { messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: user }], max_tokens: 64 };
}
const SAME = prompt(0);
const FRESH = Array.from({ length: CALLS }, (_, i) => prompt(i + 1));

const route = (cls: string, request: ChatCompletionRequest) => router.complete(request, { trafficClass: cls, tenant: 'bench' });

async function timeBatch(fn: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) await fn(i);
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / CALLS;
  transport.calls.length = 0;
  records.length = 0;
  return us;
}

// The counted model's first call queues its prompt for the tokenizer thread; wait until a reservation shows the exact count.
await route('counted', SAME);
const byScriptReserved = records.at(-1)!.budget!.reservedUsd;
const loadStart = Date.now();
for (;;) {
  records.length = 0;
  await route('counted', SAME);
  if (records.at(-1)!.budget!.reservedUsd !== byScriptReserved) break;
  if (Date.now() - loadStart > 60_000) throw new Error('the tokenizer thread did not count the prompt within 60 s');
  await new Promise((r) => setTimeout(r, 20));
}
const threadReadyMs = Date.now() - loadStart;

const cases = {
  byScript: () => route('byScript', SAME),
  countedCached: () => route('counted', SAME),
  countedFresh: (i: number) => route('counted', FRESH[i]!),
};
type CaseName = keyof typeof cases;
const samples: Record<CaseName, number[]> = { byScript: [], countedCached: [], countedFresh: [] };
for (const name of Object.keys(cases) as CaseName[]) await timeBatch(cases[name]);
// Interleaved batches, the order rotating: the fastest batch of each case counts.
const names = Object.keys(cases) as CaseName[];
for (let b = 0; b < BATCHES; b++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(b + k) % names.length]!;
    samples[name].push(await timeBatch(cases[name]));
  }
}
const best = (n: CaseName) => Math.min(...samples[n]);

// For scale: what tokenizing on the event loop would cost.
let t0 = performance.now();
const { default: o200k } = await import('js-tiktoken/ranks/o200k_base');
const encoder = new Tiktoken(o200k);
const loadMs = performance.now() - t0;
const text = `${SYSTEM}${(SAME.messages[1]!.content as string)}`;
for (let i = 0; i < 200; i++) encoder.encode(text);
const encodeRuns: number[] = [];
for (let b = 0; b < BATCHES; b++) {
  t0 = performance.now();
  for (let i = 0; i < 500; i++) encoder.encode(text);
  encodeRuns.push(((performance.now() - t0) * 1e3) / 500);
}

router.close();
process.stdout.write(
  `${JSON.stringify({
    calls: CALLS,
    batches: BATCHES,
    promptChars: text.length,
    byScriptUs: best('byScript'),
    countedCachedUs: best('countedCached'),
    countedFreshUs: best('countedFresh'),
    cachedCostUs: best('countedCached') - best('byScript'),
    freshCostUs: best('countedFresh') - best('byScript'),
    onLoopEncodeUs: Math.min(...encodeRuns),
    o200kLoadMs: loadMs,
    threadReadyMs,
  })}\n`,
);
