import type { ChatCompletion, ChatCompletionChunk, Usage } from '../chat/chat-completion.types.js';

/** What one successful attempt yields: one completion, or a stream of chunks. */
export type AttemptOutput =
  | { readonly type: 'completion'; readonly completion: ChatCompletion; readonly json?: string }
  | { readonly type: 'chunk'; readonly chunk: ChatCompletionChunk; readonly usage?: Usage; readonly json?: string };
