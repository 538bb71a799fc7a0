import { Module } from '@nestjs/common';
import { StoreModule } from '../store/store.module.js';
import { PolicyController } from './policy.controller.js';
import { PolicyReloadService } from './policy-reload.service.js';
import { PolicyTriggers } from './policy-triggers.js';
import { YamlBodyParser } from './yaml-body.parser.js';

/**
 * GET /v1/policy: the effective routing policy as far as a key reaches;
 * /admin/policy: all of it, its reload (PUT) and its history, with the
 * triggers that keep every instance on the newest version.
 */
@Module({
  imports: [StoreModule],
  controllers: [PolicyController],
  providers: [PolicyReloadService, PolicyTriggers, YamlBodyParser],
  exports: [PolicyReloadService],
})
export class PolicyModule {}
