import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ApiKeyService } from './auth/api-key.service.js';
import { GatewayBudgetsService } from './budgets/gateway-budgets.service.js';

/**
 * Start-up in order, before the server accepts a request: API keys into
 * memory, then tenant budgets and spend (which needs the keys for key budgets).
 */
@Injectable()
export class GatewayBootstrap implements OnApplicationBootstrap {
  constructor(
    private readonly keys: ApiKeyService,
    private readonly budgets: GatewayBudgetsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.keys.start();
    await this.budgets.restore();
  }
}
