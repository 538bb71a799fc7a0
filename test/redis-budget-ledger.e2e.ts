/** The Redis ledger against the real Redis: atomic steps, hash-tagged keys, client ownership. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { compilePolicy, createLlmRouter, type LedgerBalance, type LedgerLease, type LedgerLimits, type ReserveResult } from '@llm-router/nestjs';
import { RedisBudgetLedgerStore, createRedisStoreClient } from '@llm-router/nestjs/redis';
import { buildPolicy, fastClass } from './support/policy.js';
import { ask, rejection } from './support/router.js';
import { REDIS_URL, deletePrefix, redisAvailable } from './support/services.js';
import { callsByModel, startSim } from './support/sim.js';

const available = await redisAvailable();

describe('RedisBudgetLedgerStore', { skip: available === true ? false : available }, () => {
  const prefix = `llmr-test:${randomUUID()}:`;
  let client: Redis;
  let store: RedisBudgetLedgerStore;
  const limits: LedgerLimits = { periodKey: '2026-11', periodTtlSec: 3600, budgetMicros: 1_000, dayKey: '2026-11-25', dailyCapMicros: 600 };
  let leases = 0;
  const lease = (ttlMs = 60_000): LedgerLease => ({ id: `lease-${++leases}`, ttlMs });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  before(async () => {
    client = new Redis(REDIS_URL);
    store = new RedisBudgetLedgerStore({ client, keyPrefix: prefix });
    // A tenant the store never rebuilt is reported lost (see the suite below): these start as rebuilt, empty.
    for (const t of ['t', 'c', 'twice', 'crash', 'late', 'spaced', '{odd}tenant']) await store.restore(t, limits, 0, 0);
  });
  after(async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
  });

  test('reserve checks the period budget and the daily cap; settle books and releases', async () => {
    const a = lease();
    const b = lease();
    assert.equal((await store.reserve('t', 400, limits, a)).granted, true);
    assert.equal((await store.reserve('t', 400, { ...limits, dailyCapMicros: undefined }, b)).granted, true);
    const day = await store.reserve('t', 100, limits, lease());
    assert.deepEqual([day.granted, day.refusedBy], [false, 'day']);
    const period = await store.reserve('t', 300, { ...limits, dailyCapMicros: 10_000 }, lease());
    assert.deepEqual([period.granted, period.refusedBy], [false, 'period']);
    const settled = await store.settle('t', 400, 150, limits, a.id);
    assert.deepEqual([settled.spentMicros, settled.reservedMicros], [150, 400]);
    await store.settle('t', 400, 0, limits, b.id);
    assert.deepEqual(await store.balance('t', limits), { spentMicros: 150, reservedMicros: 0, daySpentMicros: 150, dayReservedMicros: 0 });
  });

  test('concurrent reservations never exceed the budget', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => store.reserve('c', 100, { ...limits, dayKey: undefined, dailyCapMicros: undefined }, lease())));
    assert.equal(results.filter((r) => r.granted).length, 10);
  });

  test('a settle sent twice books once', async () => {
    const a = lease();
    await store.reserve('twice', 500, limits, a);
    await store.settle('twice', 500, 200, limits, a.id);
    const again = await store.settle('twice', 500, 200, limits, a.id);
    assert.deepEqual(again, { spentMicros: 200, reservedMicros: 0, daySpentMicros: 200, dayReservedMicros: 0 });
  });

  test('a lease id with white space, quotes and a backslash (the ledger script takes its arguments as one JSON array) reserves, settles and books once', async () => {
    const odd: LedgerLease = { id: 'lease "with"\tspaces\\ 5', ttlMs: 60_000 };
    assert.equal((await store.reserve('spaced', 300, limits, odd)).granted, true);
    assert.deepEqual(await store.balance('spaced', limits), { spentMicros: 0, reservedMicros: 300, daySpentMicros: 0, dayReservedMicros: 300 });
    await store.settle('spaced', 300, 120, limits, odd.id);
    const again = await store.settle('spaced', 300, 120, limits, odd.id);
    assert.deepEqual(again, { spentMicros: 120, reservedMicros: 0, daySpentMicros: 120, dayReservedMicros: 0 });
  });

  test('a reservation never settled (its process died) is released when its lease runs out', async () => {
    const dead = lease(500);
    const roomy = { ...limits, dailyCapMicros: 10_000 };
    assert.equal((await store.reserve('crash', 900, roomy, dead)).granted, true);
    assert.equal((await store.reserve('crash', 300, roomy, lease())).granted, false, 'held while the lease runs');
    await sleep(600);
    // The next reserve of the tenant releases it: period and day alike.
    const next = lease();
    const r = await store.reserve('crash', 300, roomy, next);
    assert.equal(r.granted, true);
    assert.deepEqual([r.balance.reservedMicros, r.balance.dayReservedMicros], [300, 300]);
    await store.settle('crash', 300, 100, limits, next.id);
    assert.deepEqual(await store.balance('crash', limits), { spentMicros: 100, reservedMicros: 0, daySpentMicros: 100, dayReservedMicros: 0 });
  });

  test('a settle arriving after its lease ran out books the cost once and releases nothing twice', async () => {
    const slow = lease(50);
    const other = lease();
    await store.reserve('late', 400, limits, slow);
    await sleep(80);
    await store.reserve('late', 200, limits, other);
    const late = await store.settle('late', 400, 150, limits, slow.id);
    assert.deepEqual([late.spentMicros, late.reservedMicros, late.daySpentMicros, late.dayReservedMicros], [150, 200, 150, 200], "the other call's reservation stays held");
    const again = await store.settle('late', 400, 150, limits, slow.id);
    assert.deepEqual([again.spentMicros, again.reservedMicros], [150, 200]);
  });

  test('keys share the {tenant} hash tag and expire', async () => {
    await store.reserve('{odd}tenant', 1, limits, lease());
    const keys = await client.keys(`${prefix}*odd*`);
    assert.ok(keys.length >= 4, 'counters and leases, period and day');
    const slots = new Set(keys.map((k) => k.slice(k.indexOf('{'), k.indexOf('}') + 1)));
    assert.equal(slots.size, 1, 'one hash tag for all of a tenant\'s keys');
    for (const key of keys) assert.ok((await client.ttl(key)) > 0, `${key} expires`);
  });

  test('a key is given its TTL by the step that makes it: leases emptied and made again, counters a settle finds gone, a reap that finds them gone', async () => {
    // A step sets a TTL only on a key it may have made (the rest have theirs): each way a key comes back must set one.
    const roomy = { ...limits, dailyCapMicros: 10_000 };
    await store.restore('again', roomy, 0, 0);
    const first = lease();
    await store.reserve('again', 100, roomy, first);
    await store.settle('again', 100, 40, roomy, first.id);
    const leaseKeys = await client.keys(`${prefix}{again}:*l:*`);
    assert.deepEqual(leaseKeys, [], 'the last settle emptied the leases (Redis deleted them)');
    await store.reserve('again', 100, roomy, lease());
    const made = await client.keys(`${prefix}{again}:*l:*`);
    assert.equal(made.length, 2, 'period and day leases made again');
    for (const key of made) assert.ok((await client.ttl(key)) > 0, `${key} expires`);

    const held = lease();
    await store.reserve('again', 100, roomy, held);
    const counters = [`${prefix}{again}:p:${roomy.periodKey}`, `${prefix}{again}:d:${roomy.dayKey}`];
    await client.del(...counters);
    await store.settle('again', 100, 30, roomy, held.id);
    for (const key of counters) assert.ok((await client.ttl(key)) > 0, `${key}, made by the settle, expires`);

    const dying = lease(50);
    await store.reserve('again', 100, roomy, dying);
    await client.del(...counters);
    await sleep(80);
    await store.reserve('again', 100, roomy, lease());
    for (const key of counters) assert.ok((await client.ttl(key)) > 0, `${key}, made by the reap, expires`);

    // The reap above released `dying`: its late settle books the cost without releasing anything.
    await client.del(...counters);
    await store.settle('again', 100, 20, roomy, dying.id);
    for (const key of counters) assert.ok((await client.ttl(key)) > 0, `${key}, made by a late settle, expires`);
  });

  test("a new period's first reservation carries the tenant's marker on to the new period's end", async () => {
    const early = { periodKey: '2026-10', periodTtlSec: 100, budgetMicros: 1_000 };
    await store.restore('rollover', early, 0, 0);
    const marker = `${prefix}{rollover}:g`;
    assert.ok((await client.ttl(marker)) <= 100);
    await store.reserve('rollover', 10, early, lease());
    assert.ok((await client.ttl(marker)) <= 100, 'the same period: the marker keeps its TTL');
    const next = { periodKey: '2026-11', periodTtlSec: 5_000, budgetMicros: 1_000 };
    assert.equal((await store.reserve('rollover', 10, next, lease())).granted, true);
    assert.ok((await client.ttl(marker)) > 4_000, 'as long as the new counters');
  });

  test('restore only raises spend; a crossing is marked once', async () => {
    await store.restore('r', limits, 500, 0);
    await store.restore('r', limits, 100, 0);
    assert.equal((await store.balance('r', limits)).spentMicros, 500);
    assert.equal(await store.markCrossing('r', limits, 'notice'), true);
    assert.equal(await store.markCrossing('r', limits, 'notice'), false);
  });

  test('a tenant without its marker (never rebuilt, or a Redis that lost its data) is lost: nothing reserved until restored', async () => {
    const fresh = await store.reserve('wiped', 100, limits, lease());
    assert.deepEqual([fresh.granted, fresh.refusedBy, fresh.balance.lost], [false, 'lost', true]);
    assert.equal((await store.balance('wiped', limits)).lost, true);
    assert.deepEqual(await client.keys(`${prefix}{wiped}*`), [], 'a lost reserve writes nothing');
    await store.restore('wiped', limits, 300, 0);
    assert.equal((await store.reserve('wiped', 100, limits, lease())).granted, true);
    assert.equal((await store.balance('wiped', limits)).lost, undefined);
    await client.del(...(await client.keys(`${prefix}{wiped}*`)));
    assert.equal((await store.reserve('wiped', 100, limits, lease())).refusedBy, 'lost', 'lost again with the keys gone');
  });

  test("a caller's own budget is reserved, settled and restored in the tenant's step and slot", async () => {
    const caller = { id: 'key/1', periodKey: '2026-11-25', periodTtlSec: 600, budgetMicros: 500 };
    const withCaller = { ...limits, dailyCapMicros: 10_000, caller };
    await store.restore('callers', limits, 0, 0, [{ keys: caller, spentMicros: 100 }]);
    const first = lease();
    const r = await store.reserve('callers', 300, withCaller, first);
    assert.equal(r.granted, true);
    assert.deepEqual([r.balance.callerSpentMicros, r.balance.callerReservedMicros, r.balance.reservedMicros], [100, 300, 300]);
    const refused = await store.reserve('callers', 200, withCaller, lease());
    assert.deepEqual([refused.granted, refused.refusedBy], [false, 'caller']);
    const settled = await store.settle('callers', 300, 50, withCaller, first.id);
    assert.deepEqual([settled.callerSpentMicros, settled.callerReservedMicros, settled.spentMicros, settled.reservedMicros], [150, 0, 50, 0]);
    const keys = await client.keys(`${prefix}*callers*`);
    assert.equal(new Set(keys.map((k) => k.slice(k.indexOf('{'), k.indexOf('}') + 1))).size, 1, 'one hash tag');
    for (const key of keys) assert.ok((await client.ttl(key)) > 0, `${key} expires`);
  });

  test('a reservation with an expectation is made only while the figures still meet it; otherwise nothing is reserved', async () => {
    await store.restore('expect', limits, 700, 100);
    const moved = await store.reserve('expect', 50, limits, lease(), { spentAtLeast: 0, spentBelow: 700 });
    assert.deepEqual([moved.granted, moved.refusedBy, moved.balance.spentMicros, moved.balance.reservedMicros], [false, 'moved', 700, 0]);
    const day = await store.reserve('expect', 50, limits, lease(), { spentAtLeast: 700, spentBelow: 800, daySpentBelow: 100 });
    assert.deepEqual([day.granted, day.refusedBy], [false, 'moved'], 'the day spend reached the cap the call was planned below');
    const met = await store.reserve('expect', 50, limits, lease(), { spentAtLeast: 700, spentBelow: 800, daySpentBelow: 600 });
    assert.deepEqual([met.granted, met.balance.reservedMicros], [true, 50]);
    const unbounded = await store.reserve('expect', 50, limits, lease(), { spentAtLeast: 700, spentBelow: Number.POSITIVE_INFINITY });
    assert.equal(unbounded.granted, true);
  });

  test('closing the store never closes a client it did not create', async () => {
    await store.close();
    assert.equal(await client.ping(), 'PONG');
    const owned = new RedisBudgetLedgerStore({ url: REDIS_URL, keyPrefix: prefix });
    await owned.balance('x', limits);
    await owned.close();
    await assert.rejects(owned.balance('x', limits));
  });
});

describe('RedisBudgetLedgerStore: the steps of one pass of the event loop', { skip: available === true ? false : available }, () => {
  const prefix = `llmr-test:${randomUUID()}:`;
  const limits: LedgerLimits = { periodKey: '2026-11', periodTtlSec: 3600, budgetMicros: 1_000 };
  let client: Redis;
  let storeClient: Redis;
  let store: RedisBudgetLedgerStore;
  let leases = 0;
  const lease = (): LedgerLease => ({ id: `pass-${++leases}`, ttlMs: 60_000 });
  /** The commands the store sent, by name, and their replies. */
  const sent: string[] = [];
  const replies: Promise<unknown>[] = [];

  before(async () => {
    client = new Redis(REDIS_URL);
    storeClient = new Redis(REDIS_URL);
    const send = storeClient.sendCommand.bind(storeClient);
    storeClient.sendCommand = (command, stream) => {
      sent.push(command.name);
      replies.push(command.promise);
      return send(command, stream);
    };
    store = new RedisBudgetLedgerStore({ client: storeClient, keyPrefix: prefix });
    for (const t of ['order', 'broken', 'fine']) await store.restore(t, limits, 0, 0);
  });
  after(async () => {
    await store.close();
    storeClient.disconnect();
    await deletePrefix(REDIS_URL, prefix);
    client.disconnect();
  });

  test('reserves and settles asked in one pass go as one script call, each checked in the order asked against the figures the ones before it left', async () => {
    const first = lease();
    assert.equal((await store.reserve('order', 600, limits, first)).granted, true);
    sent.length = 0;
    // One pass: two reserves planned below 500 spent, the settle that books 600, two more planned below 500, one planned at 500 or more.
    const below = { spentAtLeast: 0, spentBelow: 500 };
    const asked = [
      store.reserve('order', 100, limits, lease(), below),
      store.reserve('order', 100, limits, lease(), below),
      store.settle('order', 600, 600, limits, first.id),
      store.reserve('order', 100, limits, lease(), below),
      store.reserve('order', 100, limits, lease(), below),
      store.reserve('order', 100, limits, lease(), { spentAtLeast: 500, spentBelow: 2_000 }),
      store.reserve('order', 300, limits, lease()),
    ];
    const [a, b, settled, c, d, e, f] = (await Promise.all(asked)) as [ReserveResult, ReserveResult, LedgerBalance, ReserveResult, ReserveResult, ReserveResult, ReserveResult];
    assert.deepEqual([a.granted, b.granted], [true, true], 'asked before the settle: 0 spent then');
    assert.deepEqual([a.balance.reservedMicros, b.balance.reservedMicros], [700, 800], 'each answers the figures after its own step');
    assert.deepEqual([settled.spentMicros, settled.reservedMicros], [600, 200]);
    assert.deepEqual([c.refusedBy, d.refusedBy], ['moved', 'moved'], 'asked after the settle: its spend moved them');
    assert.deepEqual([e.granted, e.balance.reservedMicros], [true, 300]);
    assert.deepEqual([f.granted, f.refusedBy], [false, 'period'], '600 spent + 300 reserved + 300 is past the budget');
    assert.deepEqual(sent, ['evalsha'], 'one script call for the pass');
    assert.deepEqual(await store.balance('order', limits), { spentMicros: 600, reservedMicros: 300, daySpentMicros: 0, dayReservedMicros: 0 });
  });

  test("a pass's script call answers one value, its figures in one string (the client decodes each value it is sent: ~3k instructions a figure), exact to 2^53", async () => {
    const big: LedgerLimits = { ...limits, budgetMicros: 9_000_000_000_000_000 };
    await store.restore('big', big, 4_000_000_000_000_123, 0);
    const held = lease();
    sent.length = 0;
    replies.length = 0;
    const [reserved, other] = await Promise.all([store.reserve('big', 1_000_000_000_000_007, big, held), store.reserve('order', 1, limits, lease())]);
    assert.deepEqual(sent, ['evalsha']);
    assert.ok(Buffer.isBuffer(await replies[0]), 'one value for the pass, read as its bytes (not decoded to a string), not an integer per figure');
    assert.deepEqual([reserved.granted, reserved.balance.spentMicros, reserved.balance.reservedMicros], [true, 4_000_000_000_000_123, 1_000_000_000_000_007]);
    assert.equal(other.granted, true);
    const settled = await store.settle('big', 1_000_000_000_000_007, 999_999_999_999_999, big, held.id);
    assert.deepEqual([settled.spentMicros, settled.reservedMicros], [5_000_000_000_000_122, 0]);
  });

  test('a long pass goes in several script calls of at most 256 steps; none reserves past the budget', async () => {
    await store.restore('long', limits, 0, 0);
    sent.length = 0;
    const answers = await Promise.all(Array.from({ length: 600 }, () => store.reserve('long', 2, limits, lease())));
    assert.equal(answers.filter((r) => r.granted).length, 500);
    assert.deepEqual(sent, ['evalsha', 'evalsha', 'evalsha']);
    assert.equal((await store.balance('long', limits)).reservedMicros, 1_000);
  });

  test("a step that fails in Redis answers its error to its own caller only; the pass's other steps stand", async () => {
    // The tenant's period counters hold a string: every step on them fails with WRONGTYPE.
    const base = `${prefix}{broken}`;
    await client.del(`${base}:p:${limits.periodKey}`);
    await client.set(`${base}:p:${limits.periodKey}`, 'not a hash');
    const fine = lease();
    const asked = [
      store.reserve('fine', 100, limits, fine),
      store.reserve('broken', 100, limits, lease()),
      store.settle('broken', 100, 50, limits, 'never-held'),
      store.reserve('fine', 200, limits, lease()),
    ];
    const [okFirst, broken, brokenSettle, okLast] = await Promise.allSettled(asked);
    assert.equal(okFirst.status === 'fulfilled' && (okFirst.value as ReserveResult).granted, true);
    assert.equal(okLast.status === 'fulfilled' && (okLast.value as ReserveResult).balance.reservedMicros, 300);
    assert.equal(broken.status, 'rejected');
    assert.match(String((broken as PromiseRejectedResult).reason), /WRONGTYPE/);
    assert.equal(brokenSettle.status, 'rejected');
    assert.match(String((brokenSettle as PromiseRejectedResult).reason), /WRONGTYPE/);
  });

  test('a script call that fails whole (Redis away) answers its error to every caller in it', async () => {
    const away = new RedisBudgetLedgerStore({ url: 'redis://127.0.0.1:1', keyPrefix: prefix, commandTimeoutMs: 300 });
    try {
      const asked = [away.reserve('fine', 100, limits, lease()), away.settle('fine', 100, 50, limits, 'x'), away.reserve('fine', 100, limits, lease())];
      const answers = await Promise.allSettled(asked);
      assert.deepEqual(answers.map((a) => a.status), ['rejected', 'rejected', 'rejected']);
    } finally {
      await away.close();
    }
  });
});

/** What is written on the client's socket from now on, one string per write system call. */
function socketWrites(client: Redis): string[] {
  const socket = client.stream as Socket & { _writev: (chunks: { chunk: unknown }[], cb: unknown) => void };
  const writes: string[] = [];
  const write = socket._write.bind(socket);
  const writev = socket._writev.bind(socket);
  socket._write = (chunk, encoding, cb) => {
    writes.push(String(chunk));
    write(chunk, encoding, cb);
  };
  socket._writev = (chunks, cb) => {
    writes.push(chunks.map((c) => String(c.chunk)).join(''));
    writev(chunks, cb);
  };
  return writes;
}

/** A ledger on a coalescing connection that writes XADD at once (inside a step as the gateway's `writeAtStepEnd`), a tenant restored, then cleaned up. */
async function withCoalescingLedger(use: (ledger: { prefix: string; limits: LedgerLimits; client: Redis; store: RedisBudgetLedgerStore }) => Promise<void>): Promise<void> {
  const prefix = `llmr-test:${randomUUID()}:`;
  const limits: LedgerLimits = { periodKey: '2026-11', periodTtlSec: 3600, budgetMicros: 1_000 };
  const client = createRedisStoreClient(REDIS_URL, { writeAtOnce: ['xadd'] });
  const store = new RedisBudgetLedgerStore({ client, keyPrefix: prefix });
  try {
    await store.restore('t', limits, 0, 0);
    await use({ prefix, limits, client, store });
  } finally {
    await store.close();
    await client.quit();
    await deletePrefix(REDIS_URL, prefix);
  }
}

describe("a call's record and its settle on the ledger's connection", { skip: available === true ? false : available }, () => {
  test('writeTogether: a command written at once in the step goes out with the settle while calls come one at a time; under load the settle stays for the end of the pass', async () => {
    await withCoalescingLedger(async ({ prefix, limits, client, store }) => {
      for (const id of ['one', 'two']) assert.equal((await store.reserve('t', 100, limits, { id, ttlMs: 60_000 })).granted, true);
      const writes = socketWrites(client);
      let settled: Promise<LedgerBalance> | undefined;
      // The step uncorks when it returns: no end-of-pass write is scheduled for its held command.
      const uncork = (client as unknown as { uncork: () => void }).uncork;
      let uncorksScheduled = 0;
      const immediate = globalThis.setImmediate;
      globalThis.setImmediate = ((fn: () => void, ...args: unknown[]) => {
        if (fn === uncork) uncorksScheduled++;
        return (immediate as (...a: unknown[]) => NodeJS.Immediate)(fn, ...args);
      }) as typeof setImmediate;
      try {
        store.writeTogether(() => {
          void client.xadd(`${prefix}journal`, '*', 'r', 'one');
          settled = store.settle('t', 100, 40, limits, 'one');
        });
      } finally {
        globalThis.setImmediate = immediate;
      }
      assert.equal(uncorksScheduled, 0);
      assert.equal(writes.length, 1, 'one write, when the step returned');
      assert.match(writes[0]!, /xadd[\s\S]*evalsha/i, 'the entry, then the settle');
      assert.equal((await settled!).spentMicros, 40);

      writes.length = 0;
      const waiting = store.reserve('t', 100, limits, { id: 'three', ttlMs: 60_000 });
      store.writeTogether(() => {
        void client.xadd(`${prefix}journal`, '*', 'r', 'two');
        assert.equal(writes.length, 1, 'under load nothing joins the entry: written as it is issued, not corked to the end of the step');
        settled = store.settle('t', 100, 60, limits, 'two');
      });
      assert.equal(writes.length, 1);
      assert.doesNotMatch(writes[0]!, /evalsha/i, 'the entry alone: the settle waits with the reserve');
      await Promise.all([waiting, settled]);
      assert.equal(writes.length, 2);
      assert.equal(writes[1]!.match(/evalsha/gi)?.length, 1, 'the reserve and the settle in one script call');

      // That pass's end sent two steps (calls no longer come one at a time): the next settle waits for the end of its pass too.
      writes.length = 0;
      store.writeTogether(() => {
        void client.xadd(`${prefix}journal`, '*', 'r', 'three');
        settled = store.settle('t', 100, 10, limits, 'three');
      });
      assert.equal(writes.length, 1);
      assert.doesNotMatch(writes[0]!, /evalsha/i, 'the entry alone');
      await settled;
      assert.equal(writes.length, 2);
      assert.equal((await store.balance('t', limits)).spentMicros, 110);
    });
  });

  test('settles ending together in one pass: the first goes with its entry, the others share one script call at the end of the pass, and the next pass batches too', async () => {
    await withCoalescingLedger(async ({ prefix, limits, client, store }) => {
      const ids = ['a', 'b', 'c', 'd'];
      for (const id of ids) assert.equal((await store.reserve('t', 100, limits, { id, ttlMs: 60_000 })).granted, true);
      const writes = socketWrites(client);
      const settle = (id: string) => {
        let settled: Promise<LedgerBalance> | undefined;
        store.writeTogether(() => {
          void client.xadd(`${prefix}journal`, '*', 'r', id);
          settled = store.settle('t', 100, 10, limits, id);
        });
        return settled!;
      };
      await Promise.all(['a', 'b', 'c'].map(settle));
      const scriptCalls = () => writes.join('').match(/evalsha/gi)?.length ?? 0;
      assert.equal(scriptCalls(), 2, 'the first settle with its entry, the other two in one call');
      assert.match(writes[0]!, /xadd[\s\S]*evalsha/i);
      // The last pass sent two: the next settle, alone in its pass, still waits for the end of it.
      writes.length = 0;
      const last = settle('d');
      assert.doesNotMatch(writes.join(''), /evalsha/i, 'the entry alone');
      await last;
      assert.equal(scriptCalls(), 1);
      assert.equal((await store.balance('t', limits)).spentMicros, 40);
    });
  });

  test("a journal entry the record's listener writes at once there and the call's settle go out in one write, the entry first, before the caller has its answer", async () => {
    const prefix = `llmr-test:${randomUUID()}:`;
    const sim = await startSim();
    const doc = buildPolicy(sim.url, { titles: fastClass('nonessential', ['oai-premium']) });
    const policy = compilePolicy({ ...doc, budgets: { tenants: { acme: { budgetUsd: 100 } } } });
    // The gateway's wiring (GatewayRedis, RedisRecordJournal): one coalescing connection, the journal's XADD written at a step's end.
    const client = createRedisStoreClient(REDIS_URL, { writeAtStepEnd: ['xadd'] });
    const ledger = new RedisBudgetLedgerStore({ client, keyPrefix: prefix });
    const router = createLlmRouter({ policy, budgetLedger: ledger });
    router.records$.subscribe((r) => void client.xadd(`${prefix}journal`, '*', 'r', r.requestId));
    try {
      await router.budgets.restoreSpend('acme', { spentUsd: 0 });
      await client.ping();
      const writes = socketWrites(client);
      const answer = await router.complete(ask('hi'), { trafficClass: 'titles', tenant: 'acme' });
      assert.ok(answer.costUsd! > 0, 'a budgeted call, settled');
      const journaled = writes.filter((w) => /xadd/i.test(w));
      assert.equal(journaled.length, 1, 'the journal entry was written before the caller had its answer');
      const entry = journaled[0]!;
      const settle = entry.search(/evalsha/i);
      assert.ok(settle > entry.search(/xadd/i), 'the script call goes in the same write, after the entry');
      assert.ok(entry.slice(settle).includes('$1\r\ns\r\n'), 'the script call carries the settle');
    } finally {
      router.close();
      await ledger.close();
      await client.quit();
      await sim.close();
      await deletePrefix(REDIS_URL, prefix);
    }
  });
});

describe('two processes on one Redis ledger', { skip: available === true ? false : available }, () => {
  test("a tier the other process's spend moved: this process's next call is planned again on it, and refused at 100 %", async () => {
    const prefix = `llmr-test:${randomUUID()}:`;
    const sim = await startSim();
    const doc = buildPolicy(sim.url, { titles: fastClass('nonessential', ['oai-premium', 'oai-economy']), support: fastClass('critical', ['oai-premium']) });
    const policy = compilePolicy({ ...doc, budgets: { tenants: { acme: { budgetUsd: 100 } } } });
    // Two stores with their own connections: what two gateway processes hold.
    const stores = [new RedisBudgetLedgerStore({ url: REDIS_URL, keyPrefix: prefix }), new RedisBudgetLedgerStore({ url: REDIS_URL, keyPrefix: prefix })];
    const [a, b] = stores.map((ledger) => createLlmRouter({ policy, budgetLedger: ledger }));
    try {
      await a!.budgets.restoreSpend('acme', { spentUsd: 0 });
      const first = await b!.complete(ask('hi'), { trafficClass: 'titles', tenant: 'acme' });
      assert.deepEqual([first.outcome.model, first.outcome.budget!.tier], ['oai-premium', 'normal']);
      await a!.budgets.restoreSpend('acme', { spentUsd: 81 });
      const moved = await b!.complete(ask('hi'), { trafficClass: 'titles', tenant: 'acme' });
      assert.deepEqual([moved.outcome.model, moved.outcome.budget!.tier, moved.outcome.budget!.action], ['oai-economy', 'downgrade', 'downgraded to the cheaper route']);
      await a!.budgets.restoreSpend('acme', { spentUsd: 100 });
      const calls = callsByModel(sim);
      const err = await rejection(b!.complete(ask('hi'), { trafficClass: 'support', tenant: 'acme' }));
      assert.deepEqual([err.httpStatus, err.code], [402, 'insufficient_quota']);
      assert.deepEqual(callsByModel(sim), calls, 'nothing called on the stale plan');
    } finally {
      a!.close();
      b!.close();
      await Promise.all(stores.map((s) => s.close()));
      await sim.close();
      await deletePrefix(REDIS_URL, prefix);
    }
  });
});
