import type { IncomingHttpHeaders } from 'node:http';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, Usage } from '../chat/chat-completion.types.js';
import type { UpstreamFailure } from '../errors/upstream-failure.js';
import type { ProviderKind } from '../policy/policy.schema.js';
import type { SseEvent } from './sse/sse-decoder.js';

/** What an adapter needs to know about the target of one attempt. */
export interface AdapterTarget {
  /** The catalog name callers use; reported back as `model`. */
  readonly model: string;
  /** The provider's own model id. */
  readonly upstreamModel: string;
  /** Base URL path prefix, e.g. `/v1` from `https://api.openai.com/v1`. */
  readonly basePath: string;
  readonly apiKey?: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface UpstreamRequest {
  readonly path: string;
  /** May be shared by every request to the target: not to be changed. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * An OpenAI-format chunk passed on as text: what the router reads from it was
 * found in the text, and it is parsed only if something reads `chunk`.
 */
export interface TextChunk {
  /** Tells it from a parsed chunk among an attempt's outputs (it is one as it is, unwrapped). */
  readonly type: 'text';
  /** The chunk as OpenAI JSON: the provider's text with `model` rewritten. */
  readonly json: string;
  /** Estimated tokens of its content (textTokens), counted when no usage is reported. */
  readonly tokens: number;
  /** Content or a finish reason: from this chunk on the caller holds this model's answer. */
  readonly carriesContent: boolean;
  /** The chunk parsed, on first read; throws an UpstreamFailure if it is not JSON. */
  readonly chunk: ChatCompletionChunk;
}

/** Stateful translation of one upstream stream into OpenAI chunks. */
export interface StreamDecoder {
  /** Translate one SSE event; throws an UpstreamFailure for an error delivered inside the stream. */
  decode(event: SseEvent): ChatCompletionChunk[];
  /**
   * The event as one chunk kept as text, when a scan of it finds nothing the
   * router must parse it for (usage, an error, tool calls); undefined, and the
   * event is left to `decode`, otherwise. Saves a JSON.parse per chunk.
   */
  passThrough?(event: SseEvent): TextChunk | undefined;
  /**
   * A chunk this decoder returned, already serialized as OpenAI JSON, when the
   * provider's own text could be reused: saves a JSON.stringify per chunk.
   * Asked right after `decode`, once per chunk it returned: a decoder may
   * answer only for those, and only once (it need not keep the text after).
   */
  serialized?(chunk: ChatCompletionChunk): string | undefined;
  /** True once the provider's terminal event arrived (`[DONE]`, `message_stop`). */
  readonly finished: boolean;
  /** Usage reported by the provider in the stream, if any. */
  readonly usage: Usage | undefined;
}

/**
 * One provider wire format. Adapters are pure translators: no I/O, no retries.
 */
export interface ProviderAdapter {
  readonly kind: ProviderKind;
  buildRequest(request: ChatCompletionRequest, target: AdapterTarget, stream: boolean): UpstreamRequest;
  /** Parse a 2xx body. Throws an UpstreamFailure when the body is an error in disguise. */
  parseCompletion(body: string, target: AdapterTarget): ChatCompletion;
  /**
   * A completion this adapter parsed, already serialized as OpenAI JSON, when
   * the provider's own text could be reused: saves a JSON.stringify per call.
   * Asked right after `parseCompletion`, in the same turn, for the completion
   * it returned: an adapter may answer only for the last one.
   */
  serializedCompletion?(completion: ChatCompletion): string | undefined;
  /** Categorize a non-2xx response from its status, real error body and headers. */
  categorizeError(status: number, body: string, headers: IncomingHttpHeaders): UpstreamFailure;
  createStreamDecoder(target: AdapterTarget): StreamDecoder;
}
