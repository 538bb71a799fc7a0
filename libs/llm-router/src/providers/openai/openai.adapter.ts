import type { IncomingHttpHeaders } from 'node:http';
import type { ChatCompletion, ChatCompletionRequest } from '../../chat/chat-completion.types.js';
import type { UpstreamFailure } from '../../errors/upstream-failure.js';
import type { AdapterTarget, ProviderAdapter, StreamDecoder, UpstreamRequest } from '../provider-adapter.interface.js';
import { categorizeOpenAiError } from './openai.errors.js';
import { buildOpenAiRequest } from './openai.request.js';
import { parseOpenAiCompletion } from './openai.response.js';
import { OpenAiStreamDecoder } from './openai.stream.js';

/** Any OpenAI-compatible chat-completions API (OpenAI, Azure OpenAI, vLLM, OpenRouter, ...). */
export class OpenAiAdapter implements ProviderAdapter {
  readonly kind = 'openai' as const;
  /**
   * The completion parsed last and the provider's text with `model` rewritten:
   * `serializedCompletion` is asked right after `parseCompletion`, in the same
   * turn, for that completion (a WeakMap cost two lookups per call).
   */
  private lastCompletion: ChatCompletion | undefined;
  private lastText: string | undefined;

  buildRequest(request: ChatCompletionRequest, target: AdapterTarget, stream: boolean): UpstreamRequest {
    return buildOpenAiRequest(request, target, stream);
  }

  parseCompletion(body: string, target: AdapterTarget): ChatCompletion {
    const { completion, text } = parseOpenAiCompletion(body, target);
    this.lastCompletion = completion;
    this.lastText = text;
    return completion;
  }

  serializedCompletion(completion: ChatCompletion): string | undefined {
    return completion === this.lastCompletion ? this.lastText : undefined;
  }

  categorizeError(status: number, body: string, headers: IncomingHttpHeaders): UpstreamFailure {
    return categorizeOpenAiError(status, body, headers);
  }

  createStreamDecoder(target: AdapterTarget): StreamDecoder {
    return new OpenAiStreamDecoder(target);
  }
}
