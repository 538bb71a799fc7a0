import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamFailure } from '../../errors/upstream-failure.js';
import type { FailureCategory } from '../../errors/failure-category.js';
import { AnthropicAdapter } from './anthropic.adapter.js';

const adapter = new AnthropicAdapter();

/** Error bodies in the shape the Messages API documents: {"type":"error","error":{"type","message"},"request_id"}. */
function body(type: string, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy' });
}

const CLOUDFLARE_413 = '<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n';
const CLOUDFLARE_502 = '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n';

interface Row {
  status: number;
  body: string;
  category: FailureCategory;
  code?: string;
  message?: RegExp;
}

const ROWS: Array<[string, Row]> = [
  ['529 overloaded_error', { status: 529, body: body('overloaded_error', 'Overloaded'), category: 'transient', code: 'overloaded_error', message: /^Overloaded$/ }],
  ['500 api_error', { status: 500, body: body('api_error', 'Internal server error'), category: 'transient', code: 'api_error' }],
  ['502 Cloudflare HTML', { status: 502, body: CLOUDFLARE_502, category: 'transient', message: /HTTP 502: 502 Bad Gateway/ }],
  ['503 empty body', { status: 503, body: '', category: 'transient', message: /HTTP 503/ }],
  ['504 timeout_error', { status: 504, body: body('timeout_error', 'Request timed out'), category: 'transient', code: 'timeout_error' }],
  [
    '429 rate_limit_error',
    {
      status: 429,
      body: body(
        'rate_limit_error',
        'This request would exceed the rate limit for your organization (3f6c2c8e-3b1a-4c57-9f1e-6b7a0d2f1e4c) of 50,000 input tokens per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.',
      ),
      category: 'rate_limited',
      code: 'rate_limit_error',
      message: /exceed the rate limit/,
    },
  ],
  ['401 authentication_error', { status: 401, body: body('authentication_error', 'invalid x-api-key'), category: 'provider_misconfigured', code: 'authentication_error', message: /invalid x-api-key/ }],
  [
    '403 permission_error',
    { status: 403, body: body('permission_error', 'Your API key does not have permission to use the specified resource.'), category: 'provider_misconfigured', code: 'permission_error' },
  ],
  ['404 not_found_error', { status: 404, body: body('not_found_error', 'model: claude-sonnet-9-20990101'), category: 'provider_misconfigured', code: 'not_found_error' }],
  ['402 billing_error', { status: 402, body: body('billing_error', 'There is an issue with your billing or payment information.'), category: 'upstream_quota', code: 'billing_error' }],
  [
    '400 credit balance too low',
    {
      status: 400,
      body: body('invalid_request_error', 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.'),
      category: 'upstream_quota',
      code: 'invalid_request_error',
      message: /credit balance is too low/,
    },
  ],
  ['400 prompt is too long', { status: 400, body: body('invalid_request_error', 'prompt is too long: 208310 tokens > 200000 maximum'), category: 'context_length', code: 'invalid_request_error', message: /208310 tokens/ }],
  ['400 output blocked by content filtering policy', { status: 400, body: body('invalid_request_error', 'Output blocked by content filtering policy'), category: 'content_filtered', code: 'invalid_request_error' }],
  [
    '400 input + max_tokens exceed context limit',
    {
      status: 400,
      body: body('invalid_request_error', 'input length and `max_tokens` exceed context limit: 197824 + 21333 > 200000, decrease input length or `max_tokens` and try again'),
      category: 'context_length',
    },
  ],
  ['413 request_too_large', { status: 413, body: body('request_too_large', 'Request exceeds the maximum allowed number of bytes.'), category: 'invalid_request', code: 'request_too_large' }],
  ['413 request_too_large saying the prompt is too long', { status: 413, body: body('request_too_large', 'prompt is too long: 1048576 tokens > 200000 maximum'), category: 'context_length' }],
  ['413 Cloudflare HTML', { status: 413, body: CLOUDFLARE_413, category: 'invalid_request', message: /413 Request Entity Too Large/ }],
  [
    '400 invalid_request_error (roles must alternate)',
    {
      status: 400,
      body: body('invalid_request_error', 'messages: roles must alternate between "user" and "assistant", but found multiple "user" roles in a row'),
      category: 'invalid_request',
      code: 'invalid_request_error',
    },
  ],
  [
    '400 invalid_request_error (max_tokens over the model limit)',
    { status: 400, body: body('invalid_request_error', 'max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-20250514'), category: 'invalid_request' },
  ],
  ['422 unprocessable', { status: 422, body: body('invalid_request_error', 'tools.0.input_schema: JSON schema is invalid'), category: 'invalid_request' }],
];

describe('anthropic categorizeError', () => {
  for (const [name, row] of ROWS) {
    it(name, () => {
      const failure = adapter.categorizeError(row.status, row.body, {});
      assert.ok(failure instanceof UpstreamFailure);
      assert.equal(failure.category, row.category);
      assert.equal(failure.status, row.status);
      if (row.code !== undefined) assert.equal(failure.code, row.code);
      if (row.message !== undefined) assert.match(failure.message, row.message);
    });
  }

  it('never throws on hostile or truncated bodies', () => {
    for (const text of ['', '{', 'null', '[]', '{"type":"error"}', '{"type":"error","error":"Overloaded"}', 'upstream connect error or disconnect/reset before headers']) {
      const failure = adapter.categorizeError(529, text, {});
      assert.equal(failure.category, 'transient');
      assert.ok(failure.message.length > 0);
    }
  });

  it('parses retry-after seconds and HTTP-dates', () => {
    const rate = adapter.categorizeError(429, body('rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'), {
      'retry-after': '20',
      'anthropic-ratelimit-input-tokens-reset': '2025-06-01T12:00:20Z',
    });
    assert.equal(rate.retryAfterMs, 20_000);
    const inFuture = new Date(Date.now() + 60_000).toUTCString();
    const overloaded = adapter.categorizeError(529, body('overloaded_error', 'Overloaded'), { 'retry-after': inFuture });
    assert.ok(overloaded.retryAfterMs !== undefined && overloaded.retryAfterMs > 55_000 && overloaded.retryAfterMs <= 60_000, String(overloaded.retryAfterMs));
    assert.equal(adapter.categorizeError(500, body('api_error', 'Internal server error'), {}).retryAfterMs, undefined);
  });
});
