import { Controller, Get, Query } from '@nestjs/common';
import { BatchesService } from './batches.service.js';

/**
 * `GET /admin/batches`: batches across tenants as OpenAI batch objects (with
 * their `llm_router` pause), newest first, `tenant` and `status` filters,
 * `after`/`limit` pages (the admin credential or a console session).
 */
@Controller('admin')
export class AdminBatchesController {
  constructor(private readonly batches: BatchesService) {}

  @Get('batches')
  list(@Query() query: Record<string, unknown>) {
    return this.batches.adminList(query);
  }
}
