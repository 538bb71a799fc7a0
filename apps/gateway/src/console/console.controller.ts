import { Controller, ForbiddenException, Get, NotFoundException, Param, Post, Req, Res } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { secretsEqual } from '../auth/api-key.js';
import { clearedSessionCookie, ConsoleSessions, sessionCookie } from '../auth/console-sessions.js';
import { CredentialFailures } from '../auth/credential-failures.js';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';
import { openAiError } from '../errors/openai-error.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { ConsoleAssets } from './console-assets.js';
import { consoleHeaders } from './console-headers.js';
import { loginPage, shellPage } from './console-pages.js';

const DISABLED = 'The console is disabled: set LLM_ADMIN_KEY and restart the gateway.';

/**
 * The web console at /console: the login form (the admin key opens a
 * session), the page shell and its browser files. Everything but the login
 * page and its stylesheet is behind a session (the auth hook); the pages read
 * and change the gateway through the admin API itself, with the session's cookie.
 */
@Controller('console')
export class ConsoleController {
  private readonly adminKey: string | undefined;

  constructor(
    config: ConfigService,
    private readonly sessions: ConsoleSessions,
    private readonly assets: ConsoleAssets,
    private readonly metrics: GatewayMetrics,
    private readonly failures: CredentialFailures,
  ) {
    this.adminKey = config.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY).adminKey;
  }

  @Get()
  shell(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (!this.assets.built) throw notBuilt();
    // The hook let the request through: it has a session.
    return html(reply, 200, shellPage(request.consoleSession!.csrfToken));
  }

  @Get('login')
  loginForm(@Res() reply: FastifyReply) {
    return html(reply, 200, loginPage(this.adminKey === undefined ? DISABLED : undefined));
  }

  /** The form posts `adminKey` (urlencoded, or JSON from a script); a right key opens a session. */
  @Post('login')
  async login(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const body = request.body as Record<string, unknown> | undefined;
    const given = typeof body?.adminKey === 'string' ? body.adminKey : undefined;
    const verdict = this.adminKey === undefined ? 'wrong' : this.failures.verify(request.ip, given, this.adminKey);
    if (typeof verdict === 'object') {
      this.metrics.authFailures.inc({ reason: 'too_many_failed_credentials' });
      return html(reply.headers(verdict.headers), 429, loginPage(verdict.body.error.message));
    }
    if (verdict === 'wrong') {
      this.metrics.authFailures.inc({ reason: 'invalid_admin_key' });
      const message = this.adminKey === undefined ? DISABLED : 'That is not the admin key.';
      return html(reply, 401, loginPage(message));
    }
    const { id } = await this.sessions.open();
    return consoleHeaders(reply, 'no-store').header('set-cookie', sessionCookie(id, overHttps(request))).code(303).header('location', '/console').send();
  }

  @Post('logout')
  async logout(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const body = request.body as Record<string, unknown> | undefined;
    const token = typeof body?.csrf === 'string' ? body.csrf : request.headers['x-csrf-token'];
    if (typeof token !== 'string' || !secretsEqual(token, request.consoleSession!.csrfToken)) {
      throw new ForbiddenException(openAiError("Missing or wrong 'csrf' for this console session.", 'permission_error', 'invalid_csrf_token', 'csrf'));
    }
    await this.sessions.close(request.headers.cookie);
    return consoleHeaders(reply, 'no-store').header('set-cookie', clearedSessionCookie(overHttps(request))).code(303).header('location', '/console/login').send();
  }

  @Get('login.css')
  loginStylesheet(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.asset('console.css', request, reply);
  }

  @Get('assets/:name')
  file(@Param('name') name: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.asset(name, request, reply);
  }

  private asset(name: string, request: FastifyRequest, reply: FastifyReply) {
    const asset = this.assets.get(name);
    if (!asset) throw new NotFoundException(openAiError(`No console file "${name}".`, 'invalid_request_error', 'not_found', 'name'));
    consoleHeaders(reply, 'revalidate').header('etag', asset.etag);
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.code(200).header('content-type', asset.contentType).send(asset.body);
  }
}

function html(reply: FastifyReply, status: number, body: string) {
  return consoleHeaders(reply, 'no-store').code(status).header('content-type', 'text/html; charset=utf-8').send(body);
}

/** Secure cookies when the browser reached us over https, directly or through a proxy that says so. */
function overHttps(request: FastifyRequest): boolean {
  const forwarded = request.headers['x-forwarded-proto'];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return request.protocol === 'https' || proto === 'https';
}

function notBuilt(): NotFoundException {
  return new NotFoundException(openAiError('The console is not built: run `npm run build`.', 'invalid_request_error', 'console_not_built'));
}
