import type { ChatCompletion, ChatCompletionChunk, Usage } from '../chat/chat-completion.types.js';
import type { TextChunk } from '../providers/provider-adapter.interface.js';

/** What one successful attempt yields: one completion, or a stream of chunks. */
export type AttemptOutput =
  | { readonly type: 'completion'; readonly completion: ChatCompletion; readonly json?: string }
  | { readonly type: 'chunk'; readonly chunk: ChatCompletionChunk; readonly usage?: Usage; readonly json?: string; readonly text?: TextChunk };

/** A streamed chunk passed on as text: `chunk` parses it only if read. */
export class TextChunkOutput {
  readonly type = 'chunk' as const;
  readonly json: string;

  constructor(readonly text: TextChunk) {
    this.json = text.json;
  }

  get chunk(): ChatCompletionChunk {
    return this.text.chunk;
  }
}
