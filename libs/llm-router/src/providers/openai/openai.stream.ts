import type { ChatCompletionChunk, Usage } from '../../chat/chat-completion.types.js';
import { UpstreamFailure } from '../../errors/upstream-failure.js';
import { isObject, safeJsonParse } from '../http-errors.js';
import type { AdapterTarget, StreamDecoder } from '../provider-adapter.interface.js';
import type { SseEvent } from '../sse/sse-decoder.js';
import { isOpenAiErrorPayload, openAiInBandFailure } from './openai.errors.js';
import { modelField, rewriteModelField } from './openai-model-field.js';

/**
 * OpenAI chunks pass through untouched except for `model`; the decoder only
 * watches for `[DONE]`, the usage chunk and errors delivered inside the stream.
 */
export class OpenAiStreamDecoder implements StreamDecoder {
  private done = false;
  private reported: Usage | undefined;
  /** Our `"model":"<id>"`, spliced into the provider's text. */
  private readonly ownField: string;
  /** The chunk `decode` returned last and its rewritten text: `serialized` is asked right after, for that chunk. */
  private lastChunk: ChatCompletionChunk | undefined;
  private lastText: string | undefined;

  constructor(private readonly target: AdapterTarget) {
    this.ownField = modelField(target.model);
  }

  /** The event's own text with `model` rewritten (see rewriteModelField), if it could be reused. */
  serialized(chunk: ChatCompletionChunk): string | undefined {
    return chunk === this.lastChunk ? this.lastText : undefined;
  }

  get finished(): boolean {
    return this.done;
  }

  get usage(): Usage | undefined {
    return this.reported;
  }

  decode(event: SseEvent): ChatCompletionChunk[] {
    const data = event.data;
    if (data === '[DONE]') {
      this.done = true;
      return [];
    }
    if (data.length === 0) return [];
    const parsed = safeJsonParse(data);
    if (!isObject(parsed)) {
      throw new UpstreamFailure({ category: 'transient', status: 200, code: 'invalid_stream_event', message: 'upstream sent a stream event that is not JSON' });
    }
    if (event.event === 'error' || isOpenAiErrorPayload(parsed)) throw openAiInBandFailure(parsed);
    // A multi-line data field would break SSE framing if written back as one line.
    const upstreamModel = parsed.model;
    this.lastChunk = parsed as unknown as ChatCompletionChunk;
    this.lastText = typeof upstreamModel === 'string' && data.indexOf('\n') === -1 && data.indexOf('\r') === -1 ? rewriteModelField(data, upstreamModel, this.ownField) : undefined;
    parsed.model = this.target.model;
    if (isObject(parsed.usage)) this.reported = parsed.usage as unknown as Usage;
    return [parsed as unknown as ChatCompletionChunk];
  }
}
