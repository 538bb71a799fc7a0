/** The shared stores' Redis connection: one write per pass of the event loop, in order; `writeAtOnce` commands at once. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { setImmediate as nextPass } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { createRedisStoreClient, type WriteCoalescingRedis } from '@llm-router/nestjs/redis';
import { REDIS_URL, redisAvailable } from './support/services.js';

const available = await redisAvailable();

describe('createRedisStoreClient: coalesced writes', { skip: available === true ? false : available }, () => {
  const prefix = `llmr-test:${randomUUID()}:`;
  let client: Redis;
  /** Writes held on the socket (corked) for the end of the pass. */
  const held = () => (client.stream as Socket).writableCorked;

  before(async () => {
    client = createRedisStoreClient(REDIS_URL, { writeAtOnce: ['xadd'] });
    await client.ping();
  });
  after(async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    await client.quit();
  });

  test('the commands of one pass go out together at its end, answered in order', async () => {
    assert.equal(held(), 0);
    const replies = Promise.all([client.set(`${prefix}a`, '1'), client.incr(`${prefix}a`), client.get(`${prefix}a`), client.incrby(`${prefix}a`, 5)]);
    assert.equal(held(), 1, 'held until the check phase');
    await nextPass();
    assert.equal(held(), 0);
    assert.deepEqual(await replies, ['OK', 2, '2', 7]);
  });

  test('a writeAtOnce command is written at once, with the commands waiting before it, in order', async () => {
    const set = client.set(`${prefix}b`, 'x');
    assert.equal(held(), 1);
    const added = client.xadd(`${prefix}s`, '*', 'k', 'v');
    assert.equal(held(), 0, 'the XADD and the SET before it are written');
    const get = client.get(`${prefix}b`);
    assert.equal(held(), 1, 'a command after it waits for the end of the pass');
    assert.equal(await set, 'OK');
    assert.match((await added) ?? '', /^\d+-\d+$/);
    assert.equal(await get, 'x');
  });

  test('sendFlat: a command on its arguments as given, written at once when named in writeAtOnce, answered as its method would be', async () => {
    const coalescing = client as WriteCoalescingRedis;
    const set = client.set(`${prefix}f`, 'x');
    assert.equal(held(), 1);
    const added = coalescing.sendFlat<string | null>('xadd', [`${prefix}fs`, '*', 'k', 'v']);
    assert.equal(held(), 0, 'the XADD and the SET before it are written');
    const get = coalescing.sendFlat<string | null>('get', [`${prefix}f`]);
    assert.equal(held(), 1, 'another command waits for the end of the pass');
    assert.equal(await set, 'OK');
    const id = await added;
    assert.match(id ?? '', /^\d+-\d+$/);
    assert.equal(await get, 'x');
    assert.deepEqual(await client.xrange(`${prefix}fs`, '-', '+'), [[id, ['k', 'v']]]);
    assert.equal(await coalescing.sendFlat('xdel', [`${prefix}fs`, id!]), 1);
  });

  test("sendFlat on a client with a key prefix (`?keyPrefix=` in the URL): its keys prefixed as its command methods' are; an upper-case name still written at once", async () => {
    const prefixed = createRedisStoreClient(`${REDIS_URL}${REDIS_URL.includes('?') ? '&' : '?'}keyPrefix=${encodeURIComponent(`${prefix}p:`)}`, { writeAtOnce: ['xadd'] });
    try {
      await prefixed.ping();
      const wait = prefixed.set('w', '1');
      const added = prefixed.sendFlat<string | null>('XADD', ['s', '*', 'k', 'v']);
      assert.equal((prefixed.stream as Socket).writableCorked, 0, 'written at once, with the SET before it');
      await wait;
      const id = await added;
      assert.deepEqual(await client.xrange(`${prefix}p:s`, '-', '+'), [[id, ['k', 'v']]], 'under the prefix, where xrange() on the prefixed client reads');
      assert.deepEqual(await prefixed.xrange('s', '-', '+'), [[id, ['k', 'v']]]);
      assert.equal(await prefixed.sendFlat('xdel', ['s', id!]), 1);
    } finally {
      await prefixed.quit();
    }
  });

  test('inside `together`, a writeAtOnce command waits for the end of the step and goes out with what came after it, in order', async () => {
    const coalescing = client as WriteCoalescingRedis;
    const order: string[] = [];
    let added: Promise<string | null> | undefined;
    let after: Promise<string | null> | undefined;
    let sent: Promise<unknown> | undefined;
    coalescing.together(
      () => {
        added = client.xadd(`${prefix}t`, '*', 'k', 'v');
        assert.equal(held(), 1, 'the XADD is held until the step ends');
        after = client.get(`${prefix}b`);
        order.push('step');
      },
      () => {
        assert.equal(held(), 1, 'nothing written before beforeWrite');
        sent = client.set(`${prefix}c`, 'y');
        order.push('beforeWrite');
      },
    );
    assert.equal(held(), 0, 'written when the step returned, beforeWrite included');
    assert.deepEqual(order, ['step', 'beforeWrite']);
    assert.match((await added) ?? '', /^\d+-\d+$/);
    assert.equal(await after, 'x');
    assert.equal(await sent, 'OK');
  });

  test('a `together` step without a writeAtOnce command leaves its commands to the end of the pass', async () => {
    let before = 0;
    (client as WriteCoalescingRedis).together(
      () => void client.set(`${prefix}d`, '1'),
      () => before++,
    );
    assert.equal(held(), 1, 'held for the check phase, as outside a step');
    assert.equal(before, 0, 'beforeWrite runs only for a held writeAtOnce command');
    await nextPass();
    assert.equal(held(), 0);
    assert.equal(await client.get(`${prefix}d`), '1');
  });

  test('a writeAtStepEnd command waits for the end of the pass outside a step (afterWrite runs right after that write), and for the end of a step inside one', async () => {
    const stepEnd = createRedisStoreClient(REDIS_URL, { writeAtStepEnd: ['xadd'] });
    try {
      await stepEnd.ping();
      const corked = () => (stepEnd.stream as Socket).writableCorked;
      const added = stepEnd.sendFlat<string | null>('xadd', [`${prefix}e`, '*', 'k', 'v']);
      assert.equal(corked(), 1, 'held for the end of the pass, with the rest of it');
      const seen: number[] = [];
      stepEnd.afterWrite(() => seen.push(corked()));
      stepEnd.afterWrite(() => seen.push(corked()));
      assert.equal(seen.length, 0, 'waits for the write');
      await nextPass();
      assert.deepEqual([...seen], [0, 0], 'each ran once the write went');
      assert.match((await added) ?? '', /^\d+-\d+$/);
      let ran = false;
      stepEnd.afterWrite(() => (ran = true));
      assert.equal(ran, true, 'nothing held: at once');
      let inStep: Promise<string | null> | undefined;
      stepEnd.together(
        () => {
          inStep = stepEnd.sendFlat<string | null>('xadd', [`${prefix}e`, '*', 'k', 'w']);
          stepEnd.afterWrite(() => seen.push(corked()));
        },
        () => undefined,
      );
      assert.equal(corked(), 0, 'inside a step: written when the step returned');
      assert.deepEqual([...seen], [0, 0, 0]);
      assert.match((await inStep) ?? '', /^\d+-\d+$/);
    } finally {
      await stepEnd.quit();
    }
  });

  test('an afterWrite callback that throws is reported as a warning: the others still run and nothing throws from the write', async () => {
    const stepEnd = createRedisStoreClient(REDIS_URL, { writeAtStepEnd: ['xadd'] });
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      await stepEnd.ping();
      const added = stepEnd.sendFlat<string | null>('xadd', [`${prefix}warned`, '*', 'k', 'v']);
      const ran: string[] = [];
      stepEnd.afterWrite(() => {
        throw new Error('a broken callback');
      });
      stepEnd.afterWrite(() => ran.push('second'));
      assert.doesNotThrow(() => stepEnd.writeNow());
      assert.deepEqual(ran, ['second']);
      await added;
      await nextPass();
      assert.deepEqual(
        warnings.map((w) => w.message),
        ['an afterWrite callback threw: a broken callback'],
      );
    } finally {
      process.off('warning', onWarning);
      await stepEnd.quit();
    }
  });
});
