import { Controller, Get, Header, NotFoundException, Param } from '@nestjs/common';
import { deferredCallBody, LlmRouter } from '@llm-router/nestjs';
import type { Principal } from '../auth/key-scope.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { openAiError } from '../errors/openai-error.js';

/**
 * `GET /v1/deferred/:id`: a deferred call's state and, once completed, its
 * chat completion as the synchronous call would have answered it. Only the
 * caller's own tenant sees it; any other gets the 404 of an unknown id.
 */
@Controller('v1')
export class DeferredController {
  constructor(private readonly router: LlmRouter) {}

  @Get('deferred/:id')
  @Header('content-type', 'application/json; charset=utf-8')
  async get(@CurrentPrincipal() principal: Principal | null, @Param('id') id: string): Promise<string> {
    const call = id.length <= 64 ? await this.router.deferred.get(id) : undefined;
    if (call === undefined || call.tenant !== principal?.tenant) {
      throw new NotFoundException(openAiError(`No deferred call '${id}' for this caller.`, 'invalid_request_error', 'deferred_call_not_found', 'id'));
    }
    return deferredCallBody(call);
  }
}
