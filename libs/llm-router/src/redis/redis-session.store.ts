import type { Cluster, Redis } from 'ioredis';
import { sessionStoreKey, type SessionKey, type SessionState, type SessionStore } from '../session/session-store.js';
import { createRedisStoreClient } from './redis-store-client.js';

export interface RedisSessionStoreOptions {
  /** An existing client (or Cluster): used as is and never closed by the store. */
  client?: Redis | Cluster;
  /** Or a URL: the store creates, owns and closes its client. */
  url?: string;
  /** Prefix of every key (default `llmr:session:`); the tenant follows in a `{hash tag}`. */
  keyPrefix?: string;
  commandTimeoutMs?: number;
}

/**
 * Sessions shared by every instance on one Redis (or Cluster): one JSON
 * value per session, written with its TTL in the same command (`SET … PX`),
 * so Redis bounds what is kept. A tenant's sessions share its `{tenant}` hash
 * tag. A turn reads its session once and writes it once after the answer.
 */
export class RedisSessionStore implements SessionStore {
  private readonly client: Redis | Cluster;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private closing?: Promise<void>;

  constructor(options: RedisSessionStoreOptions) {
    if (!options.client && !options.url) throw new Error('RedisSessionStore needs a client or a url');
    this.ownsClient = !options.client;
    this.client = options.client ?? createRedisStoreClient(options.url!, options.commandTimeoutMs);
    this.prefix = options.keyPrefix ?? 'llmr:session:';
  }

  async get(key: SessionKey): Promise<SessionState | undefined> {
    const text = await this.client.get(this.prefix + sessionStoreKey(key));
    if (text === null) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return undefined;
    }
    // A value this store did not write (or another version's): as good as none, never a failed turn.
    return isSessionState(parsed) ? parsed : undefined;
  }

  async set(key: SessionKey, state: SessionState, ttlMs: number): Promise<void> {
    await this.client.set(this.prefix + sessionStoreKey(key), JSON.stringify(state), 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async delete(key: SessionKey): Promise<void> {
    await this.client.del(this.prefix + sessionStoreKey(key));
  }

  /** Closes the client only when the store created it. */
  close(): Promise<void> {
    this.closing ??= this.ownsClient ? this.client.quit().then(() => undefined, () => this.client.disconnect()) : Promise.resolve();
    return this.closing;
  }

  /** Nest calls this when the store is a provider: the same rule as `close()`. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}

function isSessionState(v: unknown): v is SessionState {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return (
    typeof s['target'] === 'string' &&
    typeof s['original'] === 'string' &&
    typeof s['createdAt'] === 'number' &&
    typeof s['updatedAt'] === 'number' &&
    typeof s['turns'] === 'number' &&
    Array.isArray(s['switches']) &&
    (s['transcript'] === undefined || Array.isArray(s['transcript']))
  );
}
