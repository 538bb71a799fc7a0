import type { IncomingHttpHeaders } from 'node:http';
import { UpstreamFailure } from '../../errors/upstream-failure.js';
import type { FailureCategory } from '../../errors/failure-category.js';
import {
  categoryForStatus,
  describeUnparsedBody,
  isObject,
  parseRetryAfter,
  safeJsonParse,
  stringField,
  type JsonObject,
} from '../http-errors.js';

/** The fields of an OpenAI-style error body `{"error":{"message","type","param","code"}}` that matter. */
export interface OpenAiErrorInfo {
  message?: string;
  type?: string;
  code?: string;
  /** Azure puts the HTTP status inside the error object too. */
  status?: number;
}

/** True when a parsed 2xx payload (completion body or stream chunk) is really an error. */
export function isOpenAiErrorPayload(obj: JsonObject): boolean {
  return (obj.error !== undefined && obj.error !== null) || obj.object === 'error';
}

/**
 * Reads the error out of the shapes OpenAI-compatible servers use:
 * `{"error":{...}}` (OpenAI, Azure), `{"error":"text"}`, and
 * `{"object":"error","message",...}` (vLLM and friends).
 */
export function readOpenAiError(obj: JsonObject): OpenAiErrorInfo | undefined {
  const e = obj.error;
  if (isObject(e)) {
    return {
      message: stringField(e, 'message'),
      type: stringField(e, 'type'),
      code: stringField(e, 'code'),
      status: typeof e.status === 'number' ? e.status : undefined,
    };
  }
  if (typeof e === 'string') return { message: e, type: stringField(obj, 'type'), code: stringField(obj, 'code') };
  if (obj.object === 'error' || typeof obj.message === 'string') {
    return { message: stringField(obj, 'message'), type: stringField(obj, 'type'), code: stringField(obj, 'code') };
  }
  return undefined;
}

const CONTEXT_MESSAGE = /maximum context length|context length exceeded|context window/i;
const MISCONFIGURED_CODES = new Set(['invalid_api_key', 'model_not_found', 'unsupported_country_region_territory']);

/** Codes and types seen in errors delivered with no meaningful status (inside a 200 body or stream). */
const IN_BAND: Readonly<Record<string, FailureCategory>> = {
  server_error: 'transient',
  api_error: 'transient',
  internal_error: 'transient',
  timeout: 'transient',
  rate_limit_exceeded: 'rate_limited',
  rate_limit_error: 'rate_limited',
  tokens: 'rate_limited',
  requests: 'rate_limited',
  invalid_api_key: 'provider_misconfigured',
  authentication_error: 'provider_misconfigured',
  permission_error: 'provider_misconfigured',
  model_not_found: 'provider_misconfigured',
  invalid_request_error: 'invalid_request',
};

/** Category of an OpenAI-style error; `status` is undefined for errors delivered inside a 200 stream. */
export function openAiCategory(status: number | undefined, info: OpenAiErrorInfo): FailureCategory {
  const { code, type } = info;
  if (code === 'insufficient_quota' || type === 'insufficient_quota') return 'upstream_quota';
  if (status === 429) return 'rate_limited';
  // A wrong key, a forbidden region, a wrong base URL or an unknown model: this target cannot serve anyone.
  if (status === 401 || status === 403 || status === 404) return 'provider_misconfigured';
  if (status === undefined || (status >= 400 && status < 500)) {
    if (code === 'context_length_exceeded' || (info.message !== undefined && CONTEXT_MESSAGE.test(info.message))) {
      return 'context_length';
    }
    if (code === 'content_filter' || code === 'content_policy_violation') return 'content_filtered';
    if (code !== undefined && MISCONFIGURED_CODES.has(code)) return 'provider_misconfigured';
  }
  if (status !== undefined) return categoryForStatus(status);
  return (code !== undefined ? IN_BAND[code] : undefined) ?? (type !== undefined ? IN_BAND[type] : undefined) ?? 'transient';
}

/** Categorizes a non-2xx answer. Never throws, whatever the body (HTML, empty, truncated JSON). */
export function categorizeOpenAiError(status: number, body: string, headers: IncomingHttpHeaders): UpstreamFailure {
  const parsed = safeJsonParse(body);
  const info = isObject(parsed) ? readOpenAiError(parsed) : undefined;
  return new UpstreamFailure({
    category: openAiCategory(status, info ?? {}),
    status,
    code: info?.code ?? info?.type,
    message: info?.message ?? describeUnparsedBody(status, body),
    retryAfterMs: parseRetryAfter(headers),
  });
}

/**
 * Categorizes an error the upstream delivered with HTTP 200: a completion body
 * that is `{"error":{...}}` or a `data:` event inside a stream.
 */
export function openAiInBandFailure(obj: JsonObject): UpstreamFailure {
  const info = readOpenAiError(obj) ?? {};
  return new UpstreamFailure({
    category: openAiCategory(info.status, info),
    status: 200,
    code: info.code ?? info.type,
    message: info.message ?? 'upstream reported an error without a message',
  });
}
