import type { StoreConfig } from '../config/gateway.config.js';
import type { GatewayStore } from './gateway-store.js';
import { PostgresGatewayStore } from './postgres-gateway-store.js';
import { SqliteGatewayStore } from './sqlite-gateway-store.js';

/** The configured store, migrated and ready. */
export async function createStore(config: StoreConfig): Promise<GatewayStore> {
  const store: GatewayStore =
    config.kind === 'postgres'
      ? new PostgresGatewayStore({ url: config.url, schema: config.schema, poolSize: config.poolSize })
      : new SqliteGatewayStore(config.path);
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw new Error(`could not open the ${config.kind} store: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return store;
}

/** Where the store lives, with any password masked: for logs. */
export function describeStore(config: StoreConfig): string {
  if (config.kind === 'sqlite') return `sqlite ${config.path}`;
  try {
    const url = new URL(config.url);
    if (url.password) url.password = '***';
    return `postgres ${url.toString()} (schema ${config.schema})`;
  } catch {
    return `postgres (schema ${config.schema})`;
  }
}
