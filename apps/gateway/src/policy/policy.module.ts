import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { StoreModule } from '../store/store.module.js';
import { PolicyController } from './policy.controller.js';
import { PolicySimulator } from './policy-simulator.service.js';
import { PolicyTrialController } from './policy-trial.controller.js';
import { ShadowPolicy } from './shadow-policy.service.js';
import { PolicyReloadService } from './policy-reload.service.js';
import { PolicyTriggers } from './policy-triggers.js';
import { YamlBodyParser } from './yaml-body.parser.js';

/**
 * GET /v1/policy: the effective routing policy as far as a key reaches;
 * /admin/policy: all of it, its reload (PUT) and its history, with the
 * triggers that keep every instance on the newest version; a candidate tried
 * on recorded traffic (simulate) or beside the live policy (shadow).
 */
@Module({
  imports: [StoreModule, AuthModule],
  controllers: [PolicyController, PolicyTrialController],
  providers: [PolicyReloadService, PolicyTriggers, YamlBodyParser, PolicySimulator, ShadowPolicy],
  exports: [PolicyReloadService],
})
export class PolicyModule {}
