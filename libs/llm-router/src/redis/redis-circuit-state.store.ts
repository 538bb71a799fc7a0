import type { Cluster, Redis } from 'ioredis';
import { createRedisStoreClient } from './redis-store-client.js';
import { SERVER_CLOCK_LUA } from './server-clock.lua.js';
import { acquireOn, failOn, rejectsNow, snapshotOf, type CircuitEntry } from '../execution/circuit/circuit-entry.js';
import type { CircuitFailureOptions, CircuitGate, CircuitSnapshot, CircuitStateStore } from '../execution/circuit/circuit-state.store.js';

// Every key shares the `{circuits}` hash tag: one Cluster slot, so a script may
// touch a target's hash and the set of targets together. Circuit writes are
// rare (failures, and the success that closes a circuit), never per call.
// KEYS: 1 the target's hash (failures, openUntil, probeUntil, v), 2 the set of targets.
// Every change bumps the target's version `v`: a mirror applies a state only if
// it is newer than the one it holds, whichever connection brought it first.
// Times are the Redis server's (`clock()`), never the caller's. Each script
// answers the target's state {failures, openUntil, probeUntil, v} and the
// server's time last, from which each store learns its own clock's offset.
const READ = `${SERVER_CLOCK_LUA}
local function state(key)
  local v = redis.call('HMGET', key, 'failures', 'openUntil', 'probeUntil', 'v')
  return {tonumber(v[1] or '0'), tonumber(v[2] or '0'), tonumber(v[3] or '0'), tonumber(v[4] or '0')}
end
local function save(key, s, retentionMs, channel)
  s[4] = redis.call('HINCRBY', key, 'v', 1)
  redis.call('HSET', key, 'failures', s[1], 'openUntil', s[2], 'probeUntil', s[3])
  redis.call('PEXPIRE', key, retentionMs)
  redis.call('SADD', KEYS[2], key)
  if channel then redis.call('PUBLISH', channel, key .. ' ' .. s[1] .. ' ' .. s[2] .. ' ' .. s[3] .. ' ' .. s[4]) end
end
`;

/** ARGV: probe lease ms, retention ms. The first caller past the cool-down takes the probe; the answer's 5th field says whether it did. */
const ACQUIRE = `${READ}
local now = clock()
local s = state(KEYS[1])
if s[2] == 0 or now < s[2] or now < s[3] then return {s[1], s[2], s[3], s[4], 0, now} end
s[3] = now + tonumber(ARGV[1])
save(KEYS[1], s, tonumber(ARGV[2]), nil)
return {s[1], s[2], s[3], s[4], 1, now}
`;

/** ARGV: failure threshold, cool-down ms, open now (1/0), retention ms, channel. */
const FAILURE = `${READ}
local now = clock()
local s = state(KEYS[1])
s[1] = s[1] + 1
if ARGV[3] == '1' or s[1] >= tonumber(ARGV[1]) or s[2] ~= 0 then
  s[2] = now + tonumber(ARGV[2])
  s[3] = 0
end
save(KEYS[1], s, tonumber(ARGV[4]), ARGV[5])
return {s[1], s[2], s[3], s[4], now}
`;

/** ARGV: retention ms, channel. Closed, but kept (with its version) until it expires. */
const SUCCESS = `${READ}
local s = state(KEYS[1])
s[1] = 0; s[2] = 0; s[3] = 0
save(KEYS[1], s, tonumber(ARGV[1]), ARGV[2])
return s
`;

/** The server's time, then every target's state: {now, key, failures, openUntil, probeUntil, v, ...}; forgets targets whose hash expired. */
const SNAPSHOT = `${READ}
local out = {clock()}
for _, key in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', key) == 1 then
    local s = state(key)
    out[#out + 1] = key
    for i = 1, 4 do out[#out + 1] = s[i] end
  else
    redis.call('SREM', KEYS[2], key)
  end
end
return out
`;

/** A mirrored circuit: the rules' entry and the version of the shared state it reflects. */
interface MirrorEntry extends CircuitEntry {
  v: number;
}

type CircuitClient = (Redis | Cluster) & {
  llmrCircuitAcquire(target: string, targets: string, leaseMs: number, retentionMs: number): Promise<number[]>;
  llmrCircuitFailure(target: string, targets: string, ...args: Array<string | number>): Promise<number[]>;
  llmrCircuitSuccess(target: string, targets: string, retentionMs: number, channel: string): Promise<number[]>;
  llmrCircuitSnapshot(target: string, targets: string): Promise<Array<string | number>>;
};

export interface RedisCircuitStateOptions {
  /** An existing client (or Cluster): used as is and never closed by the store. */
  client?: Redis | Cluster;
  /** Or a URL: the store creates, owns and closes its client. */
  url?: string;
  keyPrefix?: string;
  /** Fail a command after this long; the store then decides from what this instance knows. */
  commandTimeoutMs?: number;
  /** The whole shared state is re-read this often besides the published changes (a missed message, a restart). */
  syncIntervalMs?: number;
}

/**
 * Circuits shared by every instance on one Redis (or Cluster). Each instance
 * keeps a mirror of the shared state, so a call on a closed or cooling-down
 * circuit costs no round trip (`acquire` answers synchronously, `isOpen`
 * works); the state changes in Redis through atomic scripts that publish
 * every change, and each store's subscription applies it to its mirror.
 * Only taking the one probe after a cool-down, counting a failure and closing
 * an open circuit go to Redis. Failures count across instances, so five
 * instances that each see one timeout open the circuit for all.
 *
 * When Redis does not answer, the store never fails a call: it decides from
 * its mirror as the in-process store would (this instance's own circuits),
 * and picks up the shared state again at the next sync.
 */
export class RedisCircuitStateStore implements CircuitStateStore {
  private readonly client: CircuitClient;
  private readonly ownsClient: boolean;
  private readonly subscriber: Redis | Cluster;
  private readonly prefix: string;
  private readonly targetsKey: string;
  private readonly channel: string;
  private readonly mirror = new Map<string, MirrorEntry>();
  private readonly syncTimer: NodeJS.Timeout;
  /** The sync in flight, shared by every caller that asks meanwhile. */
  private syncing?: Promise<void>;
  /** Targets whose state arrived while a sync was in flight: newer than its snapshot may be. */
  private readonly touchedDuringSync = new Set<string>();
  private closed = false;
  /**
   * The Redis server's clock minus this instance's, learned from every script's
   * answer: the mirror compares the shared times (server clock) with a caller's
   * `now` shifted by it, so a skewed instance still reads cool-downs right.
   */
  private skew = 0;
  /** Resolves once the mirror holds the shared state read at start (or the first read failed). */
  readonly ready: Promise<void>;

  constructor(options: RedisCircuitStateOptions) {
    if (!options.client && !options.url) throw new Error('RedisCircuitStateStore needs a client or a url');
    this.ownsClient = !options.client;
    const client = options.client ?? createRedisStoreClient(options.url!, options.commandTimeoutMs);
    client.defineCommand('llmrCircuitAcquire', { numberOfKeys: 2, lua: ACQUIRE });
    client.defineCommand('llmrCircuitFailure', { numberOfKeys: 2, lua: FAILURE });
    client.defineCommand('llmrCircuitSuccess', { numberOfKeys: 2, lua: SUCCESS });
    client.defineCommand('llmrCircuitSnapshot', { numberOfKeys: 2, lua: SNAPSHOT });
    this.client = client as CircuitClient;
    this.prefix = `${options.keyPrefix ?? 'llmr:'}{circuits}:`;
    this.targetsKey = `${this.prefix}targets`;
    this.channel = `${this.prefix}changes`;

    // Subscribing takes a connection of its own; the store made it, so the store closes it.
    this.subscriber = (client as Redis).duplicate(); // a Cluster duplicates the same way
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.applyMessage(message);
    });
    // On every (re)connect: subscribe (again: a subscribe that failed while Redis was away is not
    // repeated by the client), then read everything, since changes published meanwhile were missed.
    this.subscriber.on('ready', () => {
      void this.subscriber.subscribe(this.channel).catch(() => undefined);
      void this.sync();
    });
    this.ready = this.sync();
    this.syncTimer = setInterval(() => void this.sync(), options.syncIntervalMs ?? 5_000);
    this.syncTimer.unref();
  }

  acquire(target: string, now: number, probeLeaseMs: number): CircuitGate | Promise<CircuitGate> {
    const e = this.mirror.get(target);
    if (!e || e.openUntil === 0) return 'pass';
    if (rejectsNow(e, now + this.skew)) return 'reject';
    // Past the cool-down: one instance, not each, may send the probe.
    return this.client.llmrCircuitAcquire(this.key(target), this.targetsKey, probeLeaseMs, RETENTION_MS).then(
      (s) => {
        this.learnSkew(s[5]!);
        this.apply(target, s);
        if (s[1] === 0) return 'pass';
        return s[4] === 1 ? 'probe' : 'reject';
      },
      () => acquireOn(e, now + this.skew, probeLeaseMs),
    );
  }

  isOpen(target: string, now: number): boolean {
    const e = this.mirror.get(target);
    return e !== undefined && rejectsNow(e, now + this.skew);
  }

  recordSuccess(target: string): void | Promise<void> {
    const e = this.mirror.get(target);
    // The common case, a healthy target: nothing to close, no round trip.
    if (e === undefined || (e.failures === 0 && e.openUntil === 0)) return;
    e.failures = 0;
    e.openUntil = 0;
    e.probeUntil = 0;
    return this.client.llmrCircuitSuccess(this.key(target), this.targetsKey, RETENTION_MS, this.channel).then(
      (s) => this.apply(target, s),
      () => undefined,
    );
  }

  recordFailure(target: string, o: CircuitFailureOptions): Promise<void> {
    // This instance acts on the failure at once; the shared count corrects the mirror when Redis answers.
    let local = this.mirror.get(target);
    if (local === undefined) {
      local = { failures: 0, openUntil: 0, probeUntil: 0, v: 0 };
      this.mirror.set(target, local);
    }
    failOn(local, { ...o, now: o.now + this.skew });
    const retentionMs = Math.max(o.cooldownMs * 2, RETENTION_MS);
    return this.client
      .llmrCircuitFailure(this.key(target), this.targetsKey, o.failureThreshold, o.cooldownMs, o.openNow ? '1' : '0', retentionMs, this.channel)
      .then(
        (s) => {
          this.learnSkew(s[4]!);
          this.apply(target, s);
        },
        () => undefined,
      );
  }

  async snapshot(now: number): Promise<CircuitSnapshot[]> {
    await this.sync();
    // Shared times back on this instance's clock: `retryAt` is compared with the caller's `now`.
    const toLocal = (t: number) => (t === 0 ? 0 : t - this.skew);
    return [...this.mirror].map(([target, e]) => snapshotOf(target, { failures: e.failures, openUntil: toLocal(e.openUntil), probeUntil: toLocal(e.probeUntil) }, now));
  }

  /** Nest calls this when the store is a provider (e.g. a `ports.circuitStore` factory): the same rule as `close()`. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  /** Stops the sync, closes the subscription, and the client only if this store created it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.syncTimer);
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
    if (this.ownsClient) await this.client.quit().catch(() => this.client.disconnect());
  }

  /** Re-read the shared state; on failure keep what this instance knows. */
  private sync(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.syncing ??= this.readAll().finally(() => {
      this.syncing = undefined;
      this.touchedDuringSync.clear();
    });
    return this.syncing;
  }

  private async readAll(): Promise<void> {
    let flat: Array<string | number>;
    try {
      flat = await this.client.llmrCircuitSnapshot(this.targetsKey, this.targetsKey);
    } catch {
      return;
    }
    this.learnSkew(Number(flat[0]));
    const seen = new Set<string>();
    for (let i = 1; i + 4 < flat.length; i += 5) {
      const target = String(flat[i]).slice(this.prefix.length + 2);
      seen.add(target);
      this.apply(target, [Number(flat[i + 1]), Number(flat[i + 2]), Number(flat[i + 3]), Number(flat[i + 4])], true);
    }
    // Gone from Redis (expired after an hour without change): gone here, unless it changed meanwhile.
    for (const target of this.mirror.keys()) {
      if (!seen.has(target) && !this.touchedDuringSync.has(target)) this.mirror.delete(target);
    }
  }

  /**
   * A state from Redis {failures, openUntil, probeUntil, v}: kept only if newer
   * than the mirror's (a script's answer and its message bring the same one; a
   * snapshot may be older than a message that overtook it; this instance's own
   * change, not yet in Redis, keeps the version it started from).
   */
  private apply(target: string, s: readonly number[], fromSnapshot = false): void {
    const v = s[3]!;
    const e = this.mirror.get(target);
    if (e !== undefined && e.v >= v) return;
    if (!fromSnapshot && this.syncing !== undefined) this.touchedDuringSync.add(target);
    this.mirror.set(target, { failures: s[0]!, openUntil: s[1]!, probeUntil: s[2]!, v });
  }

  /** "<key> <failures> <openUntil> <probeUntil> <v>", as the scripts publish it. */
  private applyMessage(message: string): void {
    const parts = message.split(' ');
    if (parts.length !== 5 || !parts[0]!.startsWith(`${this.prefix}t:`)) return;
    this.apply(parts[0]!.slice(this.prefix.length + 2), parts.slice(1).map(Number));
  }

  /** The server's time `serverNow`, read just now: its offset from this instance's clock. */
  private learnSkew(serverNow: number): void {
    this.skew = serverNow - Date.now();
  }

  private key(target: string): string {
    return `${this.prefix}t:${target}`;
  }
}

/** A target's shared state is kept this long after its last change (longer for longer cool-downs). */
const RETENTION_MS = 3_600_000;
