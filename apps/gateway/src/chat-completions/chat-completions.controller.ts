import { Body, Controller, Headers, HttpCode, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { LlmRouter, type RouteOptions } from '#llm-router';
import { toErrorResponse } from '../errors/error-response.js';
import { parseChatRequest } from './parse-chat-request.js';
import { routingHeaders } from './routing-headers.js';
import { untilClientGone } from './until-client-gone.js';
import { writeSse } from './sse-writer.js';

/**
 * OpenAI-compatible chat completions. The traffic class comes from the
 * `x-traffic-class` header (or the policy's default class); the routing
 * outcome comes back in `x-llm-*` headers.
 */
@Controller('v1')
export class ChatCompletionsController {
  constructor(private readonly router: LlmRouter) {}

  @Post('chat/completions')
  @HttpCode(200)
  async create(
    @Body() body: unknown,
    @Headers('x-traffic-class') trafficClass: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const request = parseChatRequest(body);
    const options: RouteOptions | undefined = trafficClass ? { trafficClass } : undefined;
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
