/**
 * OpenAI parameters reach an OpenAI-compatible provider as the client sent
 * them: the official `openai` client, the gateway with API keys, and a real
 * HTTP server on loopback standing in for the provider and recording each
 * body it receives. Penalties, logprobs, `parallel_tool_calls`,
 * `reasoning_effort`, `metadata` and a vendor parameter the gateway does not
 * know (`top_k`) all arrive; explicit nulls are left out.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import OpenAI from 'openai';
import { createGateway } from '../apps/gateway/src/index.js';
import { ADMIN_KEY, createKey, testPolicy } from './gateway-support/harness.js';

let upstream: Server;
let app: NestFastifyApplication;
let client: OpenAI;
const received: Record<string, unknown>[] = [];

const completion = (model: string) => ({
  id: 'chatcmpl-params',
  object: 'chat.completion',
  created: 1_764_000_000,
  model,
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
});

before(async () => {
  upstream = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      received.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion(String(body.model))));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  // The test policy's OpenAI-format provider on this server (whatever the path): premium-a is `up-premium-a` there.
  const policy = testPolicy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
  app = await createGateway({
    router: { policy },
    logger: false,
    auth: 'api-keys',
    adminKey: ADMIN_KEY,
  });
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const key = await createKey({ url }, { tenant: 'params', name: 'params' });
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: key.key, maxRetries: 0 });
});
after(async () => {
  await app?.close();
  upstream?.closeAllConnections();
  await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
});
beforeEach(() => {
  received.length = 0;
});

test('sampling, logprob, tool, reasoning and service parameters arrive as sent', async () => {
  const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];
  const sent = {
    presence_penalty: 0.4,
    frequency_penalty: -0.3,
    logit_bias: { '1734': -100 },
    logprobs: true,
    top_logprobs: 3,
    parallel_tool_calls: false,
    reasoning_effort: 'low' as const,
    service_tier: 'flex' as const,
    metadata: { run: 'nightly' },
    store: false,
    seed: 42,
  };
  const answer = await client.chat.completions.create({ model: 'premium-a', messages: [{ role: 'user', content: 'hi' }], tools, ...sent });
  assert.equal(answer.choices[0]!.message.content, 'ok');
  assert.equal(received.length, 1);
  const body = received[0]!;
  assert.equal(body.model, 'up-premium-a');
  for (const [param, value] of Object.entries(sent)) assert.deepEqual(body[param], value, param);
});

test('a parameter the gateway does not know reaches the provider unchanged; explicit nulls do not', async () => {
  const params = { model: 'premium-a', messages: [{ role: 'user' as const, content: 'hi' }], top_k: 40, repetition_penalty: 1.1, presence_penalty: null };
  await client.chat.completions.create(params as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming);
  const body = received[0]!;
  assert.equal(body.top_k, 40);
  assert.equal(body.repetition_penalty, 1.1);
  assert.equal('presence_penalty' in body, false);
});
