import { compilePolicyText, type CompiledPolicy } from '@llm-router/nestjs';
import { invalid } from '../errors/invalid-value.js';

/** A policy document as a request carried it: YAML text (application/yaml), or a JSON object. */
export function candidateText(body: unknown, param = 'body'): { text: string; format: 'json' | 'yaml' } {
  if (typeof body === 'string') return { text: body, format: 'yaml' };
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) return { text: JSON.stringify(body), format: 'json' };
  throw invalid('Send the policy document as JSON (content-type application/json) or YAML (application/yaml).', param);
}

/** The candidate compiled with every error at once (a PolicyValidationError), `${VAR}` from this instance's environment. */
export function compileCandidate(body: unknown, label: string, param?: string): CompiledPolicy {
  const { text, format } = candidateText(body, param);
  return compilePolicyText(text, format, label);
}
