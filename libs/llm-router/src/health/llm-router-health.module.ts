import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LlmRouterHealthIndicator } from './llm-router.health.js';

/**
 * Import it where your health controller lives to inject
 * `LlmRouterHealthIndicator`; `LlmRouterModule` itself never imports
 * `TerminusModule`.
 */
@Module({
  imports: [TerminusModule],
  providers: [LlmRouterHealthIndicator],
  exports: [LlmRouterHealthIndicator, TerminusModule],
})
export class LlmRouterHealthModule {}
