import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';
import type { ErrorResponse } from '../errors/error-response.js';
import { openAiError } from '../errors/openai-error.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { bearerToken, secretsEqual } from './api-key.js';
import { ConsoleSessions, type ConsoleSession } from './console-sessions.js';
import { CredentialFailures } from './credential-failures.js';
import { unauthorized, V1Authenticator } from './v1-authenticator.js';
import './principal.decorator.js';

/**
 * Authentication as a Fastify `onRequest` hook: it runs before the body is
 * read, so an unauthenticated caller never gets its body parsed.
 * - `/v1/*` and the sample workflows (`/support/*`, `/batch/*`), every route
 *   that spends on a tenant's behalf: a gateway API key (`Authorization:
 *   Bearer llmr_...`); the caller's principal goes on `request.llmPrincipal`
 *   (see v1-authenticator.ts), and the calls run as the key's tenant.
 * - `/admin/*`: the admin credential (`LLM_ADMIN_KEY`), compared in constant time;
 *   403 when no admin credential is configured.
 * - `/metrics`: the scrape token (`LLM_METRICS_TOKEN`) when one is configured.
 * - `/console/*` (but its login page): a console session (see ConsoleSessions),
 *   which also stands for the admin credential on `/admin/*` when no
 *   Authorization header is sent; there a call that changes something must
 *   carry the session's `x-csrf-token`.
 */
@Injectable()
export class AuthHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly v1: V1Authenticator,
    private readonly config: ConfigService,
    private readonly metrics: GatewayMetrics,
    private readonly consoleSessions: ConsoleSessions,
    private readonly credentialFailures: CredentialFailures,
  ) {}

  /** Installed before the app serves its first request. */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.decorateRequest('llmPrincipal', null);
    fastify.decorateRequest('consoleSession', null);
    const sessions = this.consoleSessions;
    const authenticateV1 = this.v1.authenticate;
    const { adminKey, metricsToken } = this.config.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY);
    const authFailure = (reason: string) => this.metrics.authFailures.inc({ reason });
    const failures = this.credentialFailures;
    /** A 401 unless the request carries `secret` as its bearer token (a wrong one counted against the caller's address), or the 429 of an address that has sent too many. */
    const credentialRefusal = (request: FastifyRequest, secret: string, code: string, message: string): ErrorResponse | undefined => {
      const { authorization } = request.headers;
      const verdict = failures.verify(request.ip, bearerToken(authorization), secret, authorization !== undefined);
      if (verdict === 'right') return undefined;
      if (verdict === 'wrong') {
        authFailure(code);
        return unauthorized(openAiError(message, 'invalid_request_error', code));
      }
      authFailure('too_many_failed_credentials');
      return verdict;
    };

    fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
      const url = routePath(request);
      if (spendsForATenant(url)) {
        const outcome = authenticateV1(request.headers);
        if ('refusal' in outcome) return void sendError(reply, outcome.refusal);
        request.llmPrincipal = outcome.principal;
        return done();
      }
      if (url === '/metrics' && metricsToken !== undefined) {
        const refusal = credentialRefusal(request, metricsToken, 'invalid_metrics_token', "Invalid or missing metrics token. Send LLM_METRICS_TOKEN as 'Authorization: Bearer <token>'.");
        return refusal ? void sendError(reply, refusal) : done();
      }
      if (url.startsWith('/admin/') || url === '/admin') {
        if (adminKey === undefined) {
          authFailure('admin_api_disabled');
          const body = openAiError('The admin API is disabled: set LLM_ADMIN_KEY (at least 16 characters) and restart the gateway.', 'permission_error', 'admin_api_disabled');
          return void sendError(reply, { status: 403, body, headers: { 'x-should-retry': 'false' } });
        }
        const adminRefusal = () => {
          const refusal = credentialRefusal(request, adminKey, 'invalid_admin_key', "Invalid or missing admin credential. Send LLM_ADMIN_KEY as 'Authorization: Bearer <admin key>'.");
          if (!refusal) return done();
          sendError(reply, refusal);
        };
        // A console session stands for the admin key when no Authorization header is sent.
        if (request.headers.authorization !== undefined || request.headers.cookie === undefined) return adminRefusal();
        return void withSession(request, reply, (session) => {
          if (session === undefined) return adminRefusal();
          const refusal = csrfRefusal(request, session);
          if (refusal) {
            authFailure('invalid_csrf_token');
            return void sendError(reply, refusal);
          }
          request.consoleSession = session;
          done();
        });
      }
      if ((url.startsWith('/console/') || url === '/console') && !CONSOLE_PUBLIC.has(url)) {
        const noSession = () => {
          // A person opening a page goes to the login page; a script gets the 401.
          if (request.method === 'GET' && /\btext\/html\b/.test(request.headers.accept ?? '')) return void reply.code(303).header('location', '/console/login').send();
          authFailure('console_login_required');
          sendError(reply, unauthorized(openAiError('Log in to the console first: /console/login.', 'invalid_request_error', 'console_login_required')));
        };
        if (adminKey === undefined || request.headers.cookie === undefined) return noSession();
        return void withSession(request, reply, (session) => {
          if (session === undefined) return noSession();
          request.consoleSession = session;
          done();
        });
      }
      done();
    });

    /** The request's console session (undefined: none); a store that does not answer is a 503, not a 500. */
    const withSession = (request: FastifyRequest, reply: FastifyReply, then: (session: ConsoleSession | undefined) => void) =>
      sessions.fromCookieHeader(request.headers.cookie).then(then, () => {
        const body = openAiError('Console sessions are unavailable: the gateway store does not answer. Try again, or use the admin key.', 'api_error', 'console_sessions_unavailable');
        sendError(reply, { status: 503, body, headers: {} });
      });
  }
}

/** The console's routes readable without a session: the login page and its stylesheet. */
const CONSOLE_PUBLIC = new Set(['/console/login', '/console/login.css']);

/** A console session changes nothing without its CSRF token (SameSite=Strict already keeps other sites' requests cookie-less). */
function csrfRefusal(request: FastifyRequest, session: ConsoleSession): ErrorResponse | undefined {
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  const token = request.headers['x-csrf-token'];
  if (typeof token === 'string' && secretsEqual(token, session.csrfToken)) return undefined;
  return { status: 403, body: openAiError("Missing or wrong 'x-csrf-token' for this console session.", 'permission_error', 'invalid_csrf_token', 'x-csrf-token'), headers: { 'x-should-retry': 'false' } };
}

/** Routes whose calls are charged to a tenant: the key decides which. */
function spendsForATenant(url: string): boolean {
  return url.startsWith('/v1/') || url === '/v1' || url.startsWith('/support/') || url.startsWith('/batch/');
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

function sendError(reply: FastifyReply, { status, body, headers }: ErrorResponse): FastifyReply {
  return reply.code(status).headers(headers).header('content-type', 'application/json; charset=utf-8').send(body);
}
