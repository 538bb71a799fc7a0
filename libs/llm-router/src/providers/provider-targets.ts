import type { CompiledModel, CompiledPolicy } from '../policy/compiled-policy.js';
import { AnthropicAdapter } from './anthropic/anthropic.adapter.js';
import { OpenAiAdapter } from './openai/openai.adapter.js';
import type { ProviderKind } from '../policy/policy.schema.js';
import type { AdapterTarget, ProviderAdapter } from './provider-adapter.interface.js';

/** A catalog model bound to its wire format and credentials, built once at start-up. */
export interface ProviderTarget {
  readonly model: CompiledModel;
  readonly adapter: ProviderAdapter;
  readonly adapterTarget: AdapterTarget;
}

const ADAPTERS: Record<ProviderKind, ProviderAdapter> = {
  openai: new OpenAiAdapter(),
  anthropic: new AnthropicAdapter(),
};

export function buildProviderTargets(
  policy: CompiledPolicy,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Map<string, ProviderTarget> {
  const targets = new Map<string, ProviderTarget>();
  for (const model of policy.models.values()) {
    const provider = model.provider;
    targets.set(model.name, {
      model,
      adapter: ADAPTERS[provider.kind],
      adapterTarget: {
        model: model.name,
        upstreamModel: model.upstreamModel,
        basePath: provider.basePath,
        apiKey: provider.apiKeyEnv ? env[provider.apiKeyEnv] : undefined,
        headers: provider.headers,
      },
    });
  }
  return targets;
}

/** Providers whose key variable is named but unset: reported at start-up, categorized on first use. */
export function missingApiKeys(policy: CompiledPolicy, env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  return [...policy.providers.values()]
    .filter((p) => p.apiKeyEnv !== undefined && !env[p.apiKeyEnv])
    .map((p) => `${p.name} (${p.apiKeyEnv})`);
}
