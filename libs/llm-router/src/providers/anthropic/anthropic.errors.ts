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

/** The fields of an Anthropic error body `{"type":"error","error":{"type","message"},"request_id"}`. */
export interface AnthropicErrorInfo {
  type?: string;
  message?: string;
}

export function readAnthropicError(obj: JsonObject): AnthropicErrorInfo | undefined {
  const e = obj.error;
  if (isObject(e)) return { type: stringField(e, 'type'), message: stringField(e, 'message') };
  if (typeof e === 'string') return { message: e };
  if (typeof obj.message === 'string') return { message: obj.message };
  return undefined;
}

/** A 400 whose input does not fit: "prompt is too long: 208310 tokens > 200000 maximum", or input + max_tokens over the window. */
const CONTEXT_MESSAGE = /prompt is too long|exceed context limit/i;
const LOW_CREDIT_MESSAGE = /credit balance is too low/i;
/** Anthropic's refusal on policy grounds: "Output blocked by content filtering policy". */
const CONTENT_FILTER_MESSAGE = /content filtering policy|blocked by content filter/i;

/** Error types for errors delivered without a status (an `event: error` inside a 200 stream). */
const IN_BAND: Readonly<Record<string, FailureCategory>> = {
  overloaded_error: 'transient',
  api_error: 'transient',
  timeout_error: 'transient',
  rate_limit_error: 'rate_limited',
  authentication_error: 'provider_misconfigured',
  permission_error: 'provider_misconfigured',
  not_found_error: 'provider_misconfigured',
  billing_error: 'upstream_quota',
  invalid_request_error: 'invalid_request',
  request_too_large: 'invalid_request',
};

/** Category of an Anthropic error; `status` is undefined for errors delivered inside a 200 stream. */
export function anthropicCategory(status: number | undefined, info: AnthropicErrorInfo): FailureCategory {
  if (status === undefined || (status >= 400 && status < 500 && status !== 429)) {
    const message = info.message ?? '';
    if (info.type === 'billing_error' || LOW_CREDIT_MESSAGE.test(message)) return 'upstream_quota';
    if (CONTEXT_MESSAGE.test(message)) return 'context_length';
    if (CONTENT_FILTER_MESSAGE.test(message)) return 'content_filtered';
  }
  if (status !== undefined) return categoryForStatus(status);
  return (info.type !== undefined ? IN_BAND[info.type] : undefined) ?? 'transient';
}

/** Categorizes a non-2xx answer. Never throws, whatever the body (Cloudflare HTML, empty, truncated JSON). */
export function categorizeAnthropicError(status: number, body: string, headers: IncomingHttpHeaders): UpstreamFailure {
  const parsed = safeJsonParse(body);
  const info = isObject(parsed) ? readAnthropicError(parsed) : undefined;
  return new UpstreamFailure({
    category: anthropicCategory(status, info ?? {}),
    status,
    code: info?.type,
    message: info?.message ?? describeUnparsedBody(status, body),
    retryAfterMs: parseRetryAfter(headers),
  });
}

/** Categorizes an error delivered with HTTP 200: an error body or an `event: error` in a stream. */
export function anthropicInBandFailure(obj: JsonObject): UpstreamFailure {
  const info = readAnthropicError(obj) ?? {};
  return new UpstreamFailure({
    category: anthropicCategory(undefined, info),
    status: 200,
    code: info.type,
    message: info.message ?? 'upstream reported an error without a message',
  });
}
