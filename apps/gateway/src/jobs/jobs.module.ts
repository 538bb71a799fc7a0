import { Module } from '@nestjs/common';
import { StoreModule } from '../store/store.module.js';
import { GatewayJobQueue } from './gateway-job-queue.js';

/** The gateway's work queue, on Redis or on its SQL store (see GatewayJobQueue). */
@Module({ imports: [StoreModule], providers: [GatewayJobQueue], exports: [GatewayJobQueue] })
export class JobsModule {}
