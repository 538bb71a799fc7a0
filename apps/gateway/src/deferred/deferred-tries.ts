import { Injectable, type OnModuleInit } from '@nestjs/common';
import { LlmRouter, LlmRouterError, newRequestId, type DeferredCall, type RouteOptions } from '@llm-router/nestjs';
import { ApiKeyService } from '../auth/api-key.service.js';
import { KEY_LABEL } from '../auth/keyed-context.js';
import { GatewayBudgetsService } from '../budgets/gateway-budgets.service.js';

/**
 * How a deferred call's try is routed from the gateway, on whichever instance
 * runs it: as its API key now stands (its budget applied, its record
 * attributed to it), under the tenant it was deferred for. A key revoked or
 * deleted since ends the call as failed.
 */
@Injectable()
export class DeferredTries implements OnModuleInit {
  constructor(
    private readonly router: LlmRouter,
    private readonly keys: ApiKeyService,
    private readonly budgets: GatewayBudgetsService,
  ) {}

  onModuleInit(): void {
    this.router.deferred.prepareTriesWith((call) => this.optionsFor(call));
  }

  private async optionsFor(call: DeferredCall): Promise<RouteOptions> {
    const options: RouteOptions = { ...call.context, trafficClass: call.trafficClass, requestId: newRequestId() };
    if (call.tenant !== undefined) options.tenant = call.tenant;
    if (call.caller === undefined) return options;
    if (this.keys.get(call.caller) === undefined) await this.keys.reload(); // made on another instance since this one loaded its keys
    const key = this.keys.get(call.caller);
    const principal = this.keys.principalOf(call.caller);
    if (key === undefined || principal === undefined || key.status === 'revoked') {
      throw new LlmRouterError({
        category: 'invalid_request',
        httpStatus: 401,
        origin: 'gateway',
        code: 'revoked_api_key',
        message: `The API key ${call.caller} that deferred this call was revoked or deleted: it is not tried again.`,
      });
    }
    this.budgets.applyKeyBudget(principal, options);
    options.labels = { ...options.labels, [KEY_LABEL]: call.caller };
    return options;
  }
}
