/**
 * Deferred calls in the library, without the gateway: `router.completeOrDefer`
 * on the in-process queue and store. A class that defers gets a handle when
 * its route is exhausted by outage or by the restricted budget tier; the
 * handle's result arrives as a Promise and an Observable once a later try is
 * served. Other classes, and other failures, reject as `complete` does.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { firstValueFrom } from 'rxjs';
import { CallbackTargets, compilePolicy, createLlmRouter, DeferredCallError, type LlmRouter } from '@llm-router/nestjs';
import { until } from './gateway-support/harness.js';
import { buildPolicy, fastClass } from './support/policy.js';
import { ask, rejection, simReply } from './support/router.js';
import { resetSim, startSim, type SimulatorHandle } from './support/sim.js';

const DEFER_FAST = { retriesPerTarget: 0, deferBackoff: { baseMs: 50, maxMs: 100, jitter: false } } as const;

describe('LlmRouter.completeOrDefer', () => {
  let sim: SimulatorHandle;
  let router: LlmRouter;

  before(async () => {
    sim = await startSim();
    const policy = buildPolicy(sim.url, {
      automation: fastClass('internal_automation', ['oai-premium', 'ant-premium'], DEFER_FAST),
      expiring: fastClass('internal_automation', ['oai-premium'], { ...DEFER_FAST, deferDeadlineMs: 300 }),
      chat: fastClass('standard', ['oai-premium', 'ant-premium'], { retriesPerTarget: 0 }),
    });
    router = createLlmRouter({ policy: compilePolicy(policy) });
  });
  after(async () => {
    router.close();
    await sim.close();
  });
  beforeEach(() => resetSim(sim));

  it('defers a call whose route is exhausted by outage; the handle resolves once a later try is served', async () => {
    sim.addFaults({ fault: { error: 'server_error' } });
    const outcome = await router.completeOrDefer(ask('later please'), { trafficClass: 'automation' });
    assert.equal(outcome.kind, 'deferred');
    if (outcome.kind !== 'deferred') return;
    assert.equal(outcome.call.status, 'pending');
    assert.equal(outcome.call.reason, 'route_exhausted');
    assert.equal(outcome.call.attempts, 1);
    const settled = firstValueFrom(outcome.handle.settled$);
    sim.clearFaults();
    const completion = await outcome.handle.result();
    assert.equal(completion.choices[0]!.message.content, simReply('oai-premium', 'later please'));
    const call = await settled;
    assert.equal(call.status, 'completed');
    assert.ok(call.attempts >= 2);
    assert.equal((await router.deferred.get(call.id))?.status, 'completed');
  });

  it('defers a call refused by the restricted budget tier; it is served once the budget is raised', async () => {
    await router.budgets.setTenantBudget('acme', { budgetUsd: 100 });
    await router.budgets.restoreSpend('acme', { spentUsd: 96 });
    const outcome = await router.completeOrDefer(ask('when the budget allows'), { trafficClass: 'automation', tenant: 'acme' });
    assert.equal(outcome.kind, 'deferred');
    if (outcome.kind !== 'deferred') return;
    assert.equal(outcome.call.reason, 'budget_restricted');
    assert.equal(outcome.call.tenant, 'acme');
    assert.equal(sim.stats().requests, 0, 'nothing was sent upstream');
    await router.budgets.setTenantBudget('acme', { budgetUsd: 10_000 });
    const completion = await outcome.handle.result();
    assert.equal(completion.choices[0]!.message.content, simReply('oai-premium', 'when the budget allows'));
  });

  it('a deferred call past its deadline rejects its handle with the last failure', async () => {
    sim.addFaults({ fault: { error: 'overloaded' } });
    const outcome = await router.completeOrDefer(ask('never'), { trafficClass: 'expiring' });
    assert.equal(outcome.kind, 'deferred');
    if (outcome.kind !== 'deferred') return;
    const err = await outcome.handle.result().then(
      () => assert.fail('expected the deferred call to expire'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DeferredCallError);
    assert.equal(err.call.status, 'expired');
    assert.equal(err.call.lastError?.body.error.code, 'route_exhausted');
  });

  it('completes at once when it can, and a class that fails fast rejects as complete does', async () => {
    const served = await router.completeOrDefer(ask('now'), { trafficClass: 'automation' });
    assert.equal(served.kind, 'completed');
    sim.addFaults({ fault: { error: 'server_error' } });
    const err = await rejection(router.completeOrDefer(ask('now'), { trafficClass: 'chat' }));
    assert.equal(err.code, 'route_exhausted');
    // A deterministic failure is never deferred.
    sim.clearFaults();
    sim.addFaults({ fault: { error: 'invalid_request' } });
    const invalid = await rejection(router.completeOrDefer(ask('bad'), { trafficClass: 'automation' }));
    assert.equal(invalid.category, 'invalid_request');
  });
  it('a callback whose host name resolves to a loopback address is refused at delivery (never connected to, not tried again); allowed, it is delivered', async () => {
    const hits: string[] = [];
    const receiver = createServer((req, res) => {
      hits.push(req.url!);
      req.resume();
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as AddressInfo).port;
    try {
      const deferWithCallback = async (path: string) => {
        sim.addFaults({ fault: { error: 'server_error' } });
        const outcome = await router.completeOrDefer(ask(`call back ${path}`), { trafficClass: 'automation' }, { callback: { url: `http://localhost:${port}${path}`, secret: 'shh' } });
        assert.equal(outcome.kind, 'deferred');
        if (outcome.kind !== 'deferred') throw new Error('not deferred');
        sim.clearFaults();
        await outcome.handle.result();
        return outcome.call.id;
      };
      // Restricted: "localhost" is resolved at delivery and its loopback address refused.
      router.deferred.deliverCallbacksTo(new CallbackTargets([]));
      const refused = await deferWithCallback('/refused');
      await until(async () => (await router.deferred.get(refused))?.callbackStatus === 'failed', 'the callback refused', 10_000);
      assert.equal((await router.deferred.get(refused))?.callbackAttempts, 1, 'refused once, not tried again');
      assert.deepEqual(hits, []);
      // Its addresses allowed: delivered.
      router.deferred.deliverCallbacksTo(new CallbackTargets(['127.0.0.1', '::1']));
      const allowed = await deferWithCallback('/allowed');
      await until(async () => (await router.deferred.get(allowed))?.callbackStatus === 'delivered', 'the callback delivered', 10_000);
      assert.deepEqual(hits, ['/allowed']);
    } finally {
      router.deferred.deliverCallbacksTo(CallbackTargets.ANY);
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });
});
