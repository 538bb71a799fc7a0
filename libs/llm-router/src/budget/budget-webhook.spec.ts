import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { postBudgetEvent } from './budget-webhook.js';
import type { BudgetEvent } from './budget.types.js';

const EVENT: BudgetEvent = {
  type: 'budget.threshold_crossed',
  tenant: 'acme',
  tier: 'notice',
  shareUsed: 0.71,
  budgetUsd: 100,
  spentUsd: 71,
  periodStart: '2026-11-01T00:00:00.000Z',
  at: '2026-11-25T12:00:00.000Z',
};

test('posts the event as JSON; a dead endpoint resolves undefined instead of throwing', async () => {
  const received: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ method: req.method, type: req.headers['content-type'], body: JSON.parse(body) });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    assert.equal(await postBudgetEvent(`http://127.0.0.1:${port}/hook`, EVENT), 200);
    assert.deepEqual(received, [{ method: 'POST', type: 'application/json', body: EVENT }]);
  } finally {
    server.close();
  }
  assert.equal(await postBudgetEvent('http://127.0.0.1:1/hook', EVENT, 500), undefined);
});
