import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LlmRouter, type RouteOutcome } from '@llm-router/nestjs';
import type { Principal } from '../auth/key-scope.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { RouteAccessService } from '../chat-completions/route-access.service.js';
import { routingHeaders } from '../chat-completions/routing-headers.js';
import { untilClientGone } from '../chat-completions/until-client-gone.js';
import { writeErrorResponse } from '../errors/write-error-response.js';
import { ShutdownGrace } from '../http/shutdown-grace.js';
import type { ResponseOwner } from '../store/gateway-store.js';
import { itemPage, parseItemPageQuery } from './item-page.js';
import { parseResponsesRequest } from './parse-responses-request.js';
import { ResponseEvents } from './response-events.js';
import { newId } from './response-ids.js';
import { outputItems, responseObject, statusOf, type ResponseFrame } from './response-object.js';
import type { ResponseObject, ResponsesRequest } from './response.types.js';
import { StoredResponsesService } from './stored-responses.service.js';
import { toChatRequest } from './to-chat-request.js';
import { writeResponseEvents } from './write-response-events.js';

/**
 * OpenAI's Responses API on the router: `POST /v1/responses` (JSON, or typed
 * server-sent events with `stream`), `GET` and `DELETE /v1/responses/:id`,
 * `GET /v1/responses/:id/input_items`.
 * Each response is one routed call, as on /v1/chat/completions: the same key
 * scopes, traffic class, budgets, quality floor and routing record
 * (RouteAccessService, LlmRouter), with the `x-llm-*` headers. A response
 * that continues another (`previous_response_id`) sends the whole earlier
 * conversation, so the target that serves it (a fallback on another provider
 * included) has every earlier turn.
 */
@Controller('v1/responses')
export class ResponsesController {
  constructor(
    private readonly router: LlmRouter,
    private readonly access: RouteAccessService,
    private readonly grace: ShutdownGrace,
    private readonly stored: StoredResponsesService,
  ) {}

  @Post()
  async create(@Body() body: unknown, @CurrentPrincipal() principal: Principal | null, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const request = parseResponsesRequest(body);
    const owner = this.stored.ownerOf(principal);
    const id = newId('resp');
    const conversation = request.previous_response_id === undefined ? { firstId: id, items: [] } : await this.stored.conversation(request.previous_response_id, owner);
    const chat = toChatRequest(request, conversation.items);
    // Last: from here on the call is routed (its record attributed to the key by a label).
    const options = this.access.resolve(principal, req.headers, request.model);
    // A conversation's calls share a session (its first response's id) unless the caller names one (x-session-id): its records group by it.
    options.session ??= conversation.firstId;
    const createdAt = Math.floor(Date.now() / 1000);
    const store = request.store !== false;
    const frame = (outcome: RouteOutcome): ResponseFrame => ({ id, createdAt, request, model: outcome.model, store });
    const finished = (response: ResponseObject) => this.keep(response, request, owner);

    if (request.stream === true) {
      chat.stream = true;
      // The answer is written on the raw response from here on.
      reply.hijack();
      const res = reply.raw;
      writeResponseEvents(
        res,
        this.router.stream$(chat, options),
        { events: (outcome) => new ResponseEvents(frame(outcome)), finished, errorBeforeFirstChunk: (err) => writeErrorResponse(res, err) },
        this.grace,
      );
      return;
    }
    const { completion, outcome, costUsd } = await untilClientGone(this.router.completion$(chat, options), reply.raw, this.grace);
    const finishReason = completion.choices[0]?.finish_reason ?? undefined;
    const response = responseObject(frame(outcome), {
      status: statusOf(finishReason),
      output: outputItems(completion),
      ...(completion.usage ? { usage: completion.usage } : {}),
      ...(finishReason ? { finishReason } : {}),
    });
    void reply.status(200).headers(routingHeaders(outcome, costUsd)).send(await finished(response));
  }

  @Get(':id')
  async retrieve(@Param('id') id: string, @CurrentPrincipal() principal: Principal | null): Promise<ResponseObject> {
    return this.stored.find(id, this.stored.ownerOf(principal));
  }

  @Get(':id/input_items')
  async inputItems(@Param('id') id: string, @Query() query: unknown, @CurrentPrincipal() principal: Principal | null) {
    const page = parseItemPageQuery(query);
    return itemPage(await this.stored.inputItems(id, this.stored.ownerOf(principal)), page);
  }

  @Delete(':id')
  @HttpCode(200)
  async remove(@Param('id') id: string, @CurrentPrincipal() principal: Principal | null) {
    await this.stored.delete(id, this.stored.ownerOf(principal));
    return { id, object: 'response', deleted: true };
  }

  /** A finished response, stored unless `store: false`; one the store refused says so (`store: false`). */
  private async keep(response: ResponseObject, request: ResponsesRequest, owner: ResponseOwner): Promise<ResponseObject> {
    if (!response.store || (await this.stored.save(response, request, owner))) return response;
    return { ...response, store: false };
  }
}
