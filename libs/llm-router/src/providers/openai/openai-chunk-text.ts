import type { ChatCompletionChunk } from '../../chat/chat-completion.types.js';
import { textTokens } from '../../chat/text-tokens.js';
import { UpstreamFailure } from '../../errors/upstream-failure.js';
import { isObject, safeJsonParse } from '../http-errors.js';
import type { TextChunk } from '../provider-adapter.interface.js';

/** What the router reads from a chunk it passes on as text. */
export interface ChunkScan {
  readonly tokens: number;
  readonly carriesContent: boolean;
}

const CONTENT = '"content":"';
const USAGE = '"usage":';

/**
 * What the router reads from one OpenAI-format chunk (its content's tokens,
 * whether it carries content or a finish reason), found in the text without
 * parsing it. Undefined when the chunk may carry more than that (a usage
 * report, an error, tool calls) or is not one JSON object on one line: the
 * caller parses it then. A quoted key cannot occur inside a JSON string (its
 * quotes are escaped), so each spelling found is a key; `"error"` may also be
 * a value, which only costs a parse.
 */
export function scanChunkText(data: string): ChunkScan | undefined {
  if (data.charCodeAt(0) !== 0x7b || data.charCodeAt(data.length - 1) !== 0x7d) return undefined;
  if (data.indexOf('\n') !== -1 || data.indexOf('\r') !== -1) return undefined;
  if (data.indexOf('"error"') !== -1 || data.indexOf('"tool_calls":') !== -1) return undefined;
  // OpenAI sends `"usage":null` in every chunk but the last when include_usage is on.
  for (let at = data.indexOf(USAGE); at !== -1; at = data.indexOf(USAGE, at + USAGE.length)) {
    if (!data.startsWith('null', at + USAGE.length)) return undefined;
  }
  let tokens = 0;
  let content = false;
  for (let at = data.indexOf(CONTENT); at !== -1; at = data.indexOf(CONTENT, at)) {
    const start = at + CONTENT.length;
    const end = stringEnd(data, start);
    if (end === -1) return undefined;
    if (end > start) {
      const raw = data.slice(start, end);
      const text = raw.indexOf('\\') === -1 ? raw : unescapeJson(raw);
      if (text === undefined) return undefined;
      tokens += textTokens(text);
      content = true;
    }
    at = end + 1;
  }
  return { tokens, carriesContent: content || data.indexOf('"finish_reason":"') !== -1 };
}

/** The index of the quote closing the JSON string whose text starts at `from` (one not escaped by an odd run of backslashes), or -1. */
function stringEnd(data: string, from: number): number {
  for (let q = data.indexOf('"', from); q !== -1; q = data.indexOf('"', q + 1)) {
    let slashes = 0;
    for (let i = q - 1; i >= from && data.charCodeAt(i) === 0x5c; i--) slashes++;
    if (slashes % 2 === 0) return q;
  }
  return -1;
}

function unescapeJson(raw: string): string | undefined {
  const text = safeJsonParse(`"${raw}"`);
  return typeof text === 'string' ? text : undefined;
}

/** A chunk passed on as text; `chunk` parses it on first read (the gateway's chat completions writer never reads it). */
export class OpenAiTextChunk implements TextChunk {
  private parsed: ChatCompletionChunk | undefined;

  constructor(
    readonly json: string,
    readonly tokens: number,
    readonly carriesContent: boolean,
  ) {}

  get chunk(): ChatCompletionChunk {
    if (this.parsed === undefined) {
      const parsed = safeJsonParse(this.json);
      if (!isObject(parsed)) throw notJsonEvent();
      this.parsed = parsed as unknown as ChatCompletionChunk;
    }
    return this.parsed;
  }
}

export function notJsonEvent(): UpstreamFailure {
  return new UpstreamFailure({ category: 'transient', status: 200, code: 'invalid_stream_event', message: 'upstream sent a stream event that is not JSON' });
}
