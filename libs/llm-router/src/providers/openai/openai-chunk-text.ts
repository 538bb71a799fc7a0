import type { ChatCompletionChunk } from '../../chat/chat-completion.types.js';
import { carriesContent } from '../../chat/chunk-content.js';
import { textTokens } from '../../chat/text-tokens.js';
import type { UpstreamFailure } from '../../errors/upstream-failure.js';
import { isObject, safeJsonParse, type JsonObject } from '../http-errors.js';
import type { TextChunk } from '../provider-adapter.interface.js';
import { brokenStreamProtocol } from '../sse/broken-stream-protocol.js';
import { rewriteModelField } from './openai-model-field.js';

/**
 * What makes a chunk one to parse: an error (a key, or vLLM's
 * `"object":"error"`), tool calls, a usage report (OpenAI sends
 * `"usage":null` in every chunk but the last when include_usage is on),
 * content spelled other than `"content":"` or `"content":null`, or a second
 * choice. A quoted name with its quotes cannot occur inside a JSON string
 * (its quotes are escaped), so a match is a key or a whole value.
 */
const PARSE = /"(?:error"|tool_calls"|usage"(?!:null)|content"(?!:["n])|index":[1-9])/;
const CONTENT = '"content":"';

/**
 * What the router reads from one OpenAI-format chunk, the estimated tokens of
 * its content (more than 0 exactly when it has content), found with
 * a few native searches of its text instead of a parse (a loop over its
 * characters in JavaScript costs about what JSON.parse does). Undefined when
 * the chunk may carry more than that, or is not one JSON object on one line:
 * the caller parses it then.
 */
export function scanChunkText(data: string): number | undefined {
  if (data.charCodeAt(0) !== 0x7b || data.charCodeAt(data.length - 1) !== 0x7d) return undefined;
  // Several data lines joined would break SSE framing if written back as one.
  if (data.indexOf('\n') !== -1 || data.indexOf('\r') !== -1 || PARSE.test(data)) return undefined;
  // One choice: its content, if any, is the one `"content":"` (searched from the end, where the delta sits).
  const at = data.lastIndexOf(CONTENT);
  return at === -1 ? 0 : contentTokens(data, at + CONTENT.length);
}

/** PARSE from a position (`lastIndex`, set before each test). */
const PARSE_FROM = new RegExp(PARSE.source, 'g');

/**
 * What a stream's plain chunks repeat around their content: the text before it
 * (id, model, created, the choice's index, through `"content":"`: about three
 * quarters of a chunk) and after it (from its closing quote: the finish reason
 * and the closings), taken from a chunk that scanned plain. A chunk that is
 * the same head, a JSON string's text and the same tail parses as that chunk
 * with other content: it needs no scan but of its content.
 */
export class PlainChunkFrame {
  private constructor(
    readonly head: string,
    private readonly tail: string,
    /** The head with `model` rewritten (see rewriteModelField). */
    readonly ownHead: string,
  ) {}

  /** The frame of `data`, a chunk scanChunkText found plain, when it has content and its `model` (`field`) is in the head. */
  static of(data: string, field: string, ownField: string): PlainChunkFrame | undefined {
    const at = data.lastIndexOf(CONTENT);
    if (at === -1) return undefined;
    const start = at + CONTENT.length;
    const end = stringEnd(data, start);
    if (end === -1) return undefined;
    const head = detached(data.slice(0, start));
    const ownHead = rewriteModelField(head, field, ownField);
    return ownHead === undefined ? undefined : new PlainChunkFrame(head, detached(data.slice(end)), detached(ownHead));
  }

  /** Whether `data` starts with the head (String.prototype.startsWith compares a character at a time: ~1.3 µs for a 170-character head, against ~0.1 for a slice's equality). */
  heads(data: string): boolean {
    const head = this.head;
    return data.length >= head.length && data.slice(0, head.length) === head;
  }

  /** scanChunkText for a chunk the head starts (see `heads`). */
  scan(data: string): number | undefined {
    const start = this.head.length;
    const end = data.length - this.tail.length;
    if (end >= start && data.slice(end) === this.tail && stringEnd(data, start) === end) {
      // The content's own text is all that is new: the head and the tail had no line break.
      return data.indexOf('\n', start) !== -1 || data.indexOf('\r', start) !== -1 ? undefined : stringTokens(data, start, end);
    }
    return scanAfterHead(data, start);
  }
}

/**
 * The same text, holding nothing else: a slice keeps the whole string it was cut from (here the network read the
 * chunk came in, up to tens of kilobytes), and a frame lives as long as its stream. A JSON round trip makes a string
 * of its own, flat and whole (every string comes back the same); a concatenation's slice (`(' ' + text).slice(1)`)
 * kept a slice's header and its parent, ~32 B more per string, three per open stream. Once per stream.
 */
function detached(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}

/**
 * scanChunkText for a chunk whose first `headLength` characters are a frame's
 * head: only what follows it is searched. A match of PARSE inside the head
 * would have been found in the head's own chunk, and none can begin in the
 * head and end past it (no pattern contains or ends with `"content":"`) unless
 * it begins at the content's opening quote, where the search starts. The head
 * had no line break; a second `"content":"` leaves the chunk to the parser.
 */
function scanAfterHead(data: string, headLength: number): number | undefined {
  if (data.charCodeAt(data.length - 1) !== 0x7d) return undefined;
  const from = headLength - 1;
  if (data.indexOf('\n', from) !== -1 || data.indexOf('\r', from) !== -1 || data.indexOf(CONTENT, from) !== -1) return undefined;
  PARSE_FROM.lastIndex = from;
  return PARSE_FROM.test(data) ? undefined : contentTokens(data, headLength);
}

/** Estimated tokens of the JSON string whose text starts at `start` (just past its opening quote), or undefined if it does not end or unescape. */
function contentTokens(data: string, start: number): number | undefined {
  const end = stringEnd(data, start);
  return end === -1 ? undefined : stringTokens(data, start, end);
}

/** Estimated tokens of the JSON string text from `start` to `end` (its closing quote), or undefined if it does not unescape. */
function stringTokens(data: string, start: number, end: number): number | undefined {
  if (end === start) return 0;
  const raw = data.slice(start, end);
  const text = raw.indexOf('\\') === -1 ? raw : unescapeJson(raw);
  return text === undefined ? undefined : textTokens(text);
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
  readonly type = 'text';
  private parsed: ChatCompletionChunk | undefined;

  constructor(
    readonly json: string,
    readonly tokens: number,
  ) {}

  /** Asked of a stream's leading chunks only: the finish reason is looked for then. */
  get carriesContent(): boolean {
    if (this.tokens > 0 || this.json.indexOf('"finish_reason":"') !== -1) return true;
    if (this.json.indexOf('"finish_reason":null') !== -1) return false;
    // Spelled otherwise (or absent): as the parsed chunk says.
    return carriesContent(this.chunk);
  }

  get chunk(): ChatCompletionChunk {
    if (this.parsed === undefined) {
      const parsed = safeJsonParse(this.json);
      if (!isObject(parsed)) throw notJsonEvent();
      this.parsed = checkedChunk(parsed);
    }
    return this.parsed;
  }
}

export function notJsonEvent(): UpstreamFailure {
  return brokenStreamProtocol('an event that is not JSON');
}

/**
 * A parsed event as the chunk the router and its callers read (`choices`,
 * each one's `delta`, its content and tool calls), or the upstream's broken
 * protocol: a categorized failure, never a TypeError later. A choice without
 * a delta (Azure's content-filter annotations) reads as an empty one, and a
 * usage report whose `choices` is null or left out (OpenAI-compatible servers
 * send one so) as OpenAI's `"choices":[]`.
 */
export function checkedChunk(parsed: JsonObject): ChatCompletionChunk {
  let choices = parsed.choices;
  if (choices == null && isObject(parsed.usage)) choices = parsed.choices = [];
  if (!Array.isArray(choices)) throw brokenStreamProtocol('a chunk without a `choices` array');
  for (let i = 0; i < choices.length; i++) {
    const choice: unknown = choices[i];
    if (!isObject(choice)) throw brokenStreamProtocol('a choice that is not an object');
    const delta = choice.delta;
    if (delta === undefined || delta === null) {
      choice.delta = {};
      continue;
    }
    if (!isObject(delta)) throw brokenStreamProtocol('a delta that is not an object');
    if (delta.content != null && typeof delta.content !== 'string') throw brokenStreamProtocol('delta content that is not a string');
    if (delta.tool_calls != null && !Array.isArray(delta.tool_calls)) throw brokenStreamProtocol('delta tool_calls that are not an array');
  }
  return parsed as unknown as ChatCompletionChunk;
}
