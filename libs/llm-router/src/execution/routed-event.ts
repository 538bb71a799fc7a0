import type { ChatCompletion, ChatCompletionChunk, Usage } from '../chat/chat-completion.types.js';
import type { TextChunk } from '../providers/provider-adapter.interface.js';

/**
 * What one successful attempt yields: one completion, or a stream of chunks,
 * parsed or passed on as the provider's text (the TextChunk itself: `chunk`
 * parses it only if read).
 */
export type AttemptOutput =
  | { readonly type: 'completion'; readonly completion: ChatCompletion; readonly json?: string }
  | { readonly type: 'chunk'; readonly chunk: ChatCompletionChunk; readonly usage?: Usage; readonly json?: string }
  | TextChunk;
