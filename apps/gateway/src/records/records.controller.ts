import { Controller, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import type { Principal } from '../auth/key-scope.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { openAiError } from '../errors/openai-error.js';
import { RecordsService } from '../persistence/records.service.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';
import { encodeCursor, parseRecordSearch } from './record-search.query.js';
import { recordView } from './record.view.js';

/**
 * The routing records, found over HTTP: `GET /admin/records` (filters,
 * cursor pagination, newest first) and `GET /admin/records/:requestId` for
 * the operator; `GET /v1/records/:requestId` for a key, within its tenant.
 * Waiting records are written first: a call answered a moment ago is found.
 */
@Controller()
export class RecordsController {
  constructor(
    @Inject(GATEWAY_STORE) private readonly store: GatewayStore,
    private readonly records: RecordsService,
  ) {}

  @Get('admin/records')
  async search(@Query() query: Record<string, unknown>) {
    const { filter, limit, cursor } = parseRecordSearch(query);
    await this.records.flush();
    const page = await this.store.searchRecords(filter, limit, cursor);
    return { object: 'list', data: page.records.map(recordView), has_more: page.next !== undefined, next_cursor: page.next ? encodeCursor(page.next) : null };
  }

  @Get('admin/records/:requestId')
  async adminRecord(@Param('requestId') requestId: string) {
    return this.find(requestId, undefined);
  }

  @Get('v1/records/:requestId')
  async tenantRecord(@Param('requestId') requestId: string, @CurrentPrincipal() principal: Principal | null) {
    return this.find(requestId, principal?.keyId ? (principal.tenant ?? null) : undefined);
  }

  /** `tenant`: undefined = any; otherwise only that tenant's records (null: none). */
  private async find(requestId: string, tenant: string | null | undefined) {
    await this.records.flush();
    const found = (await this.store.recordsOfRequest(requestId)).filter((r) => tenant === undefined || (tenant !== null && r.tenant === tenant));
    if (found.length === 0) throw new NotFoundException(openAiError(`No routing record with request id "${requestId}".`, 'invalid_request_error', 'not_found', 'requestId'));
    // A request id names one call; calls that shared one (a batch under one x-request-id) come as a list.
    return found.length === 1 ? recordView(found[0]!) : { object: 'list', data: found.map(recordView) };
  }
}
