import { Module } from '@nestjs/common';
import { PolicyController } from './policy.controller.js';

/** GET /v1/policy: the effective routing policy. */
@Module({ controllers: [PolicyController] })
export class PolicyModule {}
