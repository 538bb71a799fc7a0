import type { PolicyDocument } from '../policy/policy.schema.js';

/** A small catalog over both wire formats, for unit specs. */
export function fixturePolicy(overrides: Partial<PolicyDocument> = {}): PolicyDocument {
  return {
    tiers: ['frontier', 'premium', 'standard', 'economy'],
    defaultClass: 'general',
    providers: {
      oa: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1' },
      an: { kind: 'anthropic', baseUrl: 'http://127.0.0.1:9/v1' },
    },
    models: {
      'frontier-1': { provider: 'oa', upstreamModel: 'frontier-1', tier: 'frontier', capabilities: ['tools', 'json', 'vision', 'streaming'], contextWindow: 200_000, price: { inputPerMTok: 10, outputPerMTok: 30 } },
      'premium-a': { provider: 'oa', upstreamModel: 'premium-a', tier: 'premium', capabilities: ['tools', 'json', 'vision', 'streaming'], contextWindow: 128_000, price: { inputPerMTok: 3, outputPerMTok: 15 } },
      'premium-b': { provider: 'an', upstreamModel: 'premium-b', tier: 'premium', capabilities: ['tools', 'json', 'streaming'], contextWindow: 200_000, price: { inputPerMTok: 3, outputPerMTok: 15 } },
      'standard-1': { provider: 'oa', upstreamModel: 'standard-1', tier: 'standard', capabilities: ['tools', 'json', 'streaming'], contextWindow: 32_000, price: { inputPerMTok: 0.5, outputPerMTok: 1.5 } },
      'economy-1': { provider: 'an', upstreamModel: 'economy-1', tier: 'economy', capabilities: ['json', 'streaming'], contextWindow: 8_000, price: { inputPerMTok: 0.1, outputPerMTok: 0.4 } },
    },
    classes: {
      support: { criticality: 'critical', route: ['premium-a', 'premium-b', 'standard-1'] },
      general: { criticality: 'standard', route: ['premium-a', 'premium-b', 'standard-1'] },
      titles: { criticality: 'nonessential', route: ['economy-1', 'premium-a', 'standard-1'] },
      exp: { criticality: 'experimentation', route: ['frontier-1', 'premium-a'] },
      batch: { criticality: 'batch', route: ['standard-1', 'economy-1'] },
    },
    ...overrides,
  };
}

/** A successful OpenAI chat-completions body. */
export function openAiCompletionBody(model: string, content = 'hello', usage = { prompt_tokens: 10, completion_tokens: 5 }): string {
  return JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  });
}

/** A successful Anthropic Messages body. */
export function anthropicMessageBody(model: string, text = 'hello'): string {
  return JSON.stringify({
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    usage: { input_tokens: 10, output_tokens: 5 },
  });
}

/** An OpenAI SSE stream, one piece per chunk, ending in `[DONE]`. */
export function openAiStreamPieces(model: string, parts: readonly string[]): string[] {
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  return [
    chunk({ role: 'assistant', content: '' }),
    ...parts.map((p) => chunk({ content: p })),
    chunk({}, 'stop'),
    `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model, choices: [], usage: { prompt_tokens: 10, completion_tokens: parts.length, total_tokens: 10 + parts.length } })}\n\n`,
    'data: [DONE]\n\n',
  ];
}

/** A real OpenAI error body. */
export function openAiErrorBody(message: string, type: string, code: string | null): string {
  return JSON.stringify({ error: { message, type, param: null, code } });
}
