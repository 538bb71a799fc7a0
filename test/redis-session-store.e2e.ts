/** Sessions on the real Redis: what one instance stores another reads, bounded by a TTL, keys hash-tagged by tenant. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { SessionState } from '@llm-router/nestjs';
import { RedisSessionStore } from '@llm-router/nestjs/redis';
import { deletePrefix, REDIS_URL, redisAvailable } from './support/services.js';

const available = await redisAvailable();

const state: SessionState = {
  target: 'premium-b',
  original: 'premium-a',
  createdAt: 1,
  updatedAt: 2,
  turns: 4,
  switches: [{ at: 2, requestId: 'r4', from: 'premium-a', to: 'premium-b', reason: 'transient (HTTP 529) on premium-a' }],
  transcript: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] }],
};

describe('RedisSessionStore', { skip: available === true ? false : available }, () => {
  const prefix = `llmr-test:${randomUUID()}:session:`;
  let client: Redis;
  let given: RedisSessionStore;
  let owning: RedisSessionStore;

  before(() => {
    client = new Redis(REDIS_URL);
    given = new RedisSessionStore({ client, keyPrefix: prefix });
    owning = new RedisSessionStore({ url: REDIS_URL, keyPrefix: prefix });
  });
  after(async () => {
    await given.close();
    await owning.close();
    await deletePrefix(REDIS_URL, prefix);
    client.disconnect();
  });

  test('what one store writes another reads; keys carry the tenant as a hash tag and expire with the TTL', async () => {
    const key = { tenant: 'acme', caller: 'key-1', id: 'conv:1' };
    await given.set(key, state, 60_000);
    assert.deepEqual(await owning.get(key), state);
    const keys = await client.keys(`${prefix}*`);
    assert.deepEqual(keys, [`${prefix}{acme}:key-1:conv%3A1`]);
    const ttl = await client.pttl(keys[0]!);
    assert.ok(ttl > 59_000 && ttl <= 60_000, `ttl ${ttl}`);
    // Another caller or tenant with the same id: nothing.
    assert.equal(await owning.get({ ...key, caller: 'key-2' }), undefined);
    assert.equal(await owning.get({ ...key, tenant: 'globex' }), undefined);
    await owning.set({ ...key, id: 'short' }, state, 50);
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(await given.get({ ...key, id: 'short' }), undefined);
    await owning.delete(key);
    assert.equal(await given.get(key), undefined);
  });

  test('a value it did not write reads as no session; close() leaves a given client open', async () => {
    await client.set(`${prefix}{acme}:k:garbage`, '{not json');
    assert.equal(await given.get({ tenant: 'acme', caller: 'k', id: 'garbage' }), undefined);
    await client.set(`${prefix}{acme}:k:shape`, JSON.stringify({ target: 'a', switches: 'none' }));
    assert.equal(await given.get({ tenant: 'acme', caller: 'k', id: 'shape' }), undefined);
    await given.close();
    assert.equal(await client.ping(), 'PONG');
  });
});
