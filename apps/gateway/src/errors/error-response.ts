import { HttpException, Logger } from '@nestjs/common';
import { LlmRouterError } from '@llm-router/nestjs';
import { redact } from '../logging/redact.js';
import { openAiError, type OpenAiErrorBody } from './openai-error.js';
import { PolicyRefusal } from './policy-refusal.exception.js';

const STATUS_TYPES: Record<number, { type: string; code: string }> = {
  400: { type: 'invalid_request_error', code: 'invalid_request' },
  401: { type: 'authentication_error', code: 'invalid_api_key' },
  403: { type: 'permission_error', code: 'forbidden' },
  404: { type: 'invalid_request_error', code: 'not_found' },
  405: { type: 'invalid_request_error', code: 'method_not_allowed' },
  413: { type: 'invalid_request_error', code: 'request_too_large' },
  415: { type: 'invalid_request_error', code: 'unsupported_media_type' },
  422: { type: 'invalid_request_error', code: 'unprocessable_entity' },
  429: { type: 'rate_limit_error', code: 'rate_limited' },
};

export interface ErrorResponse {
  status: number;
  body: OpenAiErrorBody;
  headers: Record<string, string>;
}

const logger = new Logger('Gateway');

/**
 * Any error as an OpenAI-shaped response. Router errors carry their category;
 * gateway-side refusals are told apart from upstream ones by `type`. Anything
 * unexpected is logged and answered without internals.
 */
export function toErrorResponse(exception: unknown): ErrorResponse {
  if (exception instanceof LlmRouterError) {
    const headers: Record<string, string> = { 'x-should-retry': 'false' };
    if (exception.requestId) headers['x-llm-request-id'] = headers['x-request-id'] = exception.requestId;
    // The policy the router refused or failed the call under, as on a success.
    if (exception.policyVersion) headers['x-llm-policy-version'] = exception.policyVersion;
    if (exception.retryAfterMs !== undefined) {
      headers['retry-after'] = String(Math.ceil(exception.retryAfterMs / 1000));
      // The route already retried; a rate-limited answer is the one case a client may try again later.
      headers['x-should-retry'] = 'true';
    }
    const body = exception.toOpenAiError();
    // An upstream message can echo part of a provider key: it never reaches the caller.
    body.error.message = redact(body.error.message);
    return { status: exception.httpStatus, body, headers };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    if (typeof response === 'object' && response !== null && 'error' in response && typeof (response as OpenAiErrorBody).error === 'object') {
      const headers: Record<string, string> = exception instanceof PolicyRefusal ? { 'x-llm-policy-version': exception.policyVersion } : {};
      return { status, body: response as OpenAiErrorBody, headers };
    }
    const known = STATUS_TYPES[status] ?? { type: status >= 500 ? 'server_error' : 'invalid_request_error', code: `http_${status}` };
    return { status, body: openAiError(exception.message, known.type, known.code), headers: {} };
  }
  const fastifyError = exception as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    // Fastify's own body errors: bad JSON, too large, wrong content type.
    const known = STATUS_TYPES[fastifyError.statusCode] ?? STATUS_TYPES[400]!;
    const message = fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || /JSON/.test(fastifyError.message ?? '')
      ? `We could not parse the JSON body of your request: ${fastifyError.message}`
      : fastifyError.message ?? 'Bad request';
    return { status: fastifyError.statusCode, body: openAiError(message, known.type, fastifyError.code ?? known.code), headers: {} };
  }
  logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
  return { status: 500, body: openAiError('The gateway hit an internal error.', 'server_error', 'internal_error'), headers: {} };
}
