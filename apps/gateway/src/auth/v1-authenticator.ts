import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LlmRouter } from '@llm-router/nestjs';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';
import type { ErrorResponse } from '../errors/error-response.js';
import { openAiError } from '../errors/openai-error.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { bearerToken } from './api-key.js';
import { ApiKeyService, type AuthFailure } from './api-key.service.js';
import { unrestrictedScope, type Principal } from './key-scope.js';

const AUTH_MESSAGES: Record<AuthFailure, string> = {
  missing_api_key: "You didn't provide an API key. Send it in the Authorization header: 'Authorization: Bearer llmr_...'.",
  invalid_api_key: 'Invalid API key.',
  revoked_api_key: 'This API key has been revoked.',
  expired_api_key: 'This API key has expired.',
};

export type V1AuthOutcome = { readonly principal: Principal } | { readonly refusal: ErrorResponse };

type Headers = Record<string, string | string[] | undefined>;

/**
 * Who is calling a `/v1` route: the principal of its gateway API key, or a 401
 * in the OpenAI shape (counted in the auth-failure metric). With auth disabled
 * every caller is unrestricted and the tenant comes from `x-tenant-id`. Built
 * once and shared by the Fastify hook and the chat-completions fast lane, so
 * both refuse alike.
 */
@Injectable()
export class V1Authenticator {
  /** A function of its own (no `this`), so the fast lane can hold it. */
  readonly authenticate: (headers: Headers) => V1AuthOutcome;

  constructor(keys: ApiKeyService, router: LlmRouter, config: ConfigService, metrics: GatewayMetrics) {
    let everything = unrestrictedScope(router.policy);
    router.live.changes$.subscribe(({ policy }) => (everything = unrestrictedScope(policy)));
    if (config.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY).auth === 'disabled') {
      this.authenticate = (headers) => {
        const tenant = headers['x-tenant-id'];
        return { principal: { keyId: null, tenant: typeof tenant === 'string' && tenant !== '' ? tenant : undefined, scope: everything } };
      };
      return;
    }
    this.authenticate = (headers) => {
      const result = keys.authenticate(bearerToken(headers.authorization));
      if ('principal' in result) return result;
      metrics.authFailures.inc({ reason: result.failure });
      return { refusal: unauthorized(openAiError(AUTH_MESSAGES[result.failure], 'invalid_request_error', result.failure)) };
    };
  }
}

/** A 401 that tells the client not to retry and how to authenticate. */
export function unauthorized(body: ErrorResponse['body']): ErrorResponse {
  return { status: 401, body, headers: { 'x-should-retry': 'false', 'www-authenticate': 'Bearer realm="llm-gateway"' } };
}
