/** The gateway as a package: build it in-process (tests, benchmarks, embedding). */
export { createGateway, type CreateGatewayOptions } from './create-gateway.js';
export type { GatewayConfig, StoreConfig } from './config/gateway.config.js';
