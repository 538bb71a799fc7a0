import type { StoreConfig } from '../config/gateway.config.js';
import type { GatewayStore } from './gateway-store.js';
import { SqliteGatewayStore } from './sqlite-gateway-store.js';

/** The configured store, migrated and ready. The PostgreSQL store (and pg) is loaded only when configured. */
export async function createStore(config: StoreConfig): Promise<GatewayStore> {
  const store: GatewayStore =
    config.kind === 'postgres'
      ? new (await import('./postgres-gateway-store.js')).PostgresGatewayStore({ url: config.url, schema: config.schema, poolSize: config.poolSize })
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
