import type { CompiledPolicy } from '#llm-router';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { openAiError } from '../errors/openai-error.js';
import type { GatewayConfig } from '../config/gateway.config.js';
import { bearerToken, secretsEqual } from './api-key.js';
import type { ApiKeyService, AuthFailure } from './api-key.service.js';
import { unrestrictedScope, type Principal } from './key-scope.js';
import './principal.decorator.js';

const AUTH_MESSAGES: Record<AuthFailure, string> = {
  missing_api_key: "You didn't provide an API key. Send it in the Authorization header: 'Authorization: Bearer llmr_...'.",
  invalid_api_key: 'Invalid API key.',
  revoked_api_key: 'This API key has been revoked.',
  expired_api_key: 'This API key has expired.',
};

export interface AuthHookDeps {
  keys: ApiKeyService;
  policy: CompiledPolicy;
  config: Pick<GatewayConfig, 'auth' | 'adminKey'>;
  onFailure?: (reason: string) => void;
}

/**
 * Authentication as a Fastify `onRequest` hook: it runs before the body is
 * read, so an unauthenticated caller never gets its body parsed.
 * - `/v1/*`: a gateway API key (`Authorization: Bearer llmr_...`); the caller's
 *   principal goes on `request.llmPrincipal`. With auth disabled every caller
 *   is unrestricted and the tenant comes from `x-tenant-id`.
 * - `/admin/*`: the admin credential (`LLM_ADMIN_KEY`), compared in constant time;
 *   403 when no admin credential is configured.
 */
export function installAuthHook(fastify: FastifyInstance, deps: AuthHookDeps): void {
  fastify.decorateRequest('llmPrincipal', null);
  const open = deps.config.auth === 'disabled';
  const everything = unrestrictedScope(deps.policy);
  const adminKey = deps.config.adminKey;

  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    const url = routePath(request);
    if (url.startsWith('/v1/') || url === '/v1') {
      if (open) {
        const tenant = request.headers['x-tenant-id'];
        const principal: Principal = { keyId: null, tenant: typeof tenant === 'string' && tenant !== '' ? tenant : undefined, scope: everything };
        request.llmPrincipal = principal;
        return done();
      }
      const result = deps.keys.authenticate(bearerToken(request.headers.authorization));
      if ('principal' in result) {
        request.llmPrincipal = result.principal;
        return done();
      }
      deps.onFailure?.(result.failure);
      return void sendError(reply, 401, openAiError(AUTH_MESSAGES[result.failure], 'invalid_request_error', result.failure), true);
    }
    if (url.startsWith('/admin/') || url === '/admin') {
      if (adminKey === undefined) {
        deps.onFailure?.('admin_api_disabled');
        return void sendError(
          reply,
          403,
          openAiError('The admin API is disabled: set LLM_ADMIN_KEY (at least 16 characters) and restart the gateway.', 'permission_error', 'admin_api_disabled'),
        );
      }
      const token = bearerToken(request.headers.authorization);
      if (token === undefined || !secretsEqual(token, adminKey)) {
        deps.onFailure?.('invalid_admin_key');
        return void sendError(
          reply,
          401,
          openAiError("Invalid or missing admin credential. Send LLM_ADMIN_KEY as 'Authorization: Bearer <admin key>'.", 'invalid_request_error', 'invalid_admin_key'),
          true,
        );
      }
    }
    done();
  });
}

/**
 * The path the router matched (its pattern), so that `/%61dmin/keys` cannot
 * slip past a prefix check on the raw URL; for unmatched paths the decoded path.
 */
function routePath(request: FastifyRequest): string {
  const pattern = request.routeOptions.url;
  if (pattern !== undefined) return pattern;
  const raw = request.url;
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function sendError(reply: FastifyReply, status: number, body: unknown, challenge = false): FastifyReply {
  reply.code(status).header('content-type', 'application/json; charset=utf-8').header('x-should-retry', 'false');
  if (challenge) reply.header('www-authenticate', 'Bearer realm="llm-gateway"');
  return reply.send(body);
}
