import type { IncomingHttpHeaders } from 'node:http';
import type { FailureCategory } from '../errors/failure-category.js';

/**
 * Small pieces shared by every provider adapter: tolerant JSON parsing,
 * Retry-After parsing and the status-only fallback categorization.
 */

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON.parse that never throws: returns undefined for anything unparseable (HTML error pages, empty bodies). */
export function safeJsonParse(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A string field, or a number rendered as a string (some OpenAI-compatible servers send numeric codes). */
export function stringField(obj: JsonObject, key: string): string | undefined {
  const v = obj[key];
  if (typeof v === 'string') return v.length > 0 ? v : undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (Array.isArray(v)) return v[0];
  return typeof v === 'string' ? v : undefined;
}

const SECONDS = /^\s*\d+(?:\.\d+)?\s*$/;
const HAS_LETTER = /[a-z]/i;

/**
 * Retry delay in milliseconds from `retry-after-ms` (OpenAI) or `retry-after`
 * (delta-seconds or an HTTP-date). Undefined when absent or unparseable.
 */
export function parseRetryAfter(headers: IncomingHttpHeaders, now: number = Date.now()): number | undefined {
  const ms = headerValue(headers, 'retry-after-ms');
  if (ms !== undefined && SECONDS.test(ms)) return Math.ceil(Number(ms));
  const ra = headerValue(headers, 'retry-after');
  if (ra === undefined) return undefined;
  if (SECONDS.test(ra)) return Math.ceil(Number(ra) * 1000);
  // An HTTP-date always names a month; this keeps V8 from reading "-5" as the year -5.
  if (!HAS_LETTER.test(ra)) return undefined;
  const at = Date.parse(ra);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil(at - now));
}

/**
 * Category from the HTTP status alone, used once a provider's body-specific
 * rules (quota, context length, content filter) have not matched.
 */
export function categoryForStatus(status: number): FailureCategory {
  if (status === 429) return 'rate_limited';
  if (status === 408 || status === 409 || status >= 500) return 'transient';
  if (status === 401 || status === 403 || status === 404) return 'provider_misconfigured';
  if (status === 402) return 'upstream_quota';
  if (status >= 400) return 'invalid_request';
  // 1xx/3xx reaching the error path: a redirect or proxy in front of a wrong base URL.
  return 'provider_misconfigured';
}

const MAX_SNIPPET = 200;

/** A short, single-line message for an error body we could not parse (e.g. an HTML 502 from a proxy). */
export function describeUnparsedBody(status: number, body: string): string {
  const text = body.length > MAX_SNIPPET * 4 ? body.slice(0, MAX_SNIPPET * 4) : body;
  const flat = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  if (flat.length === 0) return `upstream answered HTTP ${status}`;
  return `upstream answered HTTP ${status}: ${flat.length > MAX_SNIPPET ? `${flat.slice(0, MAX_SNIPPET)}…` : flat}`;
}
