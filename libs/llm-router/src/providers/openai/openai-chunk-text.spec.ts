import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ChatCompletionChunk } from '../../chat/chat-completion.types.js';
import { carriesContent } from '../../chat/chunk-content.js';
import { textTokens } from '../../chat/text-tokens.js';
import { UpstreamFailure } from '../../errors/upstream-failure.js';
import type { AdapterTarget, StreamDecoder } from '../provider-adapter.interface.js';
import { OpenAiAdapter } from './openai.adapter.js';
import { PlainChunkFrame, scanChunkText } from './openai-chunk-text.js';

const target: AdapterTarget = { model: 'fast-chat', upstreamModel: 'gpt-4o-mini', basePath: '/v1', headers: {} };
const adapter = new OpenAiAdapter();

const frame = (delta: string, finish = 'null', tail = ',"usage":null') =>
  `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_1","choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}]${tail}}`;
const ROLE = frame('{"role":"assistant","content":"","refusal":null}');

/** What the router reads from a parsed chunk: content tokens of every choice, and whether it carries content (the attempt's own rule). */
function readParsed(chunk: ChatCompletionChunk): { tokens: number; carriesContent: boolean } {
  let tokens = 0;
  for (const choice of chunk.choices) if (choice.delta.content) tokens += textTokens(choice.delta.content);
  return { tokens, carriesContent: carriesContent(chunk) };
}

/** `data` passes `decoder` as text with the JSON, chunk, tokens and content a fresh decoder's parse gives. */
function assertPassesAsParsed(decoder: StreamDecoder, data: string): void {
  const passed = decoder.passThrough?.({ data });
  assert.ok(passed, data);
  const reference = adapter.createStreamDecoder(target);
  const [parsed] = reference.decode({ data });
  assert.equal(passed.json, reference.serialized?.(parsed!), data);
  assert.deepEqual(passed.chunk, parsed);
  assert.deepEqual({ tokens: passed.tokens, carriesContent: passed.carriesContent }, readParsed(parsed!));
}

describe('OpenAI chunks passed on as text', () => {
  it('pass, once a parsed chunk showed the model, with the JSON, chunk, tokens and content the parsed path gives', () => {
    const contents = ['Hello', ' wörld', ' 日本語', 'a \\"quote\\" and a \\\\ backslash', 'line\\nbreak \\u00e9', '{"not":"json"}'.replace(/"/g, '\\"'), ''];
    const chunks = [...contents.map((c) => frame(`{"content":"${c}"}`)), frame('{}', '"stop"'), frame('{"content":null}')];
    const decoder = adapter.createStreamDecoder(target);
    assert.equal(decoder.passThrough?.({ data: chunks[0]! }), undefined, 'a provider that names its model otherwise: nothing passes before a chunk was parsed');
    decoder.decode({ data: ROLE });
    for (const data of chunks) assertPassesAsParsed(decoder, data);
  });

  it("pass from the stream's opening chunk when the provider spells its model as it was asked for (no chunk parsed first)", () => {
    const echoed = (data: string) => data.replace('gpt-4o-mini-2024-07-18', 'gpt-4o-mini');
    const decoder = adapter.createStreamDecoder(target);
    const stream = [ROLE, frame('{"content":"Hello"}'), frame('{"content":" there"}'), frame('{}', '"stop"')].map(echoed);
    for (const data of stream) assertPassesAsParsed(decoder, data);
    // The frame is the first content chunk's, not the opening one's (whose head has the role): later content chunks match it.
    const kept = (decoder as unknown as { frame?: PlainChunkFrame }).frame;
    assert.ok(kept?.heads(stream[2]!), 'the content chunks share the frame');
  });

  it("drops the guessed model at the first plain chunk without it (the parse learns the provider's), and keeps one a parse showed", () => {
    const renamed = adapter.createStreamDecoder(target);
    assert.equal(renamed.passThrough?.({ data: ROLE }), undefined, 'spelled otherwise: parsed');
    // Not tried again before a parse: a chunk that happens to carry the guess is parsed too.
    assert.equal(renamed.passThrough?.({ data: frame('{"content":"Hi"}').replace('gpt-4o-mini-2024-07-18', 'gpt-4o-mini') }), undefined);
    renamed.decode({ data: ROLE });
    assert.ok(renamed.passThrough?.({ data: frame('{"content":"Hi"}') }));

    const confirmed = adapter.createStreamDecoder(target);
    confirmed.decode({ data: frame('{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}').replace('gpt-4o-mini-2024-07-18', 'gpt-4o-mini') });
    assert.equal(confirmed.passThrough?.({ data: frame('{"content":"Hi"}').replace('"model":"gpt-4o-mini-2024-07-18",', '') }), undefined, 'no model: parsed');
    assert.ok(confirmed.passThrough?.({ data: frame('{"content":"Hi"}').replace('gpt-4o-mini-2024-07-18', 'gpt-4o-mini') }), 'the spelling a parse showed is kept');
  });

  it('once a chunk passed, later ones with its head (all before the content), with its tail or another, pass the same', () => {
    const contents = ['Hello', ' wörld', ' 日本語', 'a \\"quote\\" and a \\\\ backslash', 'line\\nbreak \\u00e9', '', '\\"error\\"'];
    const decoder = adapter.createStreamDecoder(target);
    decoder.decode({ data: ROLE });
    const rest = [...contents.map((c) => frame(`{"content":"${c}"}`)), frame('{"content":"last"}', '"stop"'), frame('{"content":"x"}', 'null', ''), frame('{}', '"stop"')];
    for (const data of [frame('{"content":"first"}'), ...rest]) assertPassesAsParsed(decoder, data);
  });

  it('leaves to the parser a usage report, an error, tool calls, another model, other spellings and named events', () => {
    const decoder = adapter.createStreamDecoder(target);
    decoder.decode({ data: ROLE });
    const parsedOnly = [
      frame('{}', 'null', ',"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}'),
      frame('{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}'),
      '{"error":{"message":"overloaded","type":"server_error"}}',
      '{"object":"error","message":"boom","model":"gpt-4o-mini-2024-07-18"}',
      frame('{"content":"Hi"}').replace('gpt-4o-mini-2024-07-18', 'gpt-4o'),
      frame('{"content":"Hi"}').replace('"model":', '"model" : '),
      frame('{"content":"Hi"}').replace('"choices"', '\n"choices"'),
      frame('{"content":"Hi"}').slice(0, -2),
      frame('{"content":"Hi\\u00"}'),
    ];
    for (const data of parsedOnly) assert.equal(decoder.passThrough?.({ data }), undefined, data);
    assert.equal(decoder.passThrough?.({ event: 'error', data: frame('{"content":"Hi"}') }), undefined);
  });

  it('after a frame was kept, leaves to the parser a chunk with its head whose rest has usage, an error, tool calls, a second choice or content, a line break, or no end', () => {
    const decoder = adapter.createStreamDecoder(target);
    decoder.decode({ data: ROLE });
    assert.ok(decoder.passThrough?.({ data: frame('{"content":"first"}') }), 'the frame is kept from this one');
    const usage = ',"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}';
    const parsedOnly = [
      frame('{"content":"Hi"}', 'null', usage),
      frame('{"content":""}', 'null', usage),
      frame('{"content":"Hi","tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}'),
      frame('{"content":"Hi"}', 'null', ',"error":{"message":"overloaded"}'),
      frame('{"content":"Hi"}', 'null', ',"error":null'),
      frame('{"content":"Hi","tool_calls":[],"x":"y"}'),
      frame('{"content":"Hi\rthere"}'),
      frame('{"content":"Hi\nthere"}'),
      frame('{"content":"Hi"}').replace('}]', '},{"index":1,"delta":{"content":"x"}}]'),
      frame('{"content":"Hi"}').replace('"logprobs":null', '"logprobs":{"content":"x"}'),
      frame('{"content":"Hi"}').replace('"logprobs"', '\n"logprobs"'),
      frame('{"content":"Hi"}').replace('"logprobs"', '\r"logprobs"'),
      frame('{"content":"Hi"}').slice(0, -1),
      frame('{"content":"Hi\\u00"}'),
    ];
    for (const data of parsedOnly) assert.equal(decoder.passThrough?.({ data }), undefined, data);
  });

  it('finds the content, and a finish reason without content; leaves a second choice to the parser', () => {
    const two = '{"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"ab"}},{"index":1,"delta":{"content":"cdef"}}]}';
    assert.equal(scanChunkText(two), undefined);
    assert.equal(scanChunkText(two.replace(',{"index":1,"delta":{"content":"cdef"}}', '')), textTokens('ab'));
    assert.equal(scanChunkText(ROLE), 0);
    const decoder = adapter.createStreamDecoder(target);
    decoder.decode({ data: ROLE });
    assert.equal(decoder.passThrough?.({ data: frame('{}', '"length"') })?.carriesContent, true);
    assert.equal(decoder.passThrough?.({ data: frame('{}') })?.carriesContent, false);
    assert.equal(decoder.passThrough?.({ data: frame('{}', '"stop"').replace('"finish_reason":', '"finish_reason" :') })?.carriesContent, true);
  });

  it('leaves to the parser usage and content spelled with spaces', () => {
    assert.equal(scanChunkText(frame('{}', 'null', ',"usage" : {"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}')), undefined);
    assert.equal(scanChunkText(frame('{"content": "Hi"}')), undefined);
    assert.equal(scanChunkText(frame('{"content" :"Hi"}')), undefined);
  });

  it('a chunk passed as text that is read and has no choices fails as the parsed path does (the upstream broke its protocol)', () => {
    const decoder = adapter.createStreamDecoder(target);
    decoder.decode({ data: ROLE });
    const passed = decoder.passThrough?.({ data: '{"id":"chatcmpl-1","model":"gpt-4o-mini-2024-07-18","notice":"no choices"}' });
    assert.ok(passed, 'scanned as plain text');
    assert.throws(() => passed.carriesContent, (err: unknown) => err instanceof UpstreamFailure && err.code === 'invalid_stream_event' && /without a `choices` array/.test(err.message));
  });

  it('throws the parser\'s failure when a chunk passed as text is read and is not JSON', () => {
    const decoder = adapter.createStreamDecoder(target);
    decoder.decode({ data: ROLE });
    const passed = decoder.passThrough?.({ data: frame('{"content":"Hi"}').replace('"index":0,', '"index":0,,') });
    assert.ok(passed);
    assert.throws(() => passed.chunk, (err: unknown) => err instanceof UpstreamFailure && err.code === 'invalid_stream_event');
  });
});

/**
 * The heap a frame holds, after full collections: `count` frames, each of the chunk at the start of `readOf(i)` (cut from
 * it as the SSE decoder cuts it). Made once unmeasured first: the first hot run also grows the heap by V8's code and
 * feedback for it (~45 B a frame).
 */
function heapPerFrame(count: number, readOf: (i: number) => string): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const make = () =>
    Array.from({ length: count }, (_, i) => {
      const read = readOf(i);
      return PlainChunkFrame.of(read.slice(6, read.indexOf('\n')), '"model":"gpt-4o-mini-2024-07-18"', '"model":"fast-chat"');
    });
  make();
  gc();
  const before = process.memoryUsage().heapUsed;
  const frames = make();
  gc();
  const perFrame = (process.memoryUsage().heapUsed - before) / count;
  assert.equal(frames.filter((f) => f !== undefined).length, count);
  return perFrame;
}

describe('a plain chunk frame', () => {
  it('keeps its own text, not the network read its chunk was cut from (a frame lives as long as its stream)', () => {
    const chunk = frame('{"content":"Hi"}');
    // One read with the chunk and 20 kB of later events, the chunk's text a slice of it (as the SSE decoder cuts it).
    const perFrame = heapPerFrame(500, (i) => `data: ${chunk}\n\n${'x'.repeat(20_000)}${i}`);
    // Holding the reads: ~20 kB a frame; its own three strings: well under 2 kB.
    assert.ok(perFrame < 4_000, `${Math.round(perFrame)} B per frame`);
  });

  it('keeps its strings whole, not as slices of copies (three per open stream)', () => {
    const chunk = JSON.stringify({ id: 'chatcmpl-01a25260576e7860acf18a847d454622', object: 'chat.completion.chunk', created: 1765142375, model: 'gpt-4o-mini-2024-07-18', choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }] });
    const perFrame = heapPerFrame(5_000, (i) => `data: ${chunk}\n\n${i}`);
    // Node 20: ~491 B a frame with whole strings (the frame, its strings' text of ~360 characters); ~587 as slices of copies.
    assert.ok(perFrame < 540, `${Math.round(perFrame)} B per frame`);
  });
});
