import type { ProviderKind } from './policy.schema.js';

/** The tokenizer encodings the router can count prompts with (OpenAI's, through js-tiktoken). */
export const TOKENIZER_ENCODINGS = ['o200k_base', 'cl100k_base'] as const;
export type TokenizerEncoding = (typeof TOKENIZER_ENCODINGS)[number];

/** OpenAI model families and their encodings, by upstream id prefix (dated and fine-tuned ids included). */
const FAMILIES: ReadonlyArray<readonly [RegExp, TokenizerEncoding]> = [
  [/^(ft:)?(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o1|o3|o4)(\b|-|$)/, 'o200k_base'],
  [/^(ft:)?(gpt-4|gpt-3\.5|text-embedding-3|text-embedding-ada-002)(\b|-|$)/, 'cl100k_base'],
];

/**
 * The encoding a model's prompts are counted with: the policy's `tokenizer`
 * when it names one (`none`: never), else the OpenAI family its upstream id
 * belongs to on an OpenAI-format provider; undefined when none is known (the
 * router then estimates by script, see textTokens, and learns a correction
 * from the usage the provider reports).
 */
export function tokenizerEncoding(kind: ProviderKind, upstreamModel: string, configured: TokenizerEncoding | 'none' | undefined): TokenizerEncoding | undefined {
  if (configured === 'none') return undefined;
  if (configured !== undefined) return configured;
  if (kind !== 'openai') return undefined;
  return FAMILIES.find(([family]) => family.test(upstreamModel))?.[1];
}
