import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { StoreModule } from '../store/store.module.js';
import { ApiKeyService } from './api-key.service.js';
import { AuthHook } from './auth.hook.js';
import { ConsoleSessions } from './console-sessions.js';
import { CredentialFailures } from './credential-failures.js';
import { V1Authenticator } from './v1-authenticator.js';

/**
 * Who is calling: API keys (held in memory, loaded at start-up), the v1
 * authenticator (built once: the fast lane and the Fastify hook share it) and
 * the hook that guards /v1, /admin and /metrics on Fastify's routes.
 */
@Module({
  imports: [StoreModule, MetricsModule],
  providers: [ApiKeyService, V1Authenticator, AuthHook, ConsoleSessions, CredentialFailures],
  exports: [ApiKeyService, V1Authenticator, ConsoleSessions, CredentialFailures],
})
export class AuthModule {}
