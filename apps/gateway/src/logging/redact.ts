/**
 * Removes secrets from free text before it is logged or persisted: gateway
 * keys, provider keys (OpenAI `sk-...`, Anthropic `sk-ant-...`), bearer
 * tokens, and `api_key=...`-style pairs. Upstream error messages sometimes
 * echo part of a key; none of it leaves the process.
 */
const PATTERNS: readonly [RegExp, string][] = [
  [/llmr_[A-Za-z0-9_-]{6,}/g, 'llmr_[redacted]'],
  [/\bsk-[A-Za-z0-9_*.-]{6,}/g, 'sk-[redacted]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/gi, '$1 [redacted]'],
  [/\b(api[_-]?key|x-api-key|access[_-]?token|secret|password)(["']?\s*[:=]\s*["']?)[^\s"',&]{4,}/gi, '$1$2[redacted]'],
];

export function redact(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** `redact`, keeping null/undefined, and bounding the length. */
export function redactOptional(text: string | undefined | null, max = 2_000): string | null {
  if (text === undefined || text === null) return null;
  const clean = redact(text);
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** `x-feature` and `x-session-id` as given, with any secret in them redacted: a key pasted into a label would be stored and logged verbatim. */
export function redactLabels(context: { feature?: string; session?: string }): void {
  if (context.feature !== undefined) context.feature = redact(context.feature);
  if (context.session !== undefined) context.session = redact(context.session);
}
