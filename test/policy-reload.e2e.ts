/**
 * The policy changed without a restart, over real HTTP: PUT /admin/policy
 * (JSON and YAML), every error of an invalid candidate listed at once while
 * the old policy keeps serving, a stream started before a reload finishing
 * under the old version, the history of who changed what, and the version on
 * responses, records and /health.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import { stringify } from 'yaml';
import { ADMIN_KEY, call, chat, createKey, gatewayForFile, simFault, testPolicy, until } from './gateway-support/harness.js';

const ctx = gatewayForFile();

function putPolicy(body: unknown, yaml = false) {
  return yaml
    ? call(ctx.gw.url, '/admin/policy', { method: 'PUT', key: ADMIN_KEY, raw: stringify(body), headers: { 'content-type': 'application/yaml' } })
    : call(ctx.gw.url, '/admin/policy', { method: 'PUT', key: ADMIN_KEY, body });
}

describe('PUT /admin/policy', () => {
  test('a class added by PUT serves the next request; the version moves on responses, records, /health and the history', async () => {
    const { key } = await createKey(ctx.gw, { tenant: 'reload' });
    const before = await call(ctx.gw.url, '/admin/policy', { key: ADMIN_KEY });
    assert.equal(before.status, 200);
    assert.match(before.json.version, /^1-[0-9a-f]{16}$/);
    const refused = await chat(ctx.gw, key, 'hi', {}, { 'x-traffic-class': 'added-later' });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.json.error.code, 'unknown_traffic_class');

    const policy = testPolicy(ctx.sim.url);
    policy.classes['added-later'] = { criticality: 'standard', route: ['standard-1'] };
    const put = await putPolicy(policy);
    assert.equal(put.status, 200, put.text);
    assert.match(put.json.version, /^2-[0-9a-f]{16}$/);
    assert.deepEqual(put.json.changes.classes, { added: ['added-later'], removed: [], changed: [] });

    const served = await chat(ctx.gw, key, 'hi', {}, { 'x-traffic-class': 'added-later' });
    assert.equal(served.status, 200, served.text);
    assert.equal(served.headers.get('x-llm-model'), 'standard-1');
    assert.equal(served.headers.get('x-llm-policy-version'), put.json.version);
    const record = ctx.gw.records.find((r) => r.requestId === served.headers.get('x-llm-request-id'));
    assert.equal(record?.policyVersion, put.json.version);

    const effective = await call(ctx.gw.url, '/admin/policy', { key: ADMIN_KEY });
    assert.equal(effective.json.version, put.json.version);
    assert.equal(effective.json.classes['added-later'].retriesPerTarget, 1, 'defaults filled in');
    const health = await call(ctx.gw.url, '/health');
    assert.equal(health.json.details['llm-router'].policyVersion, put.json.version);

    const history = await call(ctx.gw.url, '/admin/policy/history', { key: ADMIN_KEY });
    assert.equal(history.status, 200, history.text);
    assert.equal(history.json.current, put.json.version);
    const [latest, first] = history.json.data;
    assert.deepEqual([latest.seq, latest.source, latest.actor], [2, 'admin', 'admin']);
    assert.deepEqual(latest.changes.classes.added, ['added-later']);
    assert.deepEqual([first.seq, first.source], [1, 'start-up']);
    assert.ok(!Number.isNaN(Date.parse(latest.appliedAt)));

    // The same content again is no new version.
    const again = await putPolicy(policy);
    assert.deepEqual([again.status, again.json.changed, again.json.version], [200, false, put.json.version]);
  });

  test('YAML, with ${VAR:-default}: a model moved to another class route', async () => {
    const policy = testPolicy(ctx.sim.url) as any;
    policy.providers.oa.baseUrl = policy.providers.oa.baseUrl.replace(/:(\d+)\//, ':${POLICY_TEST_UNSET_PORT:-$1}/');
    policy.classes.general.route = ['premium-b', 'premium-a'];
    const put = await putPolicy(policy, true);
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.json.changes.classes.changed, ['general']);
    const { key } = await createKey(ctx.gw, { tenant: 'reload-yaml' });
    const served = await chat(ctx.gw, key, 'hi');
    assert.equal(served.headers.get('x-llm-model'), 'premium-b');
  });

  test('an invalid candidate changes nothing: every error (schema, reference, environment) in one 400', async () => {
    const { key } = await createKey(ctx.gw, { tenant: 'reload-bad' });
    const current = (await call(ctx.gw.url, '/admin/policy', { key: ADMIN_KEY })).json.version;
    const policy = testPolicy(ctx.sim.url) as any;
    policy.models['premium-a'].contextWindow = 'large';
    policy.classes.general.route = ['premium-a', 'nowhere'];
    policy.providers.an.baseUrl = '${POLICY_TEST_UNSET_URL}';
    const put = await putPolicy(policy);
    assert.equal(put.status, 400, put.text);
    assert.equal(put.json.error.type, 'invalid_request_error');
    assert.equal(put.json.error.code, 'invalid_policy');
    const paths = put.json.error.issues.map((i: { path: string }) => i.path);
    for (const p of ['models.premium-a.contextWindow', 'classes.general.route[1]', 'providers.an.baseUrl']) {
      assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
      assert.ok(put.json.error.message.includes(p), `the message names ${p}`);
    }
    assert.equal((await call(ctx.gw.url, '/admin/policy', { key: ADMIN_KEY })).json.version, current);
    const served = await chat(ctx.gw, key, 'still served');
    assert.equal(served.status, 200, served.text);
    assert.equal(served.headers.get('x-llm-policy-version'), current);

    const notYaml = await call(ctx.gw.url, '/admin/policy', { method: 'PUT', key: ADMIN_KEY, raw: 'classes: [unclosed', headers: { 'content-type': 'application/yaml' } });
    assert.equal(notYaml.status, 400, notYaml.text);
    assert.match(notYaml.json.error.message, /cannot parse/);
    const noKey = await call(ctx.gw.url, '/admin/policy', { method: 'PUT', body: testPolicy(ctx.sim.url) });
    assert.equal(noKey.status, 401);
  });

  test('a candidate removing a class a decorator names is refused with that reason, as at start-up', async () => {
    const current = (await call(ctx.gw.url, '/admin/policy', { key: ADMIN_KEY })).json.version;
    const policy = testPolicy(ctx.sim.url);
    delete policy.classes['support-chat'];
    const put = await putPolicy(policy);
    assert.equal(put.status, 400, put.text);
    assert.match(put.json.error.message, /@TrafficClass on SupportChatController.*unknown traffic class "support-chat"/);
    assert.equal((await call(ctx.gw.url, '/admin/policy', { key: ADMIN_KEY })).json.version, current);
  });

  test('a stream started before a reload finishes under the old policy, and its record says so', async () => {
    const { key } = await createKey(ctx.gw, { tenant: 'reload-stream' });
    const policy = testPolicy(ctx.sim.url);
    policy.classes.general!.route = ['premium-a', 'premium-b'];
    assert.equal((await putPolicy(policy)).status, 200);
    const old = (await call(ctx.gw.url, '/admin/policy', { key: ADMIN_KEY })).json.version;

    const client = new OpenAI({ baseURL: `${ctx.gw.url}/v1`, apiKey: key, maxRetries: 0 });
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'auto', stream: true, messages: [{ role: 'user', content: `a slow stream ${simFault('premium-a', { chunkDelayMs: 150 })}` }] })
      .withResponse();
    assert.equal(response.headers.get('x-llm-policy-version'), old);
    const chunks: string[] = [];
    let reloaded: string | undefined;
    for await (const chunk of stream) {
      chunks.push(chunk.choices[0]?.delta?.content ?? '');
      if (reloaded === undefined) {
        policy.classes.general!.route = ['premium-b'];
        const put = await putPolicy(policy);
        assert.equal(put.status, 200, put.text);
        reloaded = put.json.version as string;
      }
    }
    assert.ok(reloaded !== undefined && reloaded !== old);
    assert.ok(chunks.length > 2, 'the stream went on after the reload');
    const requestId = response.headers.get('x-llm-request-id');
    await until(() => ctx.gw.records.some((r) => r.requestId === requestId), 'the stream record');
    const record = ctx.gw.records.find((r) => r.requestId === requestId)!;
    assert.deepEqual([record.outcome, record.servedBy?.model, record.policyVersion], ['success', 'premium-a', old]);

    const next = await chat(ctx.gw, key, 'after');
    assert.deepEqual([next.headers.get('x-llm-model'), next.headers.get('x-llm-policy-version')], ['premium-b', reloaded]);
  });
});
