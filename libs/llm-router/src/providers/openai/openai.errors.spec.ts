import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamFailure } from '../../errors/upstream-failure.js';
import type { FailureCategory } from '../../errors/failure-category.js';
import { parseRetryAfter } from '../http-errors.js';
import { OpenAiAdapter } from './openai.adapter.js';

const adapter = new OpenAiAdapter();

// Bodies as OpenAI (and Azure OpenAI, vLLM, Cloudflare) actually send them.
const BODIES = {
  insufficientQuota: `{
    "error": {
        "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
        "type": "insufficient_quota",
        "param": null,
        "code": "insufficient_quota"
    }
}`,
  insufficientQuotaLegacy:
    '{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":null}}',
  rateLimit:
    '{"error":{"message":"Rate limit reached for gpt-4o in organization org-9a8b7c on tokens per min (TPM): Limit 30000, Used 29711, Requested 1052. Please try again in 1.526s. Visit https://platform.openai.com/account/rate-limits to learn more.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}',
  rateLimitRequests:
    '{"error":{"message":"Rate limit reached for gpt-4o-mini in organization org-9a8b7c on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.","type":"requests","param":null,"code":"rate_limit_exceeded"}}',
  invalidApiKey:
    '{"error":{"message":"Incorrect API key provided: sk-proj-****************************abcd. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}',
  unsupportedRegion:
    '{"error":{"code":"unsupported_country_region_territory","message":"Country, region, or territory not supported","param":null,"type":"request_forbidden"}}',
  modelNotFound:
    '{"error":{"message":"The model `gpt-4o-2099` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}',
  modelDoesNotExist:
    '{"error":{"message":"The model `my-finetune` does not exist","type":"invalid_request_error","param":"model","code":null}}',
  contextLength:
    '{"error":{"message":"This model\'s maximum context length is 128000 tokens. However, your messages resulted in 135112 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}',
  contextLengthVllm:
    '{"object":"error","message":"This model\'s maximum context length is 32768 tokens. However, you requested 40960 tokens (36864 in the messages, 4096 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400}',
  azureContentFilter:
    '{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI\'s content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":true,"severity":"medium"}}}}}',
  contentPolicyViolation:
    '{"error":{"code":"content_policy_violation","message":"Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.","param":null,"type":"invalid_request_error"}}',
  invalidType:
    '{"error":{"message":"Invalid type for \'temperature\': expected a decimal, but got a string instead.","type":"invalid_request_error","param":"temperature","code":"invalid_type"}}',
  unknownParam:
    '{"error":{"message":"Unrecognized request argument supplied: foo","type":"invalid_request_error","param":null,"code":null}}',
  serverError:
    '{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}',
  overloaded:
    '{"error":{"message":"The engine is currently overloaded, please try again later.","type":"server_error","param":null,"code":null}}',
  nginx413: '<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n',
  nginx502: '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n',
  cloudflare524:
    '<!DOCTYPE html>\n<html lang="en-US"><head><title>api.openai.com | 524: A timeout occurred</title></head><body><div id="cf-wrapper"><h1>A timeout occurred</h1><span>Error code 524</span></div></body></html>',
};

interface Row {
  status: number;
  body: string;
  category: FailureCategory;
  code?: string;
  message?: RegExp;
}

const ROWS: Array<[string, Row]> = [
  ['429 insufficient_quota', { status: 429, body: BODIES.insufficientQuota, category: 'upstream_quota', code: 'insufficient_quota', message: /exceeded your current quota/ }],
  ['429 insufficient_quota as type only (code null)', { status: 429, body: BODIES.insufficientQuotaLegacy, category: 'upstream_quota', code: 'insufficient_quota' }],
  ['429 tokens-per-minute rate limit', { status: 429, body: BODIES.rateLimit, category: 'rate_limited', code: 'rate_limit_exceeded', message: /Rate limit reached/ }],
  ['429 requests-per-minute rate limit', { status: 429, body: BODIES.rateLimitRequests, category: 'rate_limited', code: 'rate_limit_exceeded' }],
  ['401 invalid_api_key', { status: 401, body: BODIES.invalidApiKey, category: 'provider_misconfigured', code: 'invalid_api_key', message: /Incorrect API key/ }],
  ['403 unsupported region', { status: 403, body: BODIES.unsupportedRegion, category: 'provider_misconfigured', code: 'unsupported_country_region_territory' }],
  ['404 model_not_found', { status: 404, body: BODIES.modelNotFound, category: 'provider_misconfigured', code: 'model_not_found', message: /does not exist/ }],
  ['404 "does not exist" without a code', { status: 404, body: BODIES.modelDoesNotExist, category: 'provider_misconfigured', code: 'invalid_request_error' }],
  ['400 context_length_exceeded', { status: 400, body: BODIES.contextLength, category: 'context_length', code: 'context_length_exceeded', message: /maximum context length/ }],
  ['400 "maximum context length" message only (vLLM)', { status: 400, body: BODIES.contextLengthVllm, category: 'context_length', code: '400' }],
  ['400 Azure content_filter', { status: 400, body: BODIES.azureContentFilter, category: 'content_filtered', code: 'content_filter', message: /content management policy/ }],
  ['400 content_policy_violation', { status: 400, body: BODIES.contentPolicyViolation, category: 'content_filtered', code: 'content_policy_violation' }],
  ['400 invalid_type', { status: 400, body: BODIES.invalidType, category: 'invalid_request', code: 'invalid_type', message: /Invalid type for 'temperature'/ }],
  ['400 unrecognized argument (code null → type)', { status: 400, body: BODIES.unknownParam, category: 'invalid_request', code: 'invalid_request_error' }],
  ['422 unprocessable', { status: 422, body: BODIES.invalidType, category: 'invalid_request' }],
  ['413 payload too large (nginx HTML)', { status: 413, body: BODIES.nginx413, category: 'invalid_request', message: /413 Request Entity Too Large/ }],
  ['408 request timeout', { status: 408, body: '', category: 'transient', message: /HTTP 408/ }],
  ['409 conflict', { status: 409, body: 'Conflict', category: 'transient' }],
  ['500 server_error', { status: 500, body: BODIES.serverError, category: 'transient', code: 'server_error', message: /Sorry about that/ }],
  ['502 nginx HTML', { status: 502, body: BODIES.nginx502, category: 'transient', message: /^upstream answered HTTP 502: 502 Bad Gateway/ }],
  ['503 engine overloaded', { status: 503, body: BODIES.overloaded, category: 'transient', code: 'server_error' }],
  ['504 empty body', { status: 504, body: '', category: 'transient', message: /^upstream answered HTTP 504$/ }],
  ['520 Cloudflare unknown error', { status: 520, body: '', category: 'transient' }],
  ['524 Cloudflare timeout HTML', { status: 524, body: BODIES.cloudflare524, category: 'transient', message: /524: A timeout occurred/ }],
  ['529 site overloaded', { status: 529, body: 'overloaded', category: 'transient' }],
  ['599 any other 5xx', { status: 599, body: '{}', category: 'transient' }],
  ['405 other 4xx', { status: 405, body: '{"error":{"message":"Method not allowed","type":"invalid_request_error","param":null,"code":null}}', category: 'invalid_request' }],
  ['418 other 4xx, plain text', { status: 418, body: "I'm a teapot", category: 'invalid_request', message: /teapot/ }],
  ['402 payment required (OpenAI-compatible credit exhaustion)', { status: 402, body: '{"error":{"message":"Insufficient credits","code":402}}', category: 'upstream_quota' }],
];

describe('openai categorizeError', () => {
  for (const [name, row] of ROWS) {
    it(name, () => {
      const failure = adapter.categorizeError(row.status, row.body, {});
      assert.ok(failure instanceof UpstreamFailure);
      assert.equal(failure.category, row.category);
      assert.equal(failure.status, row.status);
      if (row.code !== undefined) assert.equal(failure.code, row.code);
      if (row.message !== undefined) assert.match(failure.message, row.message);
      assert.equal(failure.afterFirstChunk, false);
    });
  }

  it('never throws on hostile or truncated bodies', () => {
    for (const body of ['', '{', 'null', '[]', '"just a string"', '42', '{"error":null}', '{"error":{"message":7}}', '\u0000\u0001']) {
      const failure = adapter.categorizeError(500, body, {});
      assert.equal(failure.category, 'transient');
      assert.ok(failure.message.length > 0);
    }
  });

  it('accepts {"error":"text"} bodies', () => {
    const failure = adapter.categorizeError(400, '{"error":"maximum context length exceeded"}', {});
    assert.equal(failure.category, 'context_length');
    assert.equal(failure.message, 'maximum context length exceeded');
  });

  it('keeps long HTML messages short and on one line', () => {
    const failure = adapter.categorizeError(502, `<html><body>${'x'.repeat(5000)}\n</body></html>`, {});
    assert.ok(failure.message.length < 260);
    assert.doesNotMatch(failure.message, /\n/);
  });
});

describe('retry-after', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');

  it('parses delta-seconds', () => {
    assert.equal(parseRetryAfter({ 'retry-after': '20' }), 20_000);
    assert.equal(parseRetryAfter({ 'retry-after': '0' }), 0);
    assert.equal(parseRetryAfter({ 'retry-after': '1.5' }), 1500);
  });

  it('parses an HTTP-date relative to now', () => {
    assert.equal(parseRetryAfter({ 'retry-after': 'Wed, 21 Oct 2015 07:28:30 GMT' }, now), 30_000);
  });

  it('clamps an HTTP-date in the past to 0', () => {
    assert.equal(parseRetryAfter({ 'retry-after': 'Wed, 21 Oct 2015 07:27:00 GMT' }, now), 0);
  });

  it('prefers retry-after-ms', () => {
    assert.equal(parseRetryAfter({ 'retry-after-ms': '1526', 'retry-after': '2' }), 1526);
    assert.equal(parseRetryAfter({ 'retry-after-ms': '12.2' }), 13);
  });

  it('falls back to retry-after when retry-after-ms is junk', () => {
    assert.equal(parseRetryAfter({ 'retry-after-ms': 'soon', 'retry-after': '3' }), 3000);
  });

  it('ignores absent, negative and unparseable values', () => {
    assert.equal(parseRetryAfter({}), undefined);
    assert.equal(parseRetryAfter({ 'retry-after': 'later' }), undefined);
    assert.equal(parseRetryAfter({ 'retry-after': '-5' }), undefined);
    assert.equal(parseRetryAfter({ 'retry-after': '' }), undefined);
  });

  it('takes the first of a repeated header', () => {
    assert.equal(parseRetryAfter({ 'retry-after': ['7', '9'] } as never), 7000);
  });

  it('is carried on the categorized failure', () => {
    const failure = adapter.categorizeError(429, BODIES.rateLimit, { 'retry-after-ms': '1526', 'retry-after': '2', 'x-ratelimit-reset-tokens': '1.526s' });
    assert.equal(failure.category, 'rate_limited');
    assert.equal(failure.retryAfterMs, 1526);
    const html = adapter.categorizeError(503, BODIES.nginx502, { 'retry-after': '120' });
    assert.equal(html.retryAfterMs, 120_000);
    assert.equal(adapter.categorizeError(500, BODIES.serverError, {}).retryAfterMs, undefined);
  });
});
