import type { PolicyDocument } from '@llm-router/nestjs';

type ModelDoc = PolicyDocument['models'][string];

/** A premium model with tools on one of the simulator's providers. */
function premium(provider: string, upstreamModel: string): ModelDoc {
  return { provider, upstreamModel, tier: 'premium', capabilities: ['tools', 'streaming'], contextWindow: 128_000, price: { inputPerMTok: 3, outputPerMTok: 15 } };
}

/**
 * Two premium targets on the simulator, one per wire format. `support-chat`
 * tries `primary` first; one failure opens its circuit, so a forced failure
 * shows up as a fallback to `secondary` and as a degraded health check.
 */
export function supportPolicy(simUrl: string): PolicyDocument {
  return {
    defaultClass: 'support-chat',
    providers: {
      'sim-openai': { kind: 'openai', baseUrl: `${simUrl}/openai/v1` },
      'sim-anthropic': { kind: 'anthropic', baseUrl: `${simUrl}/anthropic/v1` },
    },
    models: {
      primary: premium('sim-openai', 'consumer-primary'),
      secondary: premium('sim-anthropic', 'consumer-secondary'),
    },
    classes: {
      'support-chat': { criticality: 'critical', route: ['primary', 'secondary'], backoff: { baseMs: 5, maxMs: 20, jitter: false } },
    },
    circuit: { failureThreshold: 1, cooldownMs: 60_000 },
  };
}
