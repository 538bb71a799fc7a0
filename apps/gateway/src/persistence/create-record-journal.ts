import type { WriteCoalescingRedis } from '@llm-router/nestjs/redis';
import { recordJournalDir, type GatewayConfig } from '../config/gateway.config.js';
import type { HeldEnds } from '../http/held-ends.js';
import { FileRecordJournal, NoRecordJournal, type RecordJournal } from './record-journal.js';
import { RedisRecordJournal } from './redis-record-journal.js';

/** Entries of the shared journal older than this are another process's orphans (at least a minute, and four flush intervals). */
export const orphanAfterMs = (config: Pick<GatewayConfig, 'recordFlushMs'>) => Math.max(60_000, 4 * config.recordFlushMs);

/** The configured journal: the fleet's Redis stream (files as its fallback), files alone, or none. */
export function createRecordJournal(config: GatewayConfig, redis: WriteCoalescingRedis | undefined, ends: HeldEnds, onError: (message: string) => void): RecordJournal {
  if (config.recordJournal === 'off') return new NoRecordJournal();
  const dir = recordJournalDir(config);
  const files = dir === undefined ? new NoRecordJournal() : new FileRecordJournal(dir, { onError, ends });
  if (redis === undefined) return files;
  return new RedisRecordJournal(redis, `${config.redisKeyPrefix}records:journal`, files, { orphanAfterMs: orphanAfterMs(config), onError, ends });
}
