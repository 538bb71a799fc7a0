import { BadRequestException, Controller, Get, Inject, Query } from '@nestjs/common';
import { openAiError } from '../errors/openai-error.js';
import { listEnvelope } from '../http/cursor-page.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';
import { parseDeferredListing } from './deferred-listing.query.js';
import { deferredListingItem } from './deferred-listing.view.js';

/**
 * `GET /admin/deferred`: deferred calls across tenants, newest first, with
 * `tenant` and `status` filters and `after`/`limit` pages (the admin
 * credential or a console session, as every /admin route).
 */
@Controller('admin')
export class AdminDeferredController {
  constructor(@Inject(GATEWAY_STORE) private readonly store: GatewayStore) {}

  @Get('deferred')
  async list(@Query() query: Record<string, unknown>) {
    const { filter, limit, after } = parseDeferredListing(query);
    const page = await this.store.deferredCalls.list(filter, limit, after);
    if (page === undefined) {
      throw new BadRequestException(openAiError(`Invalid 'after': no deferred call "${after}" (pass the previous page's last_id).`, 'invalid_request_error', 'invalid_value', 'after'));
    }
    return listEnvelope(page.calls.map(deferredListingItem), page.hasMore);
  }
}
