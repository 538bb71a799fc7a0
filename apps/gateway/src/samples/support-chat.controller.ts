import { Body, Controller, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { LlmRouter, QualityFloor, TrafficClass } from '@llm-router/nestjs';
import { routingHeaders } from '../chat-completions/routing-headers.js';
import { untilClientGone } from '../chat-completions/until-client-gone.js';
import { parseSupportChatRequest } from './support-chat-request.js';
import { SampleAccessGuard } from './sample-access.guard.js';

/**
 * The sample workflow: a customer-facing support chat. The decorators set its
 * traffic class and floor; the router reads them from the request context.
 */
@Controller('support')
@UseGuards(SampleAccessGuard)
@TrafficClass('support-chat')
@QualityFloor({ tier: 'premium' })
export class SupportChatController {
  constructor(private readonly router: LlmRouter) {}

  @Post('chat')
  @HttpCode(200)
  async chat(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const { message, history } = parseSupportChatRequest(body);
    // A customer who closes the chat aborts the upstream call.
    const { completion, outcome, costUsd } = await untilClientGone(
      this.router.completion$({
        messages: [
          { role: 'system', content: 'You are a helpful, concise customer-support agent.' },
          ...history,
          { role: 'user', content: message },
        ],
      }),
      reply.raw,
    );
    reply.headers(routingHeaders(outcome, costUsd));
    return {
      reply: completion.choices[0]?.message.content ?? '',
      routing: { model: outcome.model, provider: outcome.provider, fallback: outcome.fallback, attempts: outcome.attempts, requestId: outcome.requestId },
      usage: completion.usage ?? null,
    };
  }
}
