import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import type { Principal } from '../auth/key-scope.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { BatchesService } from './batches.service.js';

/**
 * OpenAI's Batch API, for the caller's tenant: `POST /v1/batches`,
 * `GET /v1/batches/:id`, `GET /v1/batches` (`after`/`limit`) and
 * `POST /v1/batches/:id/cancel`.
 */
@Controller('v1/batches')
export class BatchesController {
  constructor(private readonly batches: BatchesService) {}

  @Post()
  @HttpCode(200)
  create(@Body() body: unknown, @CurrentPrincipal() principal: Principal | null) {
    return this.batches.create(principal, body);
  }

  @Get()
  list(@Query() query: Record<string, unknown>, @CurrentPrincipal() principal: Principal | null) {
    return this.batches.list(principal, query);
  }

  @Get(':id')
  get(@Param('id') id: string, @CurrentPrincipal() principal: Principal | null) {
    return this.batches.get(principal, id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@Param('id') id: string, @CurrentPrincipal() principal: Principal | null) {
    return this.batches.cancel(principal, id);
  }
}
