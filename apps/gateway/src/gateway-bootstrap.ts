import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiKeyService } from './auth/api-key.service.js';
import { GatewayBudgetsService } from './budgets/gateway-budgets.service.js';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from './config/gateway.config.js';

/**
 * Start-up in order, before the server accepts a request: API keys into
 * memory, then tenant budgets and spend (which needs the keys for key budgets);
 * both are then re-read every `keysRefreshMs` (other instances' changes).
 */
@Injectable()
export class GatewayBootstrap implements OnApplicationBootstrap {
  constructor(
    private readonly keys: ApiKeyService,
    private readonly budgets: GatewayBudgetsService,
    private readonly config: ConfigService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.keys.start();
    await this.budgets.restore();
    this.budgets.startRefresh(this.config.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY).keysRefreshMs);
  }
}
