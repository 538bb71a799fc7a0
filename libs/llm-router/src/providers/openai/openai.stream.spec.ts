import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatCompletionChunk } from '../../chat/chat-completion.types.js';
import { UpstreamFailure } from '../../errors/upstream-failure.js';
import type { AdapterTarget, StreamDecoder } from '../provider-adapter.interface.js';
import { sseEvents } from '../../testing/sse-events.spec-helper.js';
import { OpenAiAdapter } from './openai.adapter.js';

const target: AdapterTarget = { model: 'fast-chat', upstreamModel: 'gpt-4o-mini', basePath: '/v1', headers: {} };
const adapter = new OpenAiAdapter();

/** A stream as OpenAI sends it with stream_options.include_usage: a tool call, then the usage chunk, then [DONE]. */
const OPENAI_TOOL_STREAM = [
  'data: {"id":"chatcmpl-AZ1","object":"chat.completion.chunk","created":1733000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","type":"function","function":{"name":"get_weather","arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}',
  'data: {"id":"chatcmpl-AZ1","object":"chat.completion.chunk","created":1733000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\""}}]},"logprobs":null,"finish_reason":null}],"usage":null}',
  'data: {"id":"chatcmpl-AZ1","object":"chat.completion.chunk","created":1733000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"location"}}]},"logprobs":null,"finish_reason":null}],"usage":null}',
  'data: {"id":"chatcmpl-AZ1","object":"chat.completion.chunk","created":1733000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\\":\\"Paris, France\\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}',
  'data: {"id":"chatcmpl-AZ1","object":"chat.completion.chunk","created":1733000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}',
  'data: {"id":"chatcmpl-AZ1","object":"chat.completion.chunk","created":1733000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[],"usage":{"prompt_tokens":57,"completion_tokens":17,"total_tokens":74,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}',
  'data: [DONE]',
]
  .map((line) => `${line}\n\n`)
  .join('');

function decodeAll(text: string): { chunks: ChatCompletionChunk[]; decoder: StreamDecoder } {
  const decoder = adapter.createStreamDecoder(target);
  const chunks = sseEvents(text).flatMap((e) => decoder.decode(e));
  return { chunks, decoder };
}

describe('OpenAI stream decoder', () => {
  it("reuses the provider's text, with the model rewritten, as the chunk's JSON", () => {
    // Asked as the router asks: right after each decode, for the chunks it returned.
      const decoder = adapter.createStreamDecoder(target);
    const serialized = sseEvents(OPENAI_TOOL_STREAM).flatMap((e) => decoder.decode(e).map((chunk) => ({ chunk, json: decoder.serialized?.(chunk) })));
    assert.ok(serialized.length > 0);
    for (const { chunk, json } of serialized) {
      assert.ok(json !== undefined);
      assert.deepEqual(JSON.parse(json), chunk);
      assert.ok(json.includes('"model":"fast-chat"') && !json.includes('gpt-4o-mini'));
    }
  });

  it('lets go of a chunk and its text once asked for them: a stream whose content passes as text does not hold its opening chunk', () => {
    const decoder = adapter.createStreamDecoder(target);
    const [opening] = decoder.decode(sseEvents('data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n')[0]!);
    assert.ok(decoder.serialized?.(opening!)?.includes('"model":"fast-chat"'));
    assert.equal(decoder.serialized?.(opening!), undefined);
  });

  it('rewrites only the top-level model: a vendor field named like it stays as the provider sent it', () => {
    /** What the client gets for one event: the text passed through, else the parsed chunk's own text or its JSON. */
    const sent = (data: string): Record<string, unknown> => {
      const decoder = adapter.createStreamDecoder(target);
      const passed = decoder.passThrough?.({ data });
      if (passed !== undefined) return JSON.parse(passed.json) as Record<string, unknown>;
      const [chunk] = decoder.decode({ data });
      return JSON.parse(decoder.serialized?.(chunk!) ?? JSON.stringify(chunk)) as Record<string, unknown>;
    };
    const choices = '"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]';
    // A dated spelling at the top level, the name we asked for in a vendor's object after it.
    const dated = sent(`{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18",${choices},"meta":{"model":"gpt-4o-mini"}}`);
    assert.deepEqual([dated.model, dated.meta], ['fast-chat', { model: 'gpt-4o-mini' }]);
    // No top-level model, the name we asked for in a vendor's object.
    const nested = sent(`{"id":"c1","object":"chat.completion.chunk",${choices},"x_provider":{"model":"gpt-4o-mini"}}`);
    assert.deepEqual([nested.model, nested.x_provider], ['fast-chat', { model: 'gpt-4o-mini' }]);
    // The vendor's object first, the top-level model after it.
    const first = sent(`{"id":"c1","x_provider":{"model":"gpt-4o-mini"},"model":"gpt-4o-mini",${choices}}`);
    assert.deepEqual([first.model, first.x_provider], ['fast-chat', { model: 'gpt-4o-mini' }]);
  });

  it('re-serializes a chunk spelled otherwise: spaces around the model, or data over several lines', () => {
    const spaced = decodeAll('data: {"id":"c1","object":"chat.completion.chunk","model" : "gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\ndata: [DONE]\n\n');
    assert.equal(spaced.chunks.length, 1);
    assert.equal(spaced.decoder.serialized?.(spaced.chunks[0]!), undefined);
    assert.equal(spaced.chunks[0]!.model, 'fast-chat');
    const multiLine = decodeAll('data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini",\ndata: "choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\ndata: [DONE]\n\n');
    assert.equal(multiLine.chunks.length, 1);
    assert.equal(multiLine.decoder.serialized?.(multiLine.chunks[0]!), undefined);
  });

  it('passes chunks through with the catalog model, records usage, finishes on [DONE]', () => {
    const { chunks, decoder } = decodeAll(OPENAI_TOOL_STREAM);
    assert.equal(chunks.length, 6);
    assert.ok(chunks.every((c) => c.model === 'fast-chat' && c.id === 'chatcmpl-AZ1'));
    assert.equal(decoder.finished, true);
    assert.deepEqual(
      { p: decoder.usage?.prompt_tokens, c: decoder.usage?.completion_tokens, t: decoder.usage?.total_tokens },
      { p: 57, c: 17, t: 74 },
    );
    // The usage chunk itself still reaches the caller.
    assert.deepEqual(chunks[5].choices, []);
    assert.equal(chunks[5].usage?.total_tokens, 74);
  });

  it('keeps tool-call deltas intact so arguments reassemble', () => {
    const { chunks } = decodeAll(OPENAI_TOOL_STREAM);
    const first = chunks[0].choices[0].delta.tool_calls?.[0];
    assert.deepEqual(first, { index: 0, id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', type: 'function', function: { name: 'get_weather', arguments: '' } });
    const args = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? [])).map((t) => t.function?.arguments ?? '').join('');
    assert.deepEqual(JSON.parse(args), { location: 'Paris, France' });
    assert.equal(chunks[4].choices[0].finish_reason, 'tool_calls');
  });

  it('is not finished and has no usage before [DONE]', () => {
    const decoder = adapter.createStreamDecoder(target);
    decoder.decode({ data: '{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}' });
    assert.equal(decoder.finished, false);
    assert.equal(decoder.usage, undefined);
  });

  it('throws a categorized failure for an error delivered inside a 200 stream', () => {
    const decoder = adapter.createStreamDecoder(target);
    decoder.decode({ data: '{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}' });
    assert.throws(
      () => decoder.decode({ data: '{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}' }),
      (e: unknown) => e instanceof UpstreamFailure && e.category === 'transient' && e.code === 'server_error' && e.status === 200,
    );
  });

  it('categorizes in-stream errors by code and type', () => {
    const cases: Array<[string, string]> = [
      ['{"error":{"message":"Rate limit reached for gpt-4o on tokens per min (TPM)","type":"tokens","param":null,"code":"rate_limit_exceeded"}}', 'rate_limited'],
      ['{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}', 'upstream_quota'],
      ["{\"error\":{\"message\":\"This model's maximum context length is 8192 tokens.\",\"type\":\"invalid_request_error\",\"param\":\"messages\",\"code\":\"context_length_exceeded\"}}", 'context_length'],
      ['{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI\'s content management policy.","type":null,"param":"prompt","code":"content_filter","status":400}}', 'content_filtered'],
      ['{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}', 'provider_misconfigured'],
      ['{"error":{"message":"Invalid value for \'n\'","type":"invalid_request_error","param":"n","code":null}}', 'invalid_request'],
      ['{"error":{"message":"something new"}}', 'transient'],
    ];
    for (const [data, category] of cases) {
      const decoder = adapter.createStreamDecoder(target);
      assert.throws(() => decoder.decode({ data }), (e: unknown) => e instanceof UpstreamFailure && e.category === category, data);
    }
  });

  it('treats `event: error` as an error whatever its payload', () => {
    const decoder = adapter.createStreamDecoder(target);
    assert.throws(
      () => decoder.decode({ event: 'error', data: '{"message":"upstream connect error","type":"server_error"}' }),
      (e: unknown) => e instanceof UpstreamFailure && e.category === 'transient' && e.message === 'upstream connect error',
    );
  });

  it('ignores empty data and throws a transient failure for garbage data', () => {
    const decoder = adapter.createStreamDecoder(target);
    assert.deepEqual(decoder.decode({ event: 'ping', data: '' }), []);
    assert.throws(() => decoder.decode({ data: '{"id":' }), (e: unknown) => e instanceof UpstreamFailure && e.category === 'transient');
  });

  it('a chunk the router cannot read (no choices, a choice or delta not an object, content not a string) is the upstream breaking its protocol: transient, invalid_stream_event, saying what', () => {
    const cases: Array<[data: string, what: RegExp]> = [
      ['{"id":"c","object":"chat.completion.chunk"}', /without a `choices` array/],
      ['{"message":"overloaded","code":529}', /without a `choices` array/],
      ['{"id":"c","choices":null}', /without a `choices` array/],
      ['{"id":"c","choices":[null]}', /a choice that is not an object/],
      ['{"id":"c","choices":[{"index":0,"delta":"hi"}]}', /a delta that is not an object/],
      ['{"id":"c","choices":[{"index":0,"delta":{"content":5}}]}', /delta content that is not a string/],
      ['{"id":"c","choices":[{"index":0,"delta":{"tool_calls":{}}}]}', /delta tool_calls that are not an array/],
      ['not json', /an event that is not JSON/],
    ];
    for (const [data, what] of cases) {
      const decoder = adapter.createStreamDecoder(target);
      assert.throws(
        () => decoder.decode({ data }),
        (e: unknown) => e instanceof UpstreamFailure && e.category === 'transient' && e.code === 'invalid_stream_event' && e.status === 200 && /^upstream broke the stream protocol: /.test(e.message) && what.test(e.message),
        data,
      );
    }
  });

  it("reads a usage report whose choices are null or left out (as OpenAI-compatible servers send it) as OpenAI's choices: [], its usage reported", () => {
    for (const data of [
      '{"id":"c","object":"chat.completion.chunk","model":"m","choices":null,"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}',
      '{"id":"c","object":"chat.completion.chunk","model":"m","usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}',
    ]) {
      const decoder = adapter.createStreamDecoder(target);
      const [chunk] = decoder.decode({ data });
      assert.deepEqual(chunk?.choices, [], data);
      assert.equal(decoder.usage?.total_tokens, 5, data);
    }
    // Without a usage report it is no chunk at all: still the protocol broken (above).
    assert.throws(() => adapter.createStreamDecoder(target).decode({ data: '{"id":"c","choices":null,"usage":null}' }), /without a `choices` array/);
  });

  it('reads a choice without a delta (an Azure content-filter annotation) as an empty one, and passes its text on as sent', () => {
    const decoder = adapter.createStreamDecoder(target);
    const data = '{"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"finish_reason":null,"content_filter_results":{}}]}';
    const [chunk] = decoder.decode({ data });
    assert.deepEqual(chunk!.choices[0]!.delta, {});
    assert.equal(decoder.serialized?.(chunk!), data.replace('"gpt-4o-mini"', '"fast-chat"'));
  });
});
