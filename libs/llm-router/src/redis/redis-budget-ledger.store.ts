import type { Cluster, Redis } from 'ioredis';
import { createRedisStoreClient } from './redis-store-client.js';
import { SERVER_CLOCK_LUA } from './server-clock.lua.js';
import type { BudgetLedgerStore, LedgerBalance, LedgerKeys, LedgerLease, LedgerLimits, ReserveResult } from '../budget/budget-ledger.store.js';

// Each script is one atomic step. All keys of a tenant share the `{tenant}` hash
// tag, so they live in one Cluster slot and a script may touch them together.
// KEYS: 1 period counters, 2 day counters, 3 the period's leases (a sorted set:
// member "id:amount", score = when it runs out, ms), 4 the period's leases that
// ran out (kept an hour, so a late settle still books its cost, once), 5 the
// day's leases.
const LEASES = `${SERVER_CLOCK_LUA}
local function release(key, amount)
  local r = tonumber(redis.call('HGET', key, 'reserved') or '0') - amount
  if r < 0 then r = 0 end
  redis.call('HSET', key, 'reserved', r)
  return r
end
-- Leases past their time belong to calls whose process is gone: release what they hold.
local function reap(leases, counters, now, ranOut, ttl)
  local dead = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, 100)
  if #dead == 0 then return end
  for i = 1, #dead do
    release(counters, tonumber(string.match(dead[i], ':(%d+)$')))
    if ranOut then redis.call('ZADD', ranOut, now + 3600000, dead[i]) end
  end
  redis.call('ZREM', leases, unpack(dead))
  if ranOut then
    redis.call('ZREMRANGEBYSCORE', ranOut, '-inf', now)
    redis.call('EXPIRE', ranOut, ttl)
  end
end
`;

const RESERVE = `${LEASES}
local amount = tonumber(ARGV[1])
local budget = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local hasDay = ARGV[5] == '1'
local member = ARGV[6]
local now = clock()
local expires = now + tonumber(ARGV[7])
reap(KEYS[3], KEYS[1], now, KEYS[4], ttl)
if hasDay then reap(KEYS[5], KEYS[2], now, nil, ttl) end
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
redis.call('ZADD', KEYS[3], expires, member)
redis.call('EXPIRE', KEYS[3], ttl)
if hasDay then
  redis.call('HINCRBY', KEYS[2], 'reserved', amount)
  redis.call('EXPIRE', KEYS[2], 172800)
  redis.call('ZADD', KEYS[5], expires, member)
  redis.call('EXPIRE', KEYS[5], 172800)
end
return {1, 0, ps, pr + amount, ds, dr + amount}
`;

const SETTLE = `${LEASES}
local reserved = tonumber(ARGV[1])
local actual = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local hasDay = ARGV[4] == '1'
local member = ARGV[5]
local held = redis.call('ZREM', KEYS[3], member) == 1
local ps, pr, ds, dr
if not held and redis.call('ZREM', KEYS[4], member) == 0 then
  -- Settled before (a retry whose first try did arrive): book nothing twice.
  ps = tonumber(redis.call('HGET', KEYS[1], 'spent') or '0')
  pr = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
  ds = tonumber(redis.call('HGET', KEYS[2], 'spent') or '0')
  dr = tonumber(redis.call('HGET', KEYS[2], 'reserved') or '0')
  if not hasDay then ds = 0; dr = 0 end
  return {ps, pr, ds, dr}
end
-- A lease that ran out was released by the reaper: its cost is still booked, once.
if held then pr = release(KEYS[1], reserved) else pr = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0') end
ps = redis.call('HINCRBY', KEYS[1], 'spent', actual)
redis.call('EXPIRE', KEYS[1], ttl)
ds, dr = 0, 0
if hasDay then
  if redis.call('ZREM', KEYS[5], member) == 1 then dr = release(KEYS[2], reserved) else dr = tonumber(redis.call('HGET', KEYS[2], 'reserved') or '0') end
  ds = redis.call('HINCRBY', KEYS[2], 'spent', actual)
  redis.call('EXPIRE', KEYS[2], 172800)
end
return {ps, pr, ds, dr}
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
  llmrReserve(...keysAndArgs: Array<string | number>): Promise<number[]>;
  llmrSettle(...keysAndArgs: Array<string | number>): Promise<number[]>;
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

/**
 * The shared ledger: several gateway instances on one Redis (or Cluster) never
 * reserve past a budget. Each reservation is a lease (see `LedgerLease`): the
 * next reserve of the tenant releases those whose time ran out, so a crashed
 * instance's calls in flight stop counting against the budget after their
 * class's deadline and a minute, not at the end of the period.
 */
export class RedisBudgetLedgerStore implements BudgetLedgerStore {
  private readonly client: LedgerClient;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private closing: Promise<void> | undefined;

  constructor(options: RedisBudgetLedgerOptions) {
    if (!options.client && !options.url) throw new Error('RedisBudgetLedgerStore needs a client or a url');
    this.ownsClient = !options.client;
    const client = options.client ?? createRedisStoreClient(options.url!, options.commandTimeoutMs);
    client.defineCommand('llmrReserve', { numberOfKeys: 5, lua: RESERVE });
    client.defineCommand('llmrSettle', { numberOfKeys: 5, lua: SETTLE });
    client.defineCommand('llmrRestore', { numberOfKeys: 2, lua: RESTORE });
    this.client = client as LedgerClient;
    this.prefix = options.keyPrefix ?? 'llmr:budget:';
  }

  async reserve(tenant: string, amount: number, limits: LedgerLimits, lease: LedgerLease): Promise<ReserveResult> {
    const [periodKey, dayKey, leases, ranOut, dayLeases] = this.keys(tenant, limits);
    const r = await this.client.llmrReserve(
      periodKey, dayKey, leases, ranOut, dayLeases,
      amount, limits.budgetMicros, limits.dailyCapMicros ?? -1, limits.periodTtlSec, limits.dayKey !== undefined ? '1' : '0',
      leaseMember(lease.id, amount), Math.max(1, Math.ceil(lease.ttlMs)),
    );
    const balance = { spentMicros: r[2]!, reservedMicros: r[3]!, daySpentMicros: r[4]!, dayReservedMicros: r[5]! };
    return r[0] === 1 ? { granted: true, balance } : { granted: false, refusedBy: r[1] === 2 ? 'day' : 'period', balance };
  }

  async settle(tenant: string, reserved: number, actual: number, keys: LedgerKeys, leaseId: string): Promise<LedgerBalance> {
    const [periodKey, dayKey, leases, ranOut, dayLeases] = this.keys(tenant, keys);
    const r = await this.client.llmrSettle(
      periodKey, dayKey, leases, ranOut, dayLeases,
      reserved, actual, keys.periodTtlSec, keys.dayKey !== undefined ? '1' : '0', leaseMember(leaseId, reserved),
    );
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

  /** Closes the client only if this store created it; a second call waits for the first. */
  close(): Promise<void> {
    this.closing ??= this.ownsClient ? this.client.quit().then(() => undefined, () => this.client.disconnect()) : Promise.resolve();
    return this.closing;
  }

  /** Nest calls this when the store is a provider (e.g. a `ports.budgetLedger` factory): the same rule as `close()`. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  private keys(tenant: string, keys: LedgerKeys): [string, string, string, string, string] {
    const base = `${this.prefix}{${this.tag(tenant)}}`;
    // The day keys must exist for the scripts' KEYS even when unused; they stay in the same slot.
    const day = keys.dayKey ?? 'none';
    return [`${base}:p:${keys.periodKey}`, `${base}:d:${day}`, `${base}:l:${keys.periodKey}`, `${base}:lx:${keys.periodKey}`, `${base}:dl:${day}`];
  }

  /** Braces in a tenant id would break the hash tag. */
  private tag(tenant: string): string {
    return encodeURIComponent(tenant).replace(/[{}]/g, '_');
  }
}

/** A lease as the sorted sets hold it: the amount rides along, for the reaper. */
const leaseMember = (id: string, amountMicros: number): string => `${id}:${amountMicros}`;
