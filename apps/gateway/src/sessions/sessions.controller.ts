import { BadRequestException, Controller, Get, Param } from '@nestjs/common';
import type { Principal } from '../auth/key-scope.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { openAiError } from '../errors/openai-error.js';
import { SessionsService } from './sessions.service.js';

/** `GET /v1/sessions/:id`: a session of the calling key (its own tenant only): turns, targets, switches with reasons, tokens and cost. */
@Controller('v1/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get(':id')
  async get(@Param('id') id: string, @CurrentPrincipal() principal: Principal | null) {
    const tenant = principal?.tenant;
    if (tenant === undefined) {
      throw new BadRequestException(openAiError('No tenant: with authentication disabled, name it in the x-tenant-id header.', 'invalid_request_error', 'missing_tenant', 'x-tenant-id'));
    }
    return this.sessions.view(tenant, principal?.keyId ?? null, id);
  }
}
