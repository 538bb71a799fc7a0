// @llm-router/nestjs/redis: the shared stores on Redis. Only this entry point
// loads ioredis (an optional peer dependency): an app that never imports it
// never needs ioredis installed.
export { RedisBudgetLedgerStore, type RedisBudgetLedgerOptions } from './redis-budget-ledger.store.js';
export { RedisCircuitStateStore, type RedisCircuitStateOptions } from './redis-circuit-state.store.js';
export { createRedisStoreClient, type RedisStoreClientOptions } from './redis-store-client.js';
export { WriteCoalescingRedis } from './write-coalescing-redis.js';
export { RedisSessionStore, type RedisSessionStoreOptions } from './redis-session.store.js';
