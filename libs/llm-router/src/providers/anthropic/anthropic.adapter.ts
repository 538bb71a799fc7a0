import type { IncomingHttpHeaders } from 'node:http';
import type { ChatCompletion, ChatCompletionRequest } from '../../chat/chat-completion.types.js';
import type { UpstreamFailure } from '../../errors/upstream-failure.js';
import type { AdapterTarget, ProviderAdapter, StreamDecoder, UpstreamRequest } from '../provider-adapter.interface.js';
import { categorizeAnthropicError } from './anthropic.errors.js';
import { buildAnthropicRequest } from './anthropic.request.js';
import { parseAnthropicCompletion } from './anthropic.response.js';
import { AnthropicStreamDecoder } from './anthropic.stream.js';

/** Anthropic Messages API, spoken as OpenAI chat completions. */
export class AnthropicAdapter implements ProviderAdapter {
  readonly kind = 'anthropic' as const;

  buildRequest(request: ChatCompletionRequest, target: AdapterTarget, stream: boolean): UpstreamRequest {
    return buildAnthropicRequest(request, target, stream);
  }

  parseCompletion(body: string, target: AdapterTarget): ChatCompletion {
    return parseAnthropicCompletion(body, target);
  }

  categorizeError(status: number, body: string, headers: IncomingHttpHeaders): UpstreamFailure {
    return categorizeAnthropicError(status, body, headers);
  }

  createStreamDecoder(target: AdapterTarget): StreamDecoder {
    return new AnthropicStreamDecoder(target);
  }
}
