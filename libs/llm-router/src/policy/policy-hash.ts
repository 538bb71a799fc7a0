import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level: the same policy gives the same text whatever its key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The content hash of a validated policy (defaults filled in, variables
 * expanded): 16 hex digits of its SHA-256. Two documents that differ only in
 * key order, comments or spelled-out defaults hash the same.
 */
export function policyHash(parsed: unknown): string {
  return createHash('sha256').update(canonicalJson(parsed)).digest('hex').slice(0, 16);
}
