import { BadRequestException } from '@nestjs/common';
import { openAiError } from '../errors/openai-error.js';

/** How much structure one request body may carry: the work per request stays bounded. */
export interface JsonBounds {
  /** Deepest nesting of objects and arrays (the body itself is depth 1). */
  maxDepth: number;
  /** Values in the whole body, about: each object, array and separated element or member counts one. */
  maxValues: number;
}

export interface JsonBoundsBreach {
  code: 'json_too_deep' | 'json_too_large';
  message: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Checks JSON text against its bounds before it is parsed. Parsing is the
 * costliest step for a hostile body (2.7 MB with 100,000 properties: about
 * 170 ms of JSON.parse here, the event loop blocked), and later steps
 * (validation, token estimates, the upstream's JSON.stringify) recurse, so
 * a body 5,000 levels deep overflows their stack. This one pass over the
 * bytes counts nesting and separators outside strings and stops at the first
 * breach; a string is skipped to its closing quote with `indexOf` (native),
 * not byte by byte: most of a request's bytes are its messages' text. UTF-8
 * continuation bytes are never ASCII, so bytes can be scanned as they come.
 */
export function jsonTextBreach(text: Uint8Array, bounds: JsonBounds): JsonBoundsBreach | undefined {
  let depth = 0;
  let values = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === QUOTE) {
      i = closingQuote(text, i);
      if (i === -1) return undefined; // unterminated: JSON.parse says so
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > bounds.maxDepth) return { code: 'json_too_deep', message: `The request body nests deeper than ${bounds.maxDepth} levels.` };
      if (++values > bounds.maxValues) return tooLarge(bounds);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
    else if (c === COMMA && ++values > bounds.maxValues) return tooLarge(bounds);
  }
  return undefined;
}

/** Where the string opened at `open` ends: the first quote after it not escaped by an odd run of backslashes; -1 if none. */
function closingQuote(text: Uint8Array, open: number): number {
  let at = open;
  for (;;) {
    at = text.indexOf(QUOTE, at + 1);
    if (at === -1) return -1;
    let backslashes = 0;
    for (let j = at - 1; text[j] === BACKSLASH; j--) backslashes++;
    if ((backslashes & 1) === 0) return at;
  }
}

function tooLarge(bounds: JsonBounds): JsonBoundsBreach {
  return { code: 'json_too_large', message: `The request body holds more than ${bounds.maxValues} JSON values.` };
}

/** The 400 for a body past its bounds, in the OpenAI error shape; undefined when within them. */
export function jsonBoundsError(text: Uint8Array, bounds: JsonBounds): BadRequestException | undefined {
  const breach = jsonTextBreach(text, bounds);
  return breach && new BadRequestException(openAiError(breach.message, 'invalid_request_error', breach.code));
}
