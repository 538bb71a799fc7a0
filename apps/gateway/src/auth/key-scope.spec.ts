import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePolicy, type PolicyDocument } from '@llm-router/nestjs';
import { decideRoute, resolveScope, unrestrictedScope } from './key-scope.js';

const doc: PolicyDocument = {
  defaultClass: 'general',
  providers: { p: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1' } },
  models: {
    a: { provider: 'p', upstreamModel: 'a', tier: 'premium', contextWindow: 1000, price: { inputPerMTok: 1, outputPerMTok: 1 } },
    b: { provider: 'p', upstreamModel: 'b', tier: 'premium', contextWindow: 1000, price: { inputPerMTok: 1, outputPerMTok: 1 } },
    c: { provider: 'p', upstreamModel: 'c', tier: 'standard', contextWindow: 1000, price: { inputPerMTok: 1, outputPerMTok: 1 } },
  },
  classes: {
    general: { criticality: 'standard', route: ['a', 'b'] },
    cheap: { criticality: 'nonessential', route: ['c', 'a'] },
    solo: { criticality: 'standard', route: ['c'] },
  },
};
const policy = compilePolicy(doc);

test('resolveScope: allowed classes that exist; with allowed models, only classes whose whole route is allowed', () => {
  const all = resolveScope(policy, null, null, null);
  assert.deepEqual([...all.classes], ['general', 'cheap', 'solo']);
  assert.deepEqual([...all.models].sort(), ['a', 'b', 'c']);
  assert.equal(all.defaultClass, 'general');

  const models = resolveScope(policy, null, ['a', 'b'], null);
  assert.deepEqual([...models.classes], ['general']);
  assert.deepEqual([...models.models].sort(), ['a', 'b']);

  const classes = resolveScope(policy, ['solo', 'gone'], null, 'solo');
  assert.deepEqual([...classes.classes], ['solo']);
  assert.deepEqual([...classes.models], ['c']);
  assert.equal(classes.defaultClass, 'solo');

  assert.equal(resolveScope(policy, ['cheap', 'solo'], null, null).defaultClass, 'cheap', 'the first usable when the policy default is not allowed');
  assert.equal(resolveScope(policy, null, ['b'], null).defaultClass, undefined);
});

test('decideRoute: default class, header class, class as model, pinned model; 400/403/404 otherwise', () => {
  const scope = resolveScope(policy, ['general', 'cheap'], null, 'cheap');
  assert.deepEqual(decideRoute(policy, scope, undefined, undefined), { ok: true, trafficClass: 'cheap' });
  assert.deepEqual(decideRoute(policy, scope, undefined, 'auto'), { ok: true, trafficClass: 'cheap' });
  assert.deepEqual(decideRoute(policy, scope, 'general', undefined), { ok: true, trafficClass: 'general' });
  assert.deepEqual(decideRoute(policy, scope, undefined, 'general'), { ok: true, trafficClass: 'general' });
  assert.deepEqual(decideRoute(policy, scope, 'general', 'c'), { ok: true, trafficClass: 'general' });

  const refused = (h: string | undefined, m: string | undefined) => {
    const d = decideRoute(policy, scope, h, m);
    return d.ok ? 'ok' : `${d.status} ${d.code}`;
  };
  assert.equal(refused('solo', undefined), '403 traffic_class_not_allowed');
  assert.equal(refused('nope', undefined), '400 unknown_traffic_class');
  assert.equal(refused(undefined, 'solo'), '403 traffic_class_not_allowed');
  assert.equal(refused('general', 'cheap'), '400 model_class_mismatch');
  assert.equal(refused(undefined, 'gpt-x'), '404 model_not_found');
  const narrow = resolveScope(policy, ['general'], null, null);
  const d = decideRoute(policy, narrow, undefined, 'c');
  assert.equal(d.ok ? 'ok' : `${d.status} ${d.code}`, '403 model_not_allowed');
  assert.deepEqual(decideRoute(policy, unrestrictedScope(policy), 'solo', 'b'), { ok: true, trafficClass: 'solo' });
});
