import type { CompiledPolicy } from '@llm-router/nestjs';
import type { GatewayConfig } from '../config/gateway.config.js';
import type { ErrorResponse } from '../errors/error-response.js';
import { openAiError } from '../errors/openai-error.js';
import { bearerToken } from './api-key.js';
import type { ApiKeyService, AuthFailure } from './api-key.service.js';
import { unrestrictedScope, type Principal } from './key-scope.js';

const AUTH_MESSAGES: Record<AuthFailure, string> = {
  missing_api_key: "You didn't provide an API key. Send it in the Authorization header: 'Authorization: Bearer llmr_...'.",
  invalid_api_key: 'Invalid API key.',
  revoked_api_key: 'This API key has been revoked.',
  expired_api_key: 'This API key has expired.',
};

export interface V1AuthenticatorDeps {
  keys: ApiKeyService;
  policy: CompiledPolicy;
  config: Pick<GatewayConfig, 'auth'>;
  onFailure?: (reason: string) => void;
}

export type V1AuthOutcome = { readonly principal: Principal } | { readonly refusal: ErrorResponse };

type Headers = Record<string, string | string[] | undefined>;

/**
 * Who is calling a `/v1` route: the principal of its gateway API key, or a 401
 * in the OpenAI shape. With auth disabled every caller is unrestricted and the
 * tenant comes from `x-tenant-id`. Shared by the Fastify hook and the
 * chat-completions fast lane, so both refuse alike.
 */
export function createV1Authenticator(deps: V1AuthenticatorDeps): (headers: Headers) => V1AuthOutcome {
  const everything = unrestrictedScope(deps.policy);
  if (deps.config.auth === 'disabled') {
    return (headers) => {
      const tenant = headers['x-tenant-id'];
      return { principal: { keyId: null, tenant: typeof tenant === 'string' && tenant !== '' ? tenant : undefined, scope: everything } };
    };
  }
  return (headers) => {
    const result = deps.keys.authenticate(bearerToken(headers.authorization));
    if ('principal' in result) return result;
    deps.onFailure?.(result.failure);
    return { refusal: unauthorized(openAiError(AUTH_MESSAGES[result.failure], 'invalid_request_error', result.failure)) };
  };
}

/** A 401 that tells the client not to retry and how to authenticate. */
export function unauthorized(body: ErrorResponse['body']): ErrorResponse {
  return { status: 401, body, headers: { 'x-should-retry': 'false', 'www-authenticate': 'Bearer realm="llm-gateway"' } };
}
