import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import type { CompiledModel } from '../policy/compiled-policy.js';
import type { TokenizerEncoding } from '../policy/tokenizer-encoding.js';
import { TOKENS_PER_IMAGE, TOKENS_PER_MESSAGE, visitPromptTexts, type RequestNeeds } from './request-needs.js';
import type { TokenCounter } from './token-counter.js';

/**
 * One request's prompt size per model, for what is priced before the call
 * (budget reservations, cost ceilings): counted with the model's tokenizer
 * when its family has one (see TokenCounter), else the estimate by script of
 * RequestNeeds. Counted once per encoding, when first asked: a call that is
 * never priced never counts.
 */
export class PromptEstimate {
  private counted?: Map<TokenizerEncoding, number>;

  constructor(
    /** Until `release`. */
    private request: ChatCompletionRequest | undefined,
    private readonly needs: RequestNeeds,
    private readonly counter: TokenCounter,
  ) {}

  /** Prompt tokens of the request on `model`. */
  tokensFor(model: CompiledModel): number {
    const encoding = model.tokenizer;
    if (encoding === undefined) return this.needs.estimatedPromptTokens;
    const known = this.counted?.get(encoding);
    if (known !== undefined) return known;
    const request = this.request;
    if (request === undefined) return this.needs.estimatedPromptTokens;
    let tokens = 0;
    const images = visitPromptTexts(request, (text) => {
      tokens += this.counter.count(encoding, text);
    });
    const total = Math.ceil(tokens) + request.messages.length * TOKENS_PER_MESSAGE + images * TOKENS_PER_IMAGE;
    (this.counted ??= new Map()).set(encoding, total);
    return total;
  }

  /**
   * The call's answer started: nothing is priced again (the models it was priced on keep their counts), so the
   * prompt is let go of rather than held for a stream's life. A model not counted yet gets the estimate by script.
   */
  release(): void {
    this.request = undefined;
  }
}
