import type { TokenizerEncoding } from '../policy/tokenizer-encoding.js';

/** Texts the event loop asks the tokenizer thread to count. */
export interface CountRequest {
  readonly texts: ReadonlyArray<{ readonly id: number; readonly encoding: TokenizerEncoding; readonly text: string }>;
}

/** Their counts, in the same order; -1 when the text could not be counted. */
export interface CountReply {
  readonly counts: ReadonlyArray<{ readonly id: number; readonly tokens: number }>;
}
