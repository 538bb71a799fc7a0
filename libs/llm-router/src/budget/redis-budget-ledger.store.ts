import { Redis, type Cluster } from 'ioredis';
import type { BudgetLedgerStore, LedgerBalance, LedgerKeys, LedgerLimits, ReserveResult } from './budget-ledger.store.js';

// Each script is one atomic step. All keys of a tenant share the `{tenant}` hash
// tag, so they live in one Cluster slot and a script may touch them together.
const RESERVE = `
local amount = tonumber(ARGV[1])
local budget = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local hasDay = ARGV[5] == '1'
local ps = tonumber(redis.call('HGET', KEYS[1], 'spent') or '0')
local pr = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
local ds, dr = 0, 0
if hasDay then
  ds = tonumber(redis.call('HGET', KEYS[2], 'spent') or '0')
  dr = tonumber(redis.call('HGET', KEYS[2], 'reserved') or '0')
end
if ps + pr + amount > budget then return {0, 1, ps, pr, ds, dr} end
if hasDay and cap >= 0 and ds + dr + amount > cap then return {0, 2, ps, pr, ds, dr} end
redis.call('HINCRBY', KEYS[1], 'reserved', amount)
redis.call('EXPIRE', KEYS[1], ttl)
if hasDay then
  redis.call('HINCRBY', KEYS[2], 'reserved', amount)
  redis.call('EXPIRE', KEYS[2], 172800)
end
return {1, 0, ps, pr + amount, ds, dr + amount}
`;

const SETTLE = `
local reserved = tonumber(ARGV[1])
local actual = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local hasDay = ARGV[4] == '1'
local out = {}
local n = hasDay and 2 or 1
for i = 1, n do
  local r = tonumber(redis.call('HGET', KEYS[i], 'reserved') or '0') - reserved
  if r < 0 then r = 0 end
  redis.call('HSET', KEYS[i], 'reserved', r)
  local s = redis.call('HINCRBY', KEYS[i], 'spent', actual)
  redis.call('EXPIRE', KEYS[i], i == 1 and ttl or 172800)
  out[#out + 1] = s
  out[#out + 1] = r
end
if not hasDay then out[3] = 0; out[4] = 0 end
return out
`;

const RESTORE = `
local hasDay = ARGV[3] == '1'
local s = tonumber(redis.call('HGET', KEYS[1], 'spent') or '0')
if tonumber(ARGV[1]) > s then redis.call('HSET', KEYS[1], 'spent', ARGV[1]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
if hasDay then
  local d = tonumber(redis.call('HGET', KEYS[2], 'spent') or '0')
  if tonumber(ARGV[2]) > d then redis.call('HSET', KEYS[2], 'spent', ARGV[2]) end
  redis.call('EXPIRE', KEYS[2], 172800)
end
return 1
`;

type LedgerClient = (Redis | Cluster) & {
  llmrReserve(k1: string, k2: string, ...args: Array<string | number>): Promise<number[]>;
  llmrSettle(k1: string, k2: string, ...args: Array<string | number>): Promise<number[]>;
  llmrRestore(k1: string, k2: string, ...args: Array<string | number>): Promise<number>;
};

export interface RedisBudgetLedgerOptions {
  /** An existing client (or Cluster): used as is and never closed by the store. */
  client?: Redis | Cluster;
  /** Or a URL: the store creates, owns and closes its client. */
  url?: string;
  keyPrefix?: string;
  /** Fail a command after this long instead of queueing while Redis is away. */
  commandTimeoutMs?: number;
}

/** The shared ledger: several gateway instances on one Redis (or Cluster) never reserve past a budget. */
export class RedisBudgetLedgerStore implements BudgetLedgerStore {
  private readonly client: LedgerClient;
  private readonly ownsClient: boolean;
  private readonly prefix: string;

  constructor(options: RedisBudgetLedgerOptions) {
    if (!options.client && !options.url) throw new Error('RedisBudgetLedgerStore needs a client or a url');
    this.ownsClient = !options.client;
    const client =
      options.client ??
      new Redis(options.url!, {
        // A budget check must answer soon: a command waits at most commandTimeout
        // (queued while the client connects), then the class's outage rule applies.
        maxRetriesPerRequest: 1,
        connectTimeout: 1_000,
        commandTimeout: options.commandTimeoutMs ?? 1_000,
      });
    if (this.ownsClient) client.on('error', () => undefined); // surfaced per command instead
    client.defineCommand('llmrReserve', { numberOfKeys: 2, lua: RESERVE });
    client.defineCommand('llmrSettle', { numberOfKeys: 2, lua: SETTLE });
    client.defineCommand('llmrRestore', { numberOfKeys: 2, lua: RESTORE });
    this.client = client as LedgerClient;
    this.prefix = options.keyPrefix ?? 'llmr:budget:';
  }

  async reserve(tenant: string, amount: number, limits: LedgerLimits): Promise<ReserveResult> {
    const [periodKey, dayKey] = this.keys(tenant, limits);
    const r = await this.client.llmrReserve(periodKey, dayKey, amount, limits.budgetMicros, limits.dailyCapMicros ?? -1, limits.periodTtlSec, limits.dayKey !== undefined ? '1' : '0');
    const balance = { spentMicros: r[2]!, reservedMicros: r[3]!, daySpentMicros: r[4]!, dayReservedMicros: r[5]! };
    return r[0] === 1 ? { granted: true, balance } : { granted: false, refusedBy: r[1] === 2 ? 'day' : 'period', balance };
  }

  async settle(tenant: string, reserved: number, actual: number, keys: LedgerKeys): Promise<LedgerBalance> {
    const [periodKey, dayKey] = this.keys(tenant, keys);
    const r = await this.client.llmrSettle(periodKey, dayKey, reserved, actual, keys.periodTtlSec, keys.dayKey !== undefined ? '1' : '0');
    return { spentMicros: r[0]!, reservedMicros: r[1]!, daySpentMicros: r[2]!, dayReservedMicros: r[3]! };
  }

  async balance(tenant: string, keys: LedgerKeys): Promise<LedgerBalance> {
    const [periodKey, dayKey] = this.keys(tenant, keys);
    const [p, d] = await Promise.all([
      this.client.hmget(periodKey, 'spent', 'reserved'),
      keys.dayKey !== undefined ? this.client.hmget(dayKey, 'spent', 'reserved') : Promise.resolve([null, null]),
    ]);
    return { spentMicros: Number(p[0] ?? 0), reservedMicros: Number(p[1] ?? 0), daySpentMicros: Number(d[0] ?? 0), dayReservedMicros: Number(d[1] ?? 0) };
  }

  async restore(tenant: string, keys: LedgerKeys, spent: number, daySpent: number): Promise<void> {
    const [periodKey, dayKey] = this.keys(tenant, keys);
    await this.client.llmrRestore(periodKey, dayKey, spent, daySpent, keys.dayKey !== undefined ? '1' : '0', keys.periodTtlSec);
  }

  async markCrossing(tenant: string, keys: LedgerKeys, tier: string): Promise<boolean> {
    const key = `${this.prefix}{${this.tag(tenant)}}:x:${keys.periodKey}:${tier}`;
    return (await this.client.set(key, '1', 'EX', keys.periodTtlSec, 'NX')) === 'OK';
  }

  /** Closes the client only if this store created it. */
  async close(): Promise<void> {
    if (this.ownsClient) await this.client.quit().catch(() => this.client.disconnect());
  }

  private keys(tenant: string, keys: LedgerKeys): [string, string] {
    const base = `${this.prefix}{${this.tag(tenant)}}`;
    // The day key must exist for the script's KEYS even when unused; it stays in the same slot.
    return [`${base}:p:${keys.periodKey}`, `${base}:d:${keys.dayKey ?? 'none'}`];
  }

  /** Braces in a tenant id would break the hash tag. */
  private tag(tenant: string): string {
    return encodeURIComponent(tenant).replace(/[{}]/g, '_');
  }
}
