import { Module } from '@nestjs/common';
import { GatewayRedis } from './gateway-redis.js';

/** The gateway's optional shared state on Redis, for the router's options factory and the health checks. */
@Module({ providers: [GatewayRedis], exports: [GatewayRedis] })
export class GatewayRedisModule {}
