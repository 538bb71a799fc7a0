import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LlmRouter } from '#llm-router';
import { RouteAccessService } from '../auth/route-access.service.js';
import { toErrorResponse } from '../errors/error-response.js';
import { parseChatRequest } from './parse-chat-request.js';
import { routingHeaders } from './routing-headers.js';
import { untilClientGone } from './until-client-gone.js';
import { writeSse } from './sse-writer.js';

/**
 * OpenAI-compatible chat completions. The caller's API key gives the tenant
 * and the scopes; the traffic class comes from the key's default, the
 * `x-traffic-class` header or a class named as `model`; the routing outcome
 * (and the tenant's budget position) comes back in `x-llm-*` headers.
 */
@Controller('v1')
export class ChatCompletionsController {
  constructor(
    private readonly router: LlmRouter,
    private readonly access: RouteAccessService,
  ) {}

  @Post('chat/completions')
  @HttpCode(200)
  async create(@Body() body: unknown, @Req() httpRequest: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const request = parseChatRequest(body);
    const options = this.access.optionsFor(httpRequest.llmPrincipal, httpRequest.headers, request.model);
    if (request.stream) {
      reply.hijack();
      writeSse(reply.raw, this.router.stream$(request, options), request.stream_options?.include_usage === true, (err) =>
        this.sendError(reply, err),
      );
      return;
    }
    const { completion, outcome } = await untilClientGone(this.router.completion$(request, options), reply.raw);
    void reply.headers(routingHeaders(outcome)).send(completion);
  }

  /** A stream that failed before its first chunk still gets a proper HTTP error. */
  private sendError(reply: FastifyReply, err: unknown): void {
    const res = reply.raw;
    if (res.headersSent) return void res.end();
    const { status, body, headers } = toErrorResponse(err);
    res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  }
}
