import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { postBudgetEvent } from './budget-webhook.js';
import { compilePolicy } from '../policy/compile-policy.js';
import { createLlmRouter } from '../router/create-llm-router.js';
import { fixturePolicy, openAiCompletionBody } from '../testing/policy.fixture.js';
import { ScriptedTransport } from '../testing/scripted-transport.js';
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

test("threshold events go to the webhook of the policy in force: a reload that moves the URL applies from the next event", async () => {
  const received: { hook: string; event: BudgetEvent }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ hook: req.url!, event: JSON.parse(body) });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const policyWith = (hook: string) => compilePolicy(fixturePolicy({ budgets: { webhookUrl: `${base}${hook}`, tenants: { acme: { budgetUsd: 100 } } } }));
  const transport = new ScriptedTransport();
  transport.script('premium-a', { status: 200, body: openAiCompletionBody('premium-a') });
  const router = createLlmRouter({ policy: policyWith('/first'), transport, clock: () => Date.UTC(2026, 10, 25) });
  const request = { messages: [{ role: 'user' as const, content: 'hi' }], max_tokens: 10 };
  try {
    // Events come when a call's settled spend crosses a threshold: each call starts a micro-dollar below one.
    await router.budgets.restoreSpend('acme', { spentUsd: 69.999999 });
    await router.complete(request, { trafficClass: 'general', tenant: 'acme' });
    await until(() => received.length === 1);
    router.live.swap(policyWith('/second'));
    await router.budgets.restoreSpend('acme', { spentUsd: 94.999999 });
    await router.complete(request, { trafficClass: 'general', tenant: 'acme' });
    await until(() => received.length === 2);
    assert.deepEqual(
      received.map((r) => [r.hook, r.event.tier]),
      [
        ['/first', 'notice'],
        ['/second', 'restricted'],
      ],
    );
  } finally {
    router.close();
    server.close();
  }
});

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'the webhook was called');
}
