import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatCompletionChunk } from '../../chat/chat-completion.types.js';
import { UpstreamFailure } from '../../errors/upstream-failure.js';
import { AnthropicAdapter } from '../anthropic/anthropic.adapter.js';
import { OpenAiAdapter } from '../openai/openai.adapter.js';
import type { AdapterTarget, ProviderAdapter, StreamDecoder } from '../provider-adapter.interface.js';
import { sseEvents } from '../../testing/sse-events.spec-helper.js';

/**
 * Raw provider streams fed through SseDecoder then the provider's StreamDecoder
 * in arbitrary pieces must decode exactly as when fed whole.
 */

const target: AdapterTarget = { model: 'catalog-model', upstreamModel: 'upstream-model', basePath: '/v1', headers: {} };

function decodePieces(adapter: ProviderAdapter, pieces: string[]): { chunks: ChatCompletionChunk[]; decoder: StreamDecoder } {
  const decoder = adapter.createStreamDecoder(target);
  const chunks = sseEvents(...pieces).flatMap((event) => decoder.decode(event));
  return { chunks, decoder };
}

/** Deterministic pseudo-random split into pieces of 1..maxLen characters. */
function randomPieces(text: string, seed: number, maxLen: number): string[] {
  let state = seed;
  const pieces: string[] = [];
  for (let i = 0; i < text.length; ) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const len = 1 + (state % maxLen);
    pieces.push(text.slice(i, i + len));
    i += len;
  }
  return pieces;
}

/** `created` comes from the Anthropic decoder's clock; compare everything else. */
function timeless(chunks: ChatCompletionChunk[]): ChatCompletionChunk[] {
  return chunks.map((c) => ({ ...c, created: 0 }));
}

function sse(events: Array<[string | undefined, string]>): string {
  return events.map(([event, data]) => `${event === undefined ? '' : `event: ${event}\n`}data: ${data}\n\n`).join('');
}

// OpenAI: text (with multi-byte characters) then two parallel tool calls, usage chunk and [DONE].
const OPENAI_STREAM = sse([
  [undefined, '{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}'],
  [undefined, '{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"Hello 👋 — checking"},"logprobs":null,"finish_reason":null}],"usage":null}'],
  [undefined, '{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null}'],
  [undefined, '{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\": \\"Paris\\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}'],
  [undefined, '{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\": \\"Oslo\\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}'],
  [undefined, '{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}'],
  [undefined, '{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}'],
  [undefined, '[DONE]'],
]);

// Anthropic: the basic streaming example from the docs, plus a tool_use block.
const ANTHROPIC_STREAM = sse([
  ['message_start', '{"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-opus-4-6", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1}}}'],
  ['content_block_start', '{"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}'],
  ['ping', '{"type": "ping"}'],
  ['content_block_delta', '{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}'],
  ['content_block_delta', '{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "! 你好 👋"}}'],
  ['content_block_stop', '{"type": "content_block_stop", "index": 0}'],
  ['content_block_start', '{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}'],
  ['content_block_delta', '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"location\\": \\"San Fra"}}'],
  ['content_block_delta', '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ncisco, CA\\"}"}}'],
  ['content_block_stop', '{"type":"content_block_stop","index":1}'],
  ['message_delta', '{"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence":null}, "usage": {"output_tokens": 15}}'],
  ['message_stop', '{"type": "message_stop"}'],
]);

const PROVIDERS: Array<{ name: string; adapter: ProviderAdapter; stream: string; error: string; errorCode: string; usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } }> = [
  {
    name: 'openai',
    adapter: new OpenAiAdapter(),
    stream: OPENAI_STREAM,
    error: sse([
      [undefined, '{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}'],
      [undefined, '{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}'],
    ]),
    errorCode: 'server_error',
    usage: { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 },
  },
  {
    name: 'anthropic',
    adapter: new AnthropicAdapter(),
    stream: ANTHROPIC_STREAM,
    error: sse([
      ['message_start', '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}'],
      ['content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}'],
      ['error', '{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}'],
    ]),
    errorCode: 'overloaded_error',
    usage: { prompt_tokens: 25, completion_tokens: 15, total_tokens: 40 },
  },
];

for (const provider of PROVIDERS) {
  describe(`${provider.name} stream across arbitrary chunk boundaries`, () => {
    const whole = decodePieces(provider.adapter, [provider.stream]);

    it('decodes whole: finished, usage recorded, content intact', () => {
      assert.equal(whole.decoder.finished, true);
      assert.deepEqual(
        { prompt_tokens: whole.decoder.usage?.prompt_tokens, completion_tokens: whole.decoder.usage?.completion_tokens, total_tokens: whole.decoder.usage?.total_tokens },
        provider.usage,
      );
      assert.ok(whole.chunks.every((c) => c.model === 'catalog-model'));
      const text = whole.chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('');
      assert.match(text, /👋/);
    });

    it('gives the same chunks for every single split point', () => {
      for (let i = 1; i < provider.stream.length; i++) {
        const split = decodePieces(provider.adapter, [provider.stream.slice(0, i), provider.stream.slice(i)]);
        assert.deepEqual(timeless(split.chunks), timeless(whole.chunks), `split at ${i}`);
        assert.equal(split.decoder.finished, true);
      }
    });

    it('gives the same chunks and usage for random chunkings, LF and CRLF', () => {
      const crlf = provider.stream.replace(/\n/g, '\r\n');
      for (let seed = 1; seed <= 60; seed++) {
        for (const text of [provider.stream, crlf]) {
          const split = decodePieces(provider.adapter, randomPieces(text, seed, 1 + (seed % 29)));
          assert.deepEqual(timeless(split.chunks), timeless(whole.chunks), `seed ${seed}`);
          assert.deepEqual(split.decoder.usage, whole.decoder.usage);
          assert.equal(split.decoder.finished, true);
        }
      }
    });

    it('decodes one character at a time', () => {
      assert.deepEqual(timeless(decodePieces(provider.adapter, [...provider.stream]).chunks), timeless(whole.chunks));
    });

    it('is not finished when the stream is cut before its terminal event', () => {
      const terminal = provider.name === 'openai' ? provider.stream.lastIndexOf('data: [DONE]') : provider.stream.lastIndexOf('event: message_stop');
      const cut = decodePieces(provider.adapter, [provider.stream.slice(0, terminal)]);
      assert.equal(cut.decoder.finished, false);
    });

    it('throws the in-stream error wherever its event is split', () => {
      const at = provider.error.lastIndexOf('data: ');
      for (let i = at - 3; i < provider.error.length - 1; i += 7) {
        assert.throws(
          () => decodePieces(provider.adapter, [provider.error.slice(0, i), provider.error.slice(i)]),
          (e: unknown) => e instanceof UpstreamFailure && e.category === 'transient' && e.code === provider.errorCode,
          `split at ${i}`,
        );
      }
    });
  });
}
