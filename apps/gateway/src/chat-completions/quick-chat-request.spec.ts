import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatCompletionRequestSchema } from './chat-completion-request.schema.js';
import { quickChatRequest } from './quick-chat-request.js';

/** The schema's output without its top-level nulls (what parseChatRequest returns), or undefined when it refuses. */
function bySchema(body: unknown): Record<string, unknown> | undefined {
  const parsed = chatCompletionRequestSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const out = parsed.data as Record<string, unknown>;
  for (const key of Object.keys(out)) if (out[key] === null) delete out[key];
  return out;
}

/** Equal as JSON text: the same values and the same key order at every level. Whether the quick check vouched (neither changes `body`). */
function assertSameAsSchema(body: Record<string, unknown>, label: string): boolean {
  const quick = quickChatRequest(body);
  if (quick === undefined) return false;
  const expected = bySchema(body);
  assert.notEqual(expected, undefined, `${label}: the quick check accepted what the schema refuses: ${JSON.stringify(body)}`);
  assert.equal(JSON.stringify(quick), JSON.stringify(expected), label);
  assert.deepEqual(quick, expected, label);
  return true;
}

const VALID: Record<string, unknown>[] = [
  { model: 'auto', messages: [{ role: 'user', content: 'hi' }], max_tokens: 64 },
  { messages: [{ content: 'hi', role: 'user', extra: 1 }], zz: { a: 1 }, model: 'gpt', stream: true, stream_options: { include_usage: true, other: 2 } },
  {
    messages: [
      { role: 'system', content: 'be brief', name: 'sys' },
      { role: 'developer', content: [{ text: 'a', type: 'text', junk: true }] },
      { role: 'user', content: [{ type: 'text', text: 'look' }, { image_url: { detail: 'low', url: 'https://x/y.png', more: 1 }, type: 'image_url' }] },
      { role: 'assistant', content: null, tool_calls: [{ function: { arguments: '{}', name: 'f', x: 1 }, id: 'call_1', type: 'function' }], reasoning_content: 'r', thinking_blocks: [{ t: 1 }], reasoning_details: null },
      { tool_call_id: 'call_1', role: 'tool', content: 'result' },
      { role: 'assistant', content: 'ok', reasoning_details: [{ d: 1 }], thinking_blocks: null, reasoning_content: null },
    ],
    temperature: 0.2,
    top_p: 1,
    max_completion_tokens: 10,
    stop: ['a', 'b'],
    user: 'u',
    seed: -5,
    n: 1,
    presence_penalty: -2,
    frequency_penalty: 2,
    logprobs: false,
    top_logprobs: 20,
    parallel_tool_calls: true,
    reasoning_effort: 'low',
    service_tier: 'auto',
    store: false,
    custom: null,
  },
  { messages: [{ role: 'user', content: 'x' }], temperature: null, top_p: null, max_tokens: null, stop: null, stream: null, stream_options: null, seed: null, n: null, store: null },
  { messages: [{ role: 'user', content: 'x' }], stop: 'END', stream_options: {} },
  { messages: [{ role: 'user', content: [] }], tools: [{ type: 'function', function: { name: 'f' } }] },
  { messages: [{ role: 'user', content: 'x' }], metadata: { a: 'b' }, logit_bias: { '5': 1 }, response_format: { type: 'text' }, tool_choice: 'auto' },
];

test('quickChatRequest: the schema\'s output (less top-level nulls), key order included, for the common requests', () => {
  for (const [i, body] of VALID.entries()) assertSameAsSchema(body, `body ${i}`);
  assert.notEqual(quickChatRequest(structuredClone(VALID[0]!)), undefined);
  assert.notEqual(quickChatRequest(structuredClone(VALID[2]!)), undefined, 'every common field is vouched for');
});

test('quickChatRequest: leaves tools, tool_choice, response_format, logit_bias, metadata and __proto__ to the schema', () => {
  for (const body of [VALID[5]!, VALID[6]!, JSON.parse('{"messages":[{"role":"user","content":"x"}],"__proto__":{"a":1}}') as Record<string, unknown>]) {
    assert.equal(quickChatRequest(body), undefined, JSON.stringify(body));
  }
});

/** Values at and around every bound and type the schema checks. */
const VALUES: unknown[] = [null, true, false, 0, -0, 1, -1, 1.5, 2, 2.5, -2.5, 20, 21, 100, 2 ** 53, -(2 ** 53), '', 'x', 'auto', 'low', 'text', 'image_url', 'function', 'user', 'assistant', 'tool', 'system', 'developer', 'bogus', [], ['a'], ['a', 'b', 'c', 'd', 'e'], [1], {}, { type: 'text', text: 'x' }, { type: 'text' }, { type: 'image_url', image_url: { url: '' } }, { type: 'image_url', image_url: { url: 'u', detail: 'bogus' } }, { include_usage: 'yes' }, { include_usage: false }, { id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }, { id: 'c', type: 'function', function: { name: 'f' } }, { role: 'user', content: 'y' }, { role: 'tool', content: 'y' }, { role: 'assistant' }];
/** Every key the schema names at any level, and one it does not. */
const NAMES = ['role', 'content', 'name', 'tool_calls', 'tool_call_id', 'thinking_blocks', 'reasoning_content', 'reasoning_details', 'type', 'text', 'image_url', 'url', 'detail', 'id', 'function', 'arguments', 'include_usage', 'model', 'messages', 'temperature', 'top_p', 'max_tokens', 'max_completion_tokens', 'stop', 'stream', 'stream_options', 'user', 'seed', 'n', 'presence_penalty', 'frequency_penalty', 'logprobs', 'top_logprobs', 'parallel_tool_calls', 'reasoning_effort', 'service_tier', 'store', 'other'];

/** Every object and array inside `node`, itself included. */
function containers(node: unknown, out: unknown[] = []): unknown[] {
  if (typeof node !== 'object' || node === null) return out;
  out.push(node);
  for (const v of Object.values(node)) containers(v, out);
  return out;
}

test('quickChatRequest: the schema\'s answer for every single change (each key at each level: each value, or removed)', () => {
  let vouched = 0;
  let cases = 0;
  for (const base of VALID.slice(0, 5)) {
    const inBase = containers(base);
    for (let c = 0; c < inBase.length; c++) {
      const container = inBase[c] as object;
      // An array: its first element changed or removed, or one more appended (JSON has no holes).
      const keys = Array.isArray(container) ? [0, container.length] : [...new Set([...Object.keys(container), ...NAMES])];
      for (const key of keys) {
        for (let v = -1; v < VALUES.length; v++) {
          const body = structuredClone(base);
          const target = containers(body)[c] as Record<string | number, unknown>;
          if (v >= 0) target[key] = structuredClone(VALUES[v]);
          else if (!Array.isArray(target)) delete target[key];
          else target.splice(key as number, 1);
          cases++;
          if (assertSameAsSchema(body, `change ${cases}`)) vouched++;
        }
      }
    }
  }
  assert.ok(vouched > cases / 10 && vouched < cases, `vouched for ${vouched} of ${cases}`);
});

test('quickChatRequest: never accepts what the schema refuses, nor differs from it, on mutated bodies', () => {
  // A small deterministic generator (no Math.random: a failure must reproduce).
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pick = () => structuredClone(VALUES[rand(VALUES.length)]);
  /** Replaces, adds or removes one value somewhere in `node`. */
  const mutate = (node: unknown): void => {
    if (Array.isArray(node)) {
      if (node.length > 0 && rand(3) > 0) {
        const i = rand(node.length);
        if (rand(3) === 0 || node[i] === null || typeof node[i] !== 'object') node[i] = pick();
        else mutate(node[i]);
      } else if (rand(2) === 0) node.push(pick());
      else node.pop();
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const obj = node as Record<string, unknown>;
    const keys = Object.keys(obj);
    const r = rand(6);
    if (keys.length === 0 || r === 0) {
      obj[NAMES[rand(NAMES.length)]!] = pick();
    } else if (r === 1) delete obj[keys[rand(keys.length)]!];
    else {
      const k = keys[rand(keys.length)]!;
      if (rand(3) === 0 || obj[k] === null || typeof obj[k] !== 'object') obj[k] = pick();
      else mutate(obj[k]);
    }
  };
  let vouched = 0;
  for (let i = 0; i < 20_000; i++) {
    const body = structuredClone(VALID[rand(5)]!);
    for (let m = 1 + rand(3); m > 0; m--) mutate(body);
    if (assertSameAsSchema(body, `mutation ${i}`)) vouched++;
  }
  // The generator must reach both sides, or it proves nothing.
  assert.ok(vouched > 2_000 && vouched < 18_000, `vouched for ${vouched} of 20000`);
});
