import type { Cluster, Redis } from 'ioredis';
import { createRedisStoreClient } from './redis-store-client.js';
import { RedisScript } from './redis-script.js';
import { ScriptBatch, type BatchedStep } from './script-batch.js';
import { WriteCoalescingRedis } from './write-coalescing-redis.js';
import { SERVER_CLOCK_LUA } from './server-clock.lua.js';
import type { BudgetLedgerStore, CallerSpend, LedgerBalance, LedgerExpectation, LedgerKeys, LedgerLease, LedgerLimits, ReserveResult } from '../budget/budget-ledger.store.js';

// Each step is atomic. All keys of a tenant share the `{tenant}` hash tag, so
// they live in one Cluster slot and a script may touch them together. A key
// set K, eight keys: 1 period counters, 2 day counters, 3 the period's leases
// (a sorted set: member "id:amount", score = when it runs out, ms), 4 the
// period's leases that ran out (kept an hour, so a late settle still books its
// cost, once), 5 the day's leases, 6 the caller's counters (its own budget
// inside the tenant's: an API key's), 7 the caller's leases, 8 the tenant's
// marker: set when its ledger was rebuilt from the records, absent in a Redis
// that lost its data.
const LEASES = `
-- A key's TTL is set in the step that creates it, never again: each is its
-- period's end (or the day's) and a margin, the same from any later step, so
-- only a key this step may have created is given one (an EXPIRE per key per
-- step was 4 of a reserve's 8 commands).
local function counters(key)
  local v = redis.call('HMGET', key, 'spent', 'reserved')
  -- The third value: the key is absent (a step that writes it gives it its TTL).
  return tonumber(v[1] or '0'), tonumber(v[2] or '0'), not v[1] and not v[2]
end
local function release(key, amount, ttl)
  local r = redis.call('HINCRBY', key, 'reserved', -amount)
  if r < 0 then
    -- More released than held (or the key was gone, and is now made): never below 0.
    redis.call('HSET', key, 'reserved', 0)
    redis.call('EXPIRE', key, ttl)
    r = 0
  end
  return r
end
-- Leases past their time belong to calls whose process is gone: release what
-- they hold. Answers whether the leases key is absent (empty) afterwards.
local function reap(leases, counters, ttl, now, ranOut)
  local first = redis.call('ZRANGE', leases, 0, 0, 'WITHSCORES')
  if #first == 0 then return true end
  if tonumber(first[2]) > now then return false end
  local dead = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, 100)
  for i = 1, #dead do
    release(counters, tonumber(string.match(dead[i], ':(%d+)$')), ttl)
    if ranOut then redis.call('ZADD', ranOut, now + 3600000, dead[i]) end
  end
  redis.call('ZREM', leases, unpack(dead))
  if ranOut then
    redis.call('ZREMRANGEBYSCORE', ranOut, '-inf', now)
    redis.call('EXPIRE', ranOut, ttl)
  end
  return redis.call('EXISTS', leases) == 0
end
-- {period spent, reserved, day spent, reserved, caller spent, reserved}: 0 for an account the call does not have.
-- absent, when given, is told which counters keys (period, day, caller) are absent.
local function figures(K, hasDay, hasCaller, absent)
  local ps, pr, pa = counters(K[1])
  local ds, dr, cs, cr, da, ca = 0, 0, 0, 0, false, false
  if hasDay then ds, dr, da = counters(K[2]) end
  if hasCaller then cs, cr, ca = counters(K[6]) end
  if absent then absent[1], absent[2], absent[3] = pa, da, ca end
  return {ps, pr, ds, dr, cs, cr}
end
`;

// The reserves and settles of one pass of the event loop, each its own atomic
// step, in the order they were asked (see ScriptBatch). Per entry, ARGV: its
// key set, then 'r' and a reserve's arguments, or 's' and a settle's, the
// arguments as one JSON array (one argument where there were up to fifteen:
// ioredis frames, measures and copies each argument it sends, and Redis makes
// each one a string; cjson decodes the array in C). Flags are 1 or 0. The
// reply is one string, each entry's values comma-separated and ';' between
// entries (the client decodes one value per call where it decoded each
// figure: ~3k instructions each); when a step failed, one string per entry,
// the failed one's its error after '!'.
// A reserve's A: 1 amount, 2 period budget (-1: none), 3 day cap (-1: none), 4 period ttl, 5 has a day (1/0),
// 6 lease member, 7 lease ms, 8 has a caller (1/0), 9 caller budget, 10 caller ttl,
// 11 has an expectation (1/0), 12 spent at least, 13 spent below, 14 day spent below, 15 caller spent below (-1: none).
// It answers {granted, refused by (1 period, 2 day, 3 caller, 4 lost, 5 moved), figures...}.
// A settle's A: 1 reserved, 2 actual, 3 period ttl, 4 has a day, 5 lease member, 6 has a caller, 7 caller ttl.
// It answers the figures.
const LEDGER = `${SERVER_CLOCK_LUA}${LEASES}
local now = clock()
-- The decision was made on figures this step did not read: it holds only while theirs still give it.
local function below(v, limit) return limit < 0 or v < limit end
local function reserve(K, A)
  local hasDay, hasCaller = A[5] == 1, A[8] == 1
  if redis.call('EXISTS', K[8]) == 0 then return {0, 4, 0, 0, 0, 0, 0, 0} end
  local amount, budget, cap, ttl = tonumber(A[1]), tonumber(A[2]), tonumber(A[3]), tonumber(A[4])
  local member, callerBudget, callerTtl = A[6], tonumber(A[9]), tonumber(A[10])
  local expires = now + tonumber(A[7])
  local leasesAbsent = {reap(K[3], K[1], ttl, now, K[4]), false, false}
  if hasDay then leasesAbsent[2] = reap(K[5], K[2], 172800, now, nil) end
  if hasCaller then leasesAbsent[3] = reap(K[7], K[6], callerTtl, now, nil) end
  local absent = {}
  local f = figures(K, hasDay, hasCaller, absent)
  local refused = 0
  if A[11] == 1 and (f[1] < tonumber(A[12]) or not below(f[1], tonumber(A[13])) or not below(f[3], tonumber(A[14])) or not below(f[5], tonumber(A[15]))) then refused = 5
  elseif budget >= 0 and f[1] + f[2] + amount > budget then refused = 1
  elseif hasDay and cap >= 0 and f[3] + f[4] + amount > cap then refused = 2
  elseif hasCaller and f[5] + f[6] + amount > callerBudget then refused = 3 end
  if refused > 0 then return {0, refused, f[1], f[2], f[3], f[4], f[5], f[6]} end
  local function hold(counters, leases, keyTtl, i)
    redis.call('HINCRBY', counters, 'reserved', amount)
    if absent[i] then redis.call('EXPIRE', counters, keyTtl) end
    redis.call('ZADD', leases, expires, member)
    if leasesAbsent[i] then redis.call('EXPIRE', leases, keyTtl) end
  end
  hold(K[1], K[3], ttl, 1)
  f[2] = f[2] + amount
  if hasDay then hold(K[2], K[5], 172800, 2); f[4] = f[4] + amount end
  if hasCaller then hold(K[6], K[7], callerTtl, 3); f[6] = f[6] + amount end
  -- The marker lives as long as the longest-lived counters: a new period's (or caller's) carry it on.
  if absent[1] or absent[3] then redis.call('EXPIRE', K[8], math.max(ttl, callerTtl)) end
  return {1, 0, f[1], f[2], f[3], f[4], f[5], f[6]}
end
local function settle(K, A)
  local reserved, actual, ttl = tonumber(A[1]), tonumber(A[2]), tonumber(A[3])
  local hasDay, member, hasCaller = A[4] == 1, A[5], A[6] == 1
  local held = redis.call('ZREM', K[3], member) == 1
  -- Settled before (a retry whose first try did arrive): book nothing twice.
  if not held and redis.call('ZREM', K[4], member) == 0 then return figures(K, hasDay, hasCaller) end
  -- A lease that ran out was released by the reaper: its cost is still booked, once.
  local function book(counters, wasHeld, keyTtl)
    if wasHeld then release(counters, reserved, keyTtl) end
    -- Spend equal to this cost: it was 0, perhaps absent (the key made now).
    if redis.call('HINCRBY', counters, 'spent', actual) == actual then redis.call('EXPIRE', counters, keyTtl) end
  end
  book(K[1], held, ttl)
  if hasDay then book(K[2], redis.call('ZREM', K[5], member) == 1, 172800) end
  if hasCaller then book(K[6], redis.call('ZREM', K[7], member) == 1, tonumber(A[7])) end
  return figures(K, hasDay, hasCaller)
end
local out, failed, p = {}, false, 1
while p <= #ARGV do
  local k = tonumber(ARGV[p]) * 8
  local K = {KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5], KEYS[k + 6], KEYS[k + 7], KEYS[k + 8]}
  local isReserve = ARGV[p + 1] == 'r'
  local ok, r = pcall(cjson.decode, ARGV[p + 2])
  if ok and isReserve then ok, r = pcall(reserve, K, r) elseif ok then ok, r = pcall(settle, K, r) end
  -- %d truncates as Redis does a Lua number it answers as an integer. In the pcall: a figure that is not a number
  -- (a damaged field) fails its own step, not the whole pass after the others' writes.
  if ok and isReserve then ok, r = pcall(string.format, '%d,%d,%d,%d,%d,%d,%d,%d', unpack(r, 1, 8))
  elseif ok then ok, r = pcall(string.format, '%d,%d,%d,%d,%d,%d', unpack(r, 1, 6)) end
  if ok then out[#out + 1] = r
  else
    -- A step that failed answers its error in its own place: the others stand.
    failed = true
    out[#out + 1] = '!' .. (type(r) == 'table' and r.err or tostring(r))
  end
  p = p + 3
end
if failed then return out end
return table.concat(out, ';')
`;

// ARGV: 1 has a day, 2 has a caller. Answers {lost (1/0), figures...}.
const BALANCE = `${LEASES}
local f = figures(KEYS, ARGV[1] == '1', ARGV[2] == '1')
local lost = 0
if redis.call('EXISTS', KEYS[8]) == 0 then lost = 1 end
return {lost, f[1], f[2], f[3], f[4], f[5], f[6]}
`;

// KEYS: 1 period counters, 2 day counters, 3 the marker, 4... each caller's counters.
// ARGV: 1 spent, 2 day spent, 3 has a day, 4 period ttl, then per caller: spent, ttl.
// Spend only goes up; the marker says the tenant's ledger is whole again.
const RESTORE = `
local function raise(key, to, ttl)
  if tonumber(to) > tonumber(redis.call('HGET', key, 'spent') or '0') then redis.call('HSET', key, 'spent', to) end
  redis.call('EXPIRE', key, ttl)
end
local ttl = tonumber(ARGV[4])
local keep = ttl
raise(KEYS[1], ARGV[1], ttl)
if ARGV[3] == '1' then raise(KEYS[2], ARGV[2], 172800) end
for i = 4, #KEYS do
  local t = tonumber(ARGV[4 + (i - 3) * 2])
  raise(KEYS[i], ARGV[3 + (i - 3) * 2], t)
  if t > keep then keep = t end
end
redis.call('SET', KEYS[3], '1', 'EX', keep)
return 1
`;

const LEDGER_SCRIPT = new RedisScript(LEDGER, 8);
const BALANCE_SCRIPT = new RedisScript(BALANCE, 8);

type LedgerClient = (Redis | Cluster) & {
  llmrRestore(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<number>;
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
 *
 * A Redis that lost its data must not hand every tenant its budget again.
 * Each tenant has a marker key, set when its ledger is rebuilt from the
 * records (`restore`); the balance and reserve scripts answer `lost` when it is
 * missing (a Redis restarted without persistence, a failover to an empty
 * replica), and reserve nothing. On a single Redis the store also reads the
 * server's run id at every (re)connect: a server that restarted (from an older
 * snapshot, say) reports every tenant lost until it is restored. Neither costs
 * a round trip: the marker is checked inside the scripts, the run id once per
 * connection, before the first command on it is judged.
 */
export class RedisBudgetLedgerStore implements BudgetLedgerStore {
  private readonly client: LedgerClient;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly waitMs: number;
  private closing: Promise<void> | undefined;
  /** The server's run id as last read (undefined: not read yet, or INFO is not allowed). */
  private runId: string | undefined;
  /** Pending while a new connection's run id is read; commands wait for it. */
  private checking: Promise<void> | undefined;
  private checked: (() => void) | undefined;
  /** Since the server was found restarted: the tenants restored since, the only ones not reported lost. */
  private restoredSinceRestart: Set<string> | undefined;
  private readonly listeners: Array<[string, () => void]> = [];
  /** Per tenant, the keys of its last call (see `keys`). */
  private readonly lastKeys = new Map<string, RememberedKeys>();
  /** This pass's reserves and settles, sent as one script call. */
  private readonly steps: ScriptBatch;
  private readonly isCluster: boolean;
  private readonly sendSteps = (): void => this.steps.flush();

  constructor(options: RedisBudgetLedgerOptions) {
    if (!options.client && !options.url) throw new Error('RedisBudgetLedgerStore needs a client or a url');
    this.ownsClient = !options.client;
    const client = options.client ?? createRedisStoreClient(options.url!, options.commandTimeoutMs);
    client.defineCommand('llmrRestore', { lua: RESTORE });
    this.client = client as LedgerClient;
    this.prefix = options.keyPrefix ?? 'llmr:budget:';
    this.isCluster = (client as Cluster).isCluster === true;
    this.steps = new ScriptBatch(client, LEDGER_SCRIPT, 8);
    this.waitMs = options.commandTimeoutMs ?? (client.options as { commandTimeout?: number }).commandTimeout ?? 1_000;
    // A Cluster answers INFO from any node: each has its own run id, so only a single server is watched.
    if (!this.isCluster) this.watchRunId(client as Redis);
  }

  reserve(tenant: string, amount: number, limits: LedgerLimits, lease: LedgerLease, expect?: LedgerExpectation): Promise<ReserveResult> {
    const checking = this.untilRunIdKnown();
    if (checking) return checking.then(() => this.reserveNow(tenant, amount, limits, lease, expect));
    return this.reserveNow(tenant, amount, limits, lease, expect);
  }

  private reserveNow(tenant: string, amount: number, limits: LedgerLimits, lease: LedgerLease, expect: LedgerExpectation | undefined): Promise<ReserveResult> {
    if (this.restartedBefore(tenant)) return Promise.resolve({ granted: false, refusedBy: 'lost', balance: { ...NOTHING, lost: true } });
    const caller = limits.caller;
    const expectation =
      expect === undefined ? NO_EXPECTATION : `1,${expect.spentAtLeast},${upTo(expect.spentBelow)},${upTo(expect.daySpentBelow)},${upTo(expect.callerSpentBelow)}`;
    const args =
      `[${amount},${Number.isFinite(limits.budgetMicros) ? limits.budgetMicros : -1},${limits.dailyCapMicros ?? -1},${limits.periodTtlSec},${limits.dayKey !== undefined ? 1 : 0},` +
      `${JSON.stringify(leaseMember(lease.id, amount))},${Math.max(1, Math.ceil(lease.ttlMs))},${caller ? 1 : 0},${caller?.budgetMicros ?? 0},${caller?.periodTtlSec ?? 0},${expectation}]`;
    return this.steps.add(this.group(tenant), this.keys(tenant, limits), RESERVE_STEP, caller !== undefined, ['r', args]);
  }

  /** Sent with the other reserves and settles of this pass of the event loop: no answer is waited for on a call's path. */
  settle(tenant: string, reserved: number, actual: number, keys: LedgerKeys, leaseId: string): Promise<LedgerBalance> {
    const args = `[${reserved},${actual},${keys.periodTtlSec},${keys.dayKey !== undefined ? 1 : 0},${JSON.stringify(leaseMember(leaseId, reserved))},${keys.caller ? 1 : 0},${keys.caller?.periodTtlSec ?? 0}]`;
    return this.steps.add(this.group(tenant), this.keys(tenant, keys), SETTLE_STEP, keys.caller !== undefined, ['s', args]);
  }

  /**
   * On a coalescing connection, a command `step` writes at once (the gateway's
   * journal entry for the record) waits for the end of `step`, and goes out
   * with the record's settle: one write where each took its own. Only while
   * calls come one at a time (`ScriptBatch.quiet`: nothing else in this pass
   * or the last one): under load the settle joins the other calls' steps at the end
   * of the pass, one script call for them all, where its own would be one more.
   */
  writeTogether(step: () => void): void {
    // Under load nothing joins the step's command: it is written as it comes, with no cork to hold it to the step's end.
    if (!(this.client instanceof WriteCoalescingRedis) || !this.steps.quiet) return step();
    this.client.together(step, this.sendSteps);
  }

  async balance(tenant: string, keys: LedgerKeys): Promise<LedgerBalance> {
    const checking = this.untilRunIdKnown();
    if (checking) await checking;
    this.steps.flush();
    const r = await BALANCE_SCRIPT.run<number[]>(this.client, [...this.keys(tenant, keys), keys.dayKey !== undefined ? '1' : '0', keys.caller ? '1' : '0']);
    return balanceOf(r, 1, keys.caller !== undefined, r[0] === 1 || this.restartedBefore(tenant));
  }

  async restore(tenant: string, keys: LedgerKeys, spent: number, daySpent: number, callers: readonly CallerSpend[] = []): Promise<void> {
    await this.untilRunIdKnown();
    const [periodKey, dayKey, , , , , , marker] = this.keys(tenant, keys);
    const callerKeys = callers.map((c) => this.callerKeys(tenant, c.keys)[0]);
    const callerArgs = callers.flatMap((c) => [c.spentMicros, c.keys.periodTtlSec]);
    this.steps.flush();
    await this.client.llmrRestore(3 + callers.length, periodKey, dayKey, marker, ...callerKeys, spent, daySpent, keys.dayKey !== undefined ? '1' : '0', keys.periodTtlSec, ...callerArgs);
    this.restoredSinceRestart?.add(tenant);
  }

  async markCrossing(tenant: string, keys: LedgerKeys, tier: string): Promise<boolean> {
    const key = `${this.base(tenant)}:x:${keys.periodKey}:${tier}`;
    this.steps.flush();
    return (await this.client.set(key, '1', 'EX', keys.periodTtlSec, 'NX')) === 'OK';
  }

  /** Closes the client only if this store created it; a second call waits for the first. */
  close(): Promise<void> {
    for (const [event, listener] of this.listeners.splice(0)) this.client.off(event, listener);
    this.checked?.();
    this.steps.flush();
    this.closing ??= this.ownsClient ? this.client.quit().then(() => undefined, () => this.client.disconnect()) : Promise.resolve();
    return this.closing;
  }

  /** Nest calls this when the store is a provider (e.g. a `ports.budgetLedger` factory): the same rule as `close()`. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  /**
   * Every (re)connection reads the server's run id first: a new run id is a
   * restarted server, whose data may be older than what was booked. Commands
   * issued once the connection is ready wait for it (see `untilRunIdKnown`).
   */
  private watchRunId(client: Redis): void {
    const expect = () => {
      this.checking ??= new Promise<void>((resolve) => (this.checked = resolve));
    };
    const check = () => {
      expect();
      const done = this.checked!;
      client
        .info('server')
        .then(
          (info) => {
            const runId = /^run_id:(\S+)/m.exec(info)?.[1];
            if (runId !== undefined && this.runId !== undefined && runId !== this.runId) this.restoredSinceRestart = new Set();
            this.runId = runId ?? this.runId;
          },
          () => undefined, // INFO not allowed (or the connection went again): the markers still catch an empty Redis.
        )
        .finally(() => {
          if (this.checked === done) {
            this.checking = undefined;
            this.checked = undefined;
          }
          done();
        });
    };
    this.listeners.push(['close', expect], ['ready', check]);
    for (const [event, listener] of this.listeners) client.on(event, listener);
    if (client.status === 'ready') check();
    else expect();
  }

  /**
   * While a ready connection's run id is being read (one round trip after
   * each connect): a promise of it, rejected once a command would have timed
   * out (the caller's outage rule applies). Else undefined, at once: commands
   * sent while Redis is away queue or fail as before.
   */
  private untilRunIdKnown(): Promise<void> | undefined {
    const pending = this.checking;
    if (pending === undefined || this.client.status !== 'ready') return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.waitMs} ms (reconnecting)`)), this.waitMs);
    });
    return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
  }

  /** The server restarted since this store last saw it, and the tenant was not restored since. */
  private restartedBefore(tenant: string): boolean {
    return this.restoredSinceRestart !== undefined && !this.restoredSinceRestart.has(tenant);
  }

  /** The script calls a tenant's steps may share: one per Cluster slot (one per tenant), all on a single server. */
  private group(tenant: string): string {
    return this.isCluster ? tenant : '';
  }

  /** The scripts' eight keys (see the top of this file). */
  private keys(tenant: string, keys: LedgerKeys): LedgerKeyList {
    // The same as the tenant's call before, most of the time (same period, day and caller): built once.
    const last = this.lastKeys.get(tenant);
    if (last !== undefined && last.periodKey === keys.periodKey && last.dayKey === keys.dayKey && last.callerId === keys.caller?.id && last.callerPeriodKey === keys.caller?.periodKey) return last.keys;
    const base = this.base(tenant);
    // Keys a call does not use must still be given, in the same slot.
    const day = keys.dayKey ?? 'none';
    const [callerCounters, callerLeases] = keys.caller ? this.callerKeys(tenant, keys.caller) : [`${base}:c:none`, `${base}:cl:none`];
    const built = [`${base}:p:${keys.periodKey}`, `${base}:d:${day}`, `${base}:l:${keys.periodKey}`, `${base}:lx:${keys.periodKey}`, `${base}:dl:${day}`, callerCounters, callerLeases, `${base}:g`];
    const list = built.map(flatCopy) as unknown as LedgerKeyList;
    if (this.lastKeys.size >= MAX_REMEMBERED_TENANTS) this.lastKeys.clear();
    this.lastKeys.set(tenant, { periodKey: keys.periodKey, dayKey: keys.dayKey, callerId: keys.caller?.id, callerPeriodKey: keys.caller?.periodKey, keys: list });
    return list;
  }

  /** The start of every key of the tenant: the prefix and its hash tag. */
  private base(tenant: string): string {
    return `${this.prefix}{${this.tag(tenant)}}`;
  }

  /** A caller's counters and leases, in its tenant's slot. */
  private callerKeys(tenant: string, caller: { id: string; periodKey: string }): [string, string] {
    const base = this.base(tenant);
    const id = encodeURIComponent(caller.id);
    return [`${base}:c:${id}:${caller.periodKey}`, `${base}:cl:${id}:${caller.periodKey}`];
  }

  /** Braces in a tenant id would break the hash tag. */
  private tag(tenant: string): string {
    return encodeURIComponent(tenant).replace(/[{}]/g, '_');
  }
}

type LedgerKeyList = readonly [string, string, string, string, string, string, string, string];

/** A tenant's script keys, and what they were built from. */
interface RememberedKeys {
  readonly periodKey: string;
  readonly dayKey: string | undefined;
  readonly callerId: string | undefined;
  readonly callerPeriodKey: string | undefined;
  readonly keys: LedgerKeyList;
}

/**
 * The text of `s` as one flat string, not the tree a concatenation makes: ioredis measures every argument
 * (`Buffer.byteLength`) for each script call it is sent in, which takes a slower path for a tree, every time.
 */
const flatCopy = (s: string): string => Buffer.from(s).toString();

/** Tenants whose keys are remembered at most; beyond it, the memory starts over. */
const MAX_REMEMBERED_TENANTS = 10_000;

const REFUSED_BY: Record<number, ReserveResult['refusedBy']> = { 1: 'period', 2: 'day', 3: 'caller', 4: 'lost', 5: 'moved' };
const NO_EXPECTATION = '0,0,-1,-1,-1';
/** A bound for the script: -1 for none (absent or unbounded). */
const upTo = (limit: number | undefined): number => (limit === undefined || !Number.isFinite(limit) ? -1 : limit);
const NOTHING: LedgerBalance = { spentMicros: 0, reservedMicros: 0, daySpentMicros: 0, dayReservedMicros: 0 };

/** Figures {period spent, reserved, day spent, reserved, caller spent, reserved}, from `at` in `f`, as a balance. */
function balanceOf(f: ReadonlyArray<number | string>, at: number, withCaller: boolean, lost: boolean): LedgerBalance {
  const n = f as readonly number[];
  const balance: LedgerBalance = withCaller
    ? { spentMicros: n[at]!, reservedMicros: n[at + 1]!, daySpentMicros: n[at + 2]!, dayReservedMicros: n[at + 3]!, callerSpentMicros: n[at + 4]!, callerReservedMicros: n[at + 5]! }
    : { spentMicros: n[at]!, reservedMicros: n[at + 1]!, daySpentMicros: n[at + 2]!, dayReservedMicros: n[at + 3]! };
  return lost ? { ...balance, lost: true } : balance;
}

/** A reservation's answer: {granted, refused by, figures...}; its context: whether the call has a caller's budget. */
const RESERVE_STEP: BatchedStep<ReserveResult, boolean> = {
  width: 8,
  decode(r, at, withCaller) {
    const balance = balanceOf(r, at + 2, withCaller, r[at + 1] === 4);
    return r[at] === 1 ? { granted: true, balance } : { granted: false, refusedBy: REFUSED_BY[r[at + 1] as number]!, balance };
  },
};

/** A settle's answer: the figures after it. */
const SETTLE_STEP: BatchedStep<LedgerBalance, boolean> = {
  width: 6,
  decode: (r, at, withCaller) => balanceOf(r, at, withCaller, false),
};

/** A lease as the sorted sets hold it: the amount rides along, for the reaper. */
const leaseMember = (id: string, amountMicros: number): string => `${id}:${amountMicros}`;
