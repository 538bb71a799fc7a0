/**
 * OpenAI's newer tool shapes through the gateway, with the official `openai`
 * client: custom (free-form) tools, custom tool calls in the conversation, and
 * `allowed_tools`. A request with a custom tool (offered, or called earlier)
 * needs the `custom_tools` capability, so a route skips the models without it
 * (an Anthropic model cannot have it) before any upstream call; `allowed_tools`
 * reaches an Anthropic model as the allowed tools alone.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import OpenAI from 'openai';
import { fastClass } from './support/policy.js';
import { gatewayPolicy, startGateway, type TestGateway } from './support/gateway.js';
import { callsByModel, resetSim, startSim, type SimulatorHandle } from './support/sim.js';

let sim: SimulatorHandle;
let gw: TestGateway;
let client: OpenAI;

const PATCH_TOOL: OpenAI.ChatCompletionCustomTool = {
  type: 'custom',
  custom: { name: 'apply_patch', description: 'Applies a patch', format: { type: 'grammar', grammar: { syntax: 'lark', definition: 'start: /.+/' } } },
};
const LOOKUP_TOOL: OpenAI.ChatCompletionFunctionTool = { type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } };
const SEARCH_TOOL: OpenAI.ChatCompletionFunctionTool = { type: 'function', function: { name: 'search', parameters: { type: 'object' } } };

before(async () => {
  sim = await startSim();
  const policy = gatewayPolicy(sim.url, {
    // The Anthropic model first: a request with a custom tool must skip it.
    general: fastClass('standard', ['ant-premium', 'oai-premium']),
    'no-custom': fastClass('standard', ['ant-premium']),
  });
  const oai = policy.models['oai-premium']!;
  policy.models['oai-premium'] = { ...oai, capabilities: [...(oai.capabilities ?? []), 'custom_tools'] };
  gw = await startGateway(policy);
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'test', maxRetries: 0 });
});
after(async () => {
  await gw.close();
  await sim.close();
});
beforeEach(() => resetSim(sim));

test('a custom tool: routed past the model without custom_tools, the custom call comes back as OpenAI sends it', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: 'auto', messages: [{ role: 'user', content: 'fix the bug' }], tools: [PATCH_TOOL, LOOKUP_TOOL], tool_choice: { type: 'custom', custom: { name: 'apply_patch' } } })
    .withResponse();
  const call = data.choices[0]!.message.tool_calls![0]!;
  assert.equal(call.type, 'custom');
  assert.deepEqual(call.type === 'custom' && call.custom, { name: 'apply_patch', input: 'fix the bug' });
  assert.equal(data.choices[0]!.finish_reason, 'tool_calls');
  assert.equal(response.headers.get('x-llm-model'), 'oai-premium');
  assert.deepEqual(callsByModel(sim), { 'oai-premium': 1 });
  const record = gw.records.at(-1)!;
  assert.deepEqual(record.excluded, [{ model: 'ant-premium', reason: 'lacks the "custom_tools" capability required by the request' }]);
});

test('a custom tool, streamed: the custom call arrives as deltas of its own kind, through the SDK', async () => {
  const stream = await client.chat.completions.create({
    model: 'auto',
    messages: [{ role: 'user', content: 'patch it in pieces please' }],
    tools: [PATCH_TOOL],
    stream: true,
  });
  let input = '';
  let type: string | undefined;
  let name = '';
  let finish: string | null | undefined;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    for (const delta of (choice?.delta.tool_calls ?? []) as Array<{ type?: string; custom?: { name?: string; input?: string } }>) {
      type ??= delta.type;
      name += delta.custom?.name ?? '';
      input += delta.custom?.input ?? '';
    }
    finish ??= choice?.finish_reason;
  }
  assert.equal(type, 'custom');
  assert.equal(name, 'apply_patch');
  assert.equal(input, 'patch it in pieces please');
  assert.equal(finish, 'tool_calls');
  assert.deepEqual(callsByModel(sim), { 'oai-premium': 1 });
});

test('a custom tool called earlier in the conversation: the next turn needs custom_tools too', async () => {
  const data = await client.chat.completions.create({
    model: 'auto',
    messages: [
      { role: 'user', content: 'fix the bug' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'custom', custom: { name: 'apply_patch', input: '*** Begin Patch' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'patched' },
    ],
  });
  assert.equal(data.choices[0]!.message.content, 'Tool said: patched');
  assert.deepEqual(callsByModel(sim), { 'oai-premium': 1 });
});

test('allowed_tools on an Anthropic model: only the allowed tools are sent, and "required" makes a call', async () => {
  const data = await client.chat.completions.create({
    model: 'auto',
    messages: [{ role: 'user', content: 'find it' }],
    tools: [LOOKUP_TOOL, SEARCH_TOOL],
    tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'search' } }] } },
  });
  const call = data.choices[0]!.message.tool_calls![0]!;
  assert.equal(call.type === 'function' && call.function.name, 'search');
  assert.deepEqual(callsByModel(sim), { 'ant-premium': 1 });
});

test('a custom tool on a route where no model has custom_tools: 422 quality_floor_unmet naming it, no upstream call', async () => {
  const err = await client.chat.completions
    .create({ model: 'auto', messages: [{ role: 'user', content: 'fix' }], tools: [PATCH_TOOL] }, { headers: { 'x-traffic-class': 'no-custom' } })
    .then(
      () => assert.fail('expected a 422'),
      (e: unknown) => e,
    );
  assert.ok(err instanceof OpenAI.APIError, String(err));
  assert.equal(err.status, 422);
  assert.equal(err.code, 'quality_floor_unmet');
  assert.match(err.message, /ant-premium \(lacks the "custom_tools" capability required by the request\)/);
  assert.equal(sim.stats().requests, 0);
});

test('a malformed custom tool or allowed_tools, or the deprecated function-calling form: 400 in the OpenAI error shape naming the field, no upstream call', async () => {
  for (const [body, param] of [
    [{ tools: [{ type: 'custom', custom: { description: 'no name' } }] }, 'tools[0].custom.name'],
    [{ tools: [LOOKUP_TOOL], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'sometimes', tools: [{ type: 'function', function: { name: 'lookup' } }] } } }, 'tool_choice'],
    // The deprecated function-calling form: refused, not passed on to a provider that may or may not read it.
    [{ functions: [{ name: 'lookup', parameters: { type: 'object' } }] }, 'functions'],
    [{ function_call: { name: 'lookup' } }, 'function_call'],
    [{ messages: [{ role: 'user', content: 'x' }, { role: 'function', name: 'lookup', content: '{}' }] }, 'messages[1]'],
  ] as const) {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }], ...body }),
    });
    const json = (await res.json()) as { error: { code: string; param: string; message: string } };
    assert.equal(res.status, 400, JSON.stringify(json));
    assert.equal(json.error.code, 'invalid_value', JSON.stringify(json));
    assert.ok(json.error.param.startsWith(param), `${json.error.param} for ${JSON.stringify(body)}`);
    assert.match(json.error.message, new RegExp(`^Invalid value for '${param.replace(/[[\]]/g, '\\$&')}`), json.error.message);
  }
  assert.equal(sim.stats().requests, 0);
});
