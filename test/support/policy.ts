/**
 * Test policies: a fixed model catalog on the simulator (both wire formats,
 * plus an optional provider on a closed port) and traffic classes with small
 * timeouts and backoff so the suite stays fast.
 */
import type { PolicyDocument } from '@llm-router/nestjs';

export type ClassDoc = PolicyDocument['classes'][string];
export type ModelDoc = PolicyDocument['models'][string];

/** Fast timings every test class starts from. */
export const FAST = {
  backoff: { baseMs: 5, maxMs: 20, jitter: false },
  firstByteTimeoutMs: 300,
  attemptTimeoutMs: 3_000,
  deadlineMs: 8_000,
} as const;

/** A traffic class with the fast timings; `extra` overrides anything. */
export function fastClass(criticality: ClassDoc['criticality'], route: string[], extra: Partial<ClassDoc> = {}): ClassDoc {
  return { criticality, route, backoff: { ...FAST.backoff }, firstByteTimeoutMs: FAST.firstByteTimeoutMs, attemptTimeoutMs: FAST.attemptTimeoutMs, deadlineMs: FAST.deadlineMs, ...extra };
}

/** The upstream model id the simulator sees (and counts in `byModel`) for a catalog model. */
export function up(model: string): string {
  return `up-${model}`;
}

/** Prices per catalog model: distinct so a cost check can tell models apart. */
export const PRICES: Record<string, { inputPerMTok: number; outputPerMTok: number }> = {};

const FORMATS = { oai: 'openai', ant: 'anthropic' } as const;
export type Fmt = keyof typeof FORMATS;
export const FMTS: readonly Fmt[] = ['oai', 'ant'];

/** Per format: name → tier, context window, capabilities. */
const SHAPES: Record<string, { tier: string; contextWindow: number; capabilities: ModelDoc['capabilities']; price: [number, number] }> = {
  frontier: { tier: 'frontier', contextWindow: 200_000, capabilities: ['tools', 'json', 'vision', 'streaming'], price: [10, 30] },
  premium: { tier: 'premium', contextWindow: 128_000, capabilities: ['tools', 'json', 'vision', 'streaming'], price: [3, 15] },
  premium2: { tier: 'premium', contextWindow: 128_000, capabilities: ['tools', 'json', 'vision', 'streaming'], price: [2, 12] },
  standard: { tier: 'standard', contextWindow: 32_000, capabilities: ['tools', 'json', 'streaming'], price: [0.5, 1.5] },
  economy: { tier: 'economy', contextWindow: 16_000, capabilities: ['json', 'streaming'], price: [0.1, 0.4] },
  /** Context-length tests: small (16k) < mid (32k) < large (200k). */
  small: { tier: 'premium', contextWindow: 16_000, capabilities: ['tools', 'json', 'streaming'], price: [1, 2] },
  mid: { tier: 'premium', contextWindow: 32_000, capabilities: ['tools', 'json', 'streaming'], price: [1, 2] },
  large: { tier: 'premium', contextWindow: 200_000, capabilities: ['tools', 'json', 'streaming'], price: [1, 2] },
};

for (const fmt of FMTS) {
  for (const [shape, s] of Object.entries(SHAPES)) PRICES[`${fmt}-${shape}`] = { inputPerMTok: s.price[0], outputPerMTok: s.price[1] };
}
PRICES['dead-premium'] = { inputPerMTok: 3, outputPerMTok: 15 };

export interface PolicyOptions {
  /** Port with nothing listening: adds provider `dead` and model `dead-premium`. */
  deadPort?: number;
  circuit?: PolicyDocument['circuit'];
  defaultClass?: string;
}

/**
 * The catalog: `oai-<shape>` on the OpenAI format, `ant-<shape>` on the
 * Anthropic format, shapes frontier, premium, premium2, standard, economy,
 * small (16k), mid (32k), large (200k). Upstream ids are `up-<name>`.
 */
export function buildPolicy(simUrl: string, classes: Record<string, ClassDoc>, options: PolicyOptions = {}): PolicyDocument {
  const providers: PolicyDocument['providers'] = {
    oai: { kind: 'openai', baseUrl: `${simUrl}/openai/v1`, timeouts: { connectMs: 500, firstByteMs: 5_000 } },
    ant: { kind: 'anthropic', baseUrl: `${simUrl}/anthropic/v1`, timeouts: { connectMs: 500, firstByteMs: 5_000 } },
  };
  const models: PolicyDocument['models'] = {};
  for (const fmt of FMTS) {
    for (const [shape, s] of Object.entries(SHAPES)) {
      const name = `${fmt}-${shape}`;
      models[name] = { provider: fmt, upstreamModel: up(name), tier: s.tier, capabilities: s.capabilities, contextWindow: s.contextWindow, price: PRICES[name]! };
    }
  }
  if (options.deadPort !== undefined) {
    providers.dead = { kind: 'openai', baseUrl: `http://127.0.0.1:${options.deadPort}/openai/v1`, timeouts: { connectMs: 500, firstByteMs: 5_000 } };
    models['dead-premium'] = {
      provider: 'dead',
      upstreamModel: up('dead-premium'),
      tier: 'premium',
      capabilities: ['tools', 'json', 'vision', 'streaming'],
      contextWindow: 128_000,
      price: PRICES['dead-premium']!,
    };
  }
  return {
    version: 1,
    tiers: ['frontier', 'premium', 'standard', 'economy'],
    providers,
    models,
    classes,
    ...(options.defaultClass ? { defaultClass: options.defaultClass } : {}),
    circuit: options.circuit ?? { failureThreshold: 50, cooldownMs: 60_000 },
  };
}

/** The other format's model of the same shape: `oai-premium` ↔ `ant-premium`. */
export function other(fmt: Fmt): Fmt {
  return fmt === 'oai' ? 'ant' : 'oai';
}
