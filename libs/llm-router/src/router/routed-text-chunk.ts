import type { ChatCompletionChunk } from '../chat/chat-completion.types.js';
import type { RouteOutcome } from '../execution/route-outcome.js';
import type { TextChunk } from '../providers/provider-adapter.interface.js';
import type { RoutedChunk } from './llm-router.service.js';

/**
 * A routed chunk passed on as the provider's text: `chunk` parses it on first
 * read. The getter sits on the class: an own getter (an object literal's) made
 * every chunk a dictionary-mode object. `toJSON` keeps JSON.stringify whole; a
 * spread copies own fields only, so `chunk` is read, not spread.
 */
export class RoutedTextChunk implements RoutedChunk {
  readonly json: string;
  readonly #text: TextChunk;

  constructor(
    readonly outcome: RouteOutcome,
    text: TextChunk,
  ) {
    this.json = text.json;
    this.#text = text;
  }

  get chunk(): ChatCompletionChunk {
    return this.#text.chunk;
  }

  toJSON(): RoutedChunk {
    return { chunk: this.chunk, outcome: this.outcome, json: this.json };
  }
}
