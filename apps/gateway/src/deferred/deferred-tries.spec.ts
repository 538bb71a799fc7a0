import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeferredCall, LlmRouter, PrepareTry } from '@llm-router/nestjs';
import type { ApiKeyService } from '../auth/api-key.service.js';
import type { Principal } from '../auth/key-scope.js';
import { KEY_LABEL } from '../auth/keyed-context.js';
import type { GatewayBudgetsService } from '../budgets/gateway-budgets.service.js';
import { DeferredTries } from './deferred-tries.js';

/** The try's options for `call`, as the router asks for them, with key `key_1` loaded and active. */
async function optionsOf(call: Partial<DeferredCall>) {
  let prepare: PrepareTry | undefined;
  const router = { deferred: { prepareTriesWith: (p: PrepareTry) => (prepare = p) } } as unknown as LlmRouter;
  const principal = { keyId: 'key_1', tenant: 'ops' } as Principal;
  const keys = { get: () => ({ status: 'active' }), principalOf: () => principal, reload: async () => undefined } as unknown as ApiKeyService;
  const budgets = { applyKeyBudget: () => undefined } as unknown as GatewayBudgetsService;
  new DeferredTries(router, keys, budgets).onModuleInit();
  return prepare!({ trafficClass: 'automation', context: {}, ...call } as DeferredCall);
}

test("a try's record is attributed to the key that deferred the call, even when its stored context has no key label (an older instance deferred it)", async () => {
  const options = await optionsOf({ caller: 'key_1', context: { feature: 'nightly' } });
  assert.equal(options.labels?.[KEY_LABEL], 'key_1');
  assert.equal(options.feature, 'nightly');
  assert.ok(options.requestId, 'each try has a request id of its own');
});

test("the context's other labels stay", async () => {
  const options = await optionsOf({ caller: 'key_1', context: { labels: { step: 'summarize' } } });
  assert.deepEqual(options.labels, { step: 'summarize', [KEY_LABEL]: 'key_1' });
});

test('a call deferred without a key gets no key label', async () => {
  const options = await optionsOf({ context: {} });
  assert.equal(options.labels, undefined);
});
