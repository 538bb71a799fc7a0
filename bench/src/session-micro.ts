/**
 * What a session costs (`npm run bench -- sessions`): a routed call through
 * LlmRouter over the in-process ScriptedTransport, plain (no session) against
 * a sticky turn of a session (its pin read before and written after), with
 * the in-process session store and, when Redis answers at REDIS_URL, with
 * RedisSessionStore (a GET and a SET on the real Redis per turn); and the
 * memory one stored session takes: a pin alone, and a pin with a ten-turn
 * transcript, in the in-process store (heap per session) and in Redis
 * (`MEMORY USAGE` of its key). Prints one JSON object.
 *
 * Times: the fastest batch of each; ratios: the median over rounds of the ratio within the round.
 *
 * Env: BENCH_MICRO_CALLS (calls per batch, default 3000), BENCH_MICRO_BATCHES (default 9), REDIS_URL.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { compilePolicy, createLlmRouter, InMemorySessionStore, type ChatCompletionRequest, type ChatMessage, type SessionState, type SessionStore } from '@llm-router/nestjs';
import { RedisSessionStore } from '@llm-router/nestjs/redis';
import { openAiCompletionBody, ScriptedTransport } from '@llm-router/nestjs/testing';

const CALLS = Number(process.env.BENCH_MICRO_CALLS ?? 3_000);
const BATCHES = Number(process.env.BENCH_MICRO_BATCHES ?? 9);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const model = (upstreamModel: string) => ({ provider: 'p', upstreamModel, tier: 'premium', contextWindow: 128_000, price: { inputPerMTok: 3, outputPerMTok: 15 } });
const policy = compilePolicy({
  tiers: ['premium'],
  defaultClass: 'chat',
  providers: { p: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1' } },
  models: { a: model('sim-bench-a'), b: model('sim-bench-b') },
  classes: { chat: { criticality: 'standard', route: ['a', 'b'] } },
  circuit: { failureThreshold: 1_000_000_000, cooldownMs: 60_000 },
});
const body = openAiCompletionBody('sim-bench-a', 'A short answer.', { prompt_tokens: 40, completion_tokens: 4 });
const REQUEST: ChatCompletionRequest = { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Where is my order?' }], max_tokens: 64 };

function routerOn(sessionStore: SessionStore) {
  const transport = new ScriptedTransport().script('sim-bench-a', { status: 200, body });
  const router = createLlmRouter({ policy, transport, sessionStore });
  return { router, transport };
}

async function timeBatch(fn: (i: number) => Promise<unknown>, reset: () => void): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) await fn(i);
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / CALLS;
  reset();
  return us;
}

const memory = new InMemorySessionStore({ maxSessions: 1_000_000 });
const inProcess = routerOn(memory);
const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
probe.on('error', () => undefined);
const redisUp = await probe.connect().then(() => true, () => false);
probe.disconnect();
const prefix = `llmr-bench:${randomUUID()}:session:`;
const redisClient = redisUp ? new Redis(REDIS_URL) : undefined;
const onRedis = redisClient ? routerOn(new RedisSessionStore({ client: redisClient, keyPrefix: prefix })) : undefined;

// One session per batch position: each turn reads the pin the previous batch's turn wrote.
const cases: Record<string, (i: number) => Promise<unknown>> = {
  plain: () => inProcess.router.complete(REQUEST, { tenant: 'bench' }),
  stickyInProcess: (i) => inProcess.router.complete(REQUEST, { tenant: 'bench', caller: 'k', session: `s${i % 100}` }),
  ...(onRedis ? { stickyRedis: (i: number) => onRedis.router.complete(REQUEST, { tenant: 'bench', caller: 'k', session: `s${i % 100}` }) } : {}),
};
const reset = () => {
  inProcess.transport.calls.length = 0;
  if (onRedis) onRedis.transport.calls.length = 0;
};
const names = Object.keys(cases);
const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
for (const name of names) await timeBatch(cases[name]!, reset);
for (let b = 0; b < BATCHES; b++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(b + k) % names.length]!;
    samples[name]!.push(await timeBatch(cases[name]!, reset));
  }
}
const best = (n: string) => Math.min(...samples[n]!);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// Paired by round (batches of one round ran back to back): the median of the rounds' ratios rides out bursts of other work.
const pairedRatio = (n: string) => median(samples[n]!.map((us, b) => us / samples['plain']![b]!));

// Memory per stored session: N sessions in a fresh in-process store, heap before and after (after a GC when exposed).
const gc = (globalThis as { gc?: () => void }).gc;
const turnText = 'The parcel left the depot on Monday and has not been scanned since. '.repeat(2);
const transcript: ChatMessage[] = Array.from({ length: 10 }, (_, i) => [
  { role: 'user', content: `${i}: ${turnText}` } as ChatMessage,
  { role: 'assistant', content: `Answer ${i}: ${turnText}` } as ChatMessage,
]).flat();
const stateOf = (i: number, withTranscript: boolean): SessionState => ({
  target: 'a',
  original: 'a',
  createdAt: Date.now(),
  updatedAt: Date.now(),
  turns: 10,
  switches: [],
  // A transcript is the session's own array (a turn appends a new one): the messages are shared here, as a turn's are with the request.
  ...(withTranscript ? { transcript: [...transcript] } : {}),
});
function heapPerSession(withTranscript: boolean, n: number): number {
  gc?.();
  const store = new InMemorySessionStore({ maxSessions: n });
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) store.set({ tenant: 'bench', caller: 'k', id: `session-${i}` }, stateOf(i, withTranscript), 3_600_000);
  gc?.();
  const bytes = (process.memoryUsage().heapUsed - before) / n;
  // Read after the measure, so the store is still alive when the heap is read.
  if (store.size !== n) throw new Error(`the store holds ${store.size} sessions, not ${n}`);
  return Math.round(bytes);
}
const heapPin = heapPerSession(false, 50_000);
let redisPin: number | undefined;
let redisTranscript: number | undefined;
if (redisClient) {
  const store = new RedisSessionStore({ client: redisClient, keyPrefix: prefix });
  await store.set({ tenant: 'bench', caller: 'k', id: 'pin' }, stateOf(0, false), 60_000);
  await store.set({ tenant: 'bench', caller: 'k', id: 'transcript' }, stateOf(0, true), 60_000);
  redisPin = Number(await redisClient.memory('USAGE', `${prefix}{bench}:k:pin`));
  redisTranscript = Number(await redisClient.memory('USAGE', `${prefix}{bench}:k:transcript`));
}
const transcriptJsonBytes = Buffer.byteLength(JSON.stringify(stateOf(0, true)));

inProcess.router.close();
onRedis?.router.close();
if (redisClient) {
  const keys = await redisClient.keys(`${prefix}*`);
  if (keys.length > 0) await redisClient.del(...keys);
  redisClient.disconnect();
}
process.stdout.write(
  `${JSON.stringify({
    calls: CALLS,
    batches: BATCHES,
    plainUs: best('plain'),
    stickyInProcessUs: best('stickyInProcess'),
    stickyInProcessRatio: pairedRatio('stickyInProcess'),
    ...(onRedis ? { stickyRedisUs: best('stickyRedis'), stickyRedisRatio: pairedRatio('stickyRedis') } : { redis: `not reachable at ${REDIS_URL}` }),
    heapBytesPerPinnedSession: heapPin,
    heapMeasuredAfterGc: gc !== undefined,
    redisBytesPerPinnedSession: redisPin ?? null,
    redisBytesPerSessionWithTenTurnTranscript: redisTranscript ?? null,
    tenTurnTranscriptJsonBytes: transcriptJsonBytes,
  })}\n`,
);
