import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { CallbackTargets, LlmRouter } from '@llm-router/nestjs';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';

/**
 * Where deferred calls' callbacks may go (SSRF): public addresses only,
 * unless `LLM_CALLBACK_ALLOW` lists the host. Checked when a request names a
 * callback (callback-request.ts) and again by the library when it delivers
 * one, after resolving its host.
 */
@Injectable()
export class CallbackPolicy implements OnModuleInit {
  readonly targets: CallbackTargets;

  constructor(
    private readonly router: LlmRouter,
    config: ConfigService,
  ) {
    this.targets = new CallbackTargets(config.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY).callbackAllow);
  }

  onModuleInit(): void {
    this.router.deferred.deliverCallbacksTo(this.targets);
  }
}
