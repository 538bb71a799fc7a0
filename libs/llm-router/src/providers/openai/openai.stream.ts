import type { ChatCompletionChunk, Usage } from '../../chat/chat-completion.types.js';
import { isObject, safeJsonParse } from '../http-errors.js';
import type { AdapterTarget, StreamDecoder, TextChunk } from '../provider-adapter.interface.js';
import type { SseEvent } from '../sse/sse-decoder.js';
import { checkedChunk, notJsonEvent, OpenAiTextChunk, PlainChunkFrame, scanChunkText } from './openai-chunk-text.js';
import { isOpenAiErrorPayload, openAiInBandFailure } from './openai.errors.js';
import { modelField, rewriteModelField } from './openai-model-field.js';

/**
 * OpenAI chunks pass through untouched except for `model`; the decoder only
 * watches for `[DONE]`, the usage chunk and errors delivered inside the stream.
 * Chunks that a scan finds plain (content, a finish) pass as text, unparsed,
 * with the model spelled as we asked for it (`upstreamModel`) until a parsed
 * chunk shows how the provider spells it: a stream's opening chunk passes too.
 */
export class OpenAiStreamDecoder implements StreamDecoder {
  private done = false;
  private reported: Usage | undefined;
  /** Our `"model":"<id>"`, spliced into the provider's text. */
  private readonly ownField: string;
  /**
   * The provider's `"model":"<id>"`: at first the model we asked for (most providers echo it), then as the last parsed
   * chunk spelled it. Undefined once a plain chunk did not carry the first guess and no parsed chunk showed one.
   */
  private upstreamField: string | undefined;
  /** `upstreamField` is still the guess, not a spelling a parsed chunk showed: dropped the first time a plain chunk lacks it. */
  private guessed = true;
  /**
   * The chunk `decode` returned last and its rewritten text: `serialized` is asked right after, for that chunk, and
   * lets go of both (else a stream whose content passes as text holds its opening chunk for its life).
   */
  private lastChunk: ChatCompletionChunk | undefined;
  private lastText: string | undefined;
  /** The frame of the first chunk with content that passed as text: a later chunk with its head is scanned past it only, and passes as its own head + the rest. */
  private frame: PlainChunkFrame | undefined;
  /** Only the first chunk with content passed as text is asked for a frame: one without a usable frame must not cost a search per chunk. */
  private frameAsked = false;

  constructor(private readonly target: AdapterTarget) {
    this.ownField = modelField(target.model);
    // Guessed, not parsed: the opening chunk (the role) then passes as text too. Measured in the gateway's streamed
    // request (callgrind, main thread): decode 31.3k -> 13.2k instructions, JSON.parse 37.3k -> 21.9k (scan +4.4k).
    this.upstreamField = modelField(target.upstreamModel);
  }

  /** The event's own text with `model` rewritten (see rewriteModelField), if it could be reused. */
  serialized(chunk: ChatCompletionChunk): string | undefined {
    const text = chunk === this.lastChunk ? this.lastText : undefined;
    this.lastChunk = undefined;
    this.lastText = undefined;
    return text;
  }

  get finished(): boolean {
    return this.done;
  }

  get usage(): Usage | undefined {
    return this.reported;
  }

  passThrough(event: SseEvent): TextChunk | undefined {
    const field = this.upstreamField;
    if (field === undefined || event.event !== undefined) return undefined;
    const data = event.data;
    const frame = this.frame;
    if (frame !== undefined && frame.heads(data)) {
      const tokens = frame.scan(data);
      return tokens === undefined ? undefined : new OpenAiTextChunk(frame.ownHead + data.slice(frame.head.length), tokens);
    }
    // Scanned first: a chunk that is not plain text (usage, tool calls) is parsed, and needs no splice.
    const tokens = scanChunkText(data);
    if (tokens === undefined) return undefined;
    const json = rewriteModelField(data, field, this.ownField);
    if (json === undefined) {
      // The provider spells its model otherwise: the parse learns how (and no later chunk is scanned for the guess).
      if (this.guessed) this.upstreamField = undefined;
      return undefined;
    }
    // Asked of a chunk with content: the opening chunk's head (its role) would not frame the content chunks after it.
    if (!this.frameAsked && tokens > 0) {
      this.frameAsked = true;
      this.frame = PlainChunkFrame.of(data, field, this.ownField);
    }
    return new OpenAiTextChunk(json, tokens);
  }

  decode(event: SseEvent): ChatCompletionChunk[] {
    const data = event.data;
    if (data === '[DONE]') {
      this.done = true;
      return [];
    }
    if (data.length === 0) return [];
    const parsed = safeJsonParse(data);
    if (!isObject(parsed)) throw notJsonEvent();
    if (event.event === 'error' || isOpenAiErrorPayload(parsed)) throw openAiInBandFailure(parsed);
    const chunk = checkedChunk(parsed);
    // A multi-line data field would break SSE framing if written back as one line.
    const upstreamModel = parsed.model;
    this.lastChunk = chunk;
    const field = typeof upstreamModel === 'string' && data.indexOf('\n') === -1 && data.indexOf('\r') === -1 ? modelField(upstreamModel) : undefined;
    this.lastText = field === undefined ? undefined : rewriteModelField(data, field, this.ownField);
    if (this.lastText !== undefined) this.guessed = false;
    if (this.lastText !== undefined && field !== this.upstreamField) {
      this.upstreamField = field;
      // A frame taken with another spelling of the model would splice it the old way.
      this.frame = undefined;
      this.frameAsked = false;
    }
    parsed.model = this.target.model;
    if (isObject(parsed.usage)) this.reported = parsed.usage as unknown as Usage;
    return [chunk];
  }
}
