/**
 * The SQL work queue's global limit under a race: eight instances (each its
 * own PostgreSQL pool) claim one queue's jobs at the same moment. Each claim
 * counts the queue's unexpired leases; without the per-queue lock two claims
 * running together would each miss the other's and overrun the limit.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createStore } from '../apps/gateway/src/store/create-store.js';
import type { GatewayStore } from '../apps/gateway/src/store/gateway-store.js';
import { postgresOrSkip } from './gateway-support/harness.js';

const INSTANCES = 8;
const LIMIT = 2;
let stores: GatewayStore[] = [];
let drop: (() => Promise<void>) | undefined;
let skip: string | undefined;

before(async () => {
  const pg = await postgresOrSkip();
  if ('skip' in pg) {
    skip = pg.skip;
    return;
  }
  drop = pg.drop;
  stores = await Promise.all(Array.from({ length: INSTANCES }, () => createStore(pg.store)));
});
after(async () => {
  for (const store of stores) await store.close();
  await drop?.();
});

test('eight instances claiming at once take at most the global limit between them, round after round', async (t) => {
  if (skip) return t.skip(skip);
  const now = Date.now();
  for (let round = 0; round < 5; round++) {
    const queue = `race-${round}`;
    await stores[0]!.jobs.insert(queue, Array.from({ length: 40 }, (_, i) => ({ id: `j${i}`, data: i })), now);
    const claims = await Promise.all(stores.map((store, i) => store.jobs.claim(queue, 3, `lease-${round}-${i}`, now + 60_000, now, LIMIT)));
    const claimed = claims.flat();
    assert.equal(claimed.length, LIMIT, `round ${round}: ${claims.map((c) => c.length).join(', ')}`);
    assert.equal(new Set(claimed.map((j) => j.id)).size, LIMIT, 'no job claimed twice');
  }
});
