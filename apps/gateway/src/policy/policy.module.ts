import { Module } from '@nestjs/common';
import { PolicyController } from './policy.controller.js';

/** GET /v1/policy: the effective routing policy as far as a key reaches; GET /admin/policy: all of it. */
@Module({ controllers: [PolicyController] })
export class PolicyModule {}
