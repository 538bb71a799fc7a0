/** A store's Lua script: EVALSHA, and EVAL when the server does not have it yet; its arguments as given. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisScript } from '../libs/llm-router/src/redis/redis-script.js';
import { REDIS_URL, redisAvailable } from './support/services.js';

const available = await redisAvailable();

describe('RedisScript', { skip: available === true ? false : available }, () => {
  const prefix = `llmr-test:${randomUUID()}:`;
  let client: Redis;

  before(() => {
    client = new Redis(REDIS_URL);
  });
  after(async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
  });

  test('a script the server never saw is sent whole, then by its hash; keys and arguments arrive as given', async () => {
    // A comment of its own: a hash no server has, so the first run finds it missing.
    const script = new RedisScript(`-- ${randomUUID()}\nredis.call('INCRBY', KEYS[1], ARGV[1])\nreturn {redis.call('GET', KEYS[1]), ARGV[2], #KEYS, #ARGV}`, 1);
    assert.deepEqual(await client.script('EXISTS', script.sha), [0]);
    assert.deepEqual(await script.run(client, [`${prefix}n`, 5, 'a b']), ['5', 'a b', 1, 2]);
    assert.deepEqual(await client.script('EXISTS', script.sha), [1]);
    assert.deepEqual(await script.run(client, [`${prefix}n`, 2, '']), ['7', '', 1, 2]);
  });

  test('with the reply as bytes (replyEncoding null), by EVAL when the server lacks the script and by EVALSHA after: Buffers both times', async () => {
    const script = new RedisScript(`-- ${randomUUID()}\nreturn ARGV[1] .. ';' .. #KEYS`, 0);
    assert.deepEqual(await client.script('EXISTS', script.sha), [0]);
    const first = await script.run<Buffer>(client, ['1,-2'], 0, null);
    assert.ok(Buffer.isBuffer(first), 'EVAL answers bytes');
    assert.equal(first.toString(), '1,-2;0');
    assert.deepEqual(await client.script('EXISTS', script.sha), [1]);
    const again = await script.run<Buffer>(client, ['3'], 0, null);
    assert.ok(Buffer.isBuffer(again), 'EVALSHA answers bytes');
    assert.equal(again.toString(), '3;0');
  });

  test("a script's error reaches the caller", async () => {
    const script = new RedisScript(`return redis.error_reply('refused ' .. ARGV[1])`, 0);
    await assert.rejects(script.run(client, ['x']), /refused x/);
  });
});
