/**
 * The tokenizer thread (see TokenCounter): counts texts with js-tiktoken so
 * that neither loading an encoding (about a second for o200k_base) nor
 * tokenizing (hundreds of microseconds per kilobyte) runs on the event loop
 * that serves requests. Encodings load on first use; each text costs at most
 * SAMPLE_CHARS of tokenizing, the rest extrapolated.
 */
import { parentPort } from 'node:worker_threads';
import { Tiktoken } from 'js-tiktoken/lite';
import type { TokenizerEncoding } from '../policy/tokenizer-encoding.js';
import { textTokens } from '../chat/text-tokens.js';
import type { CountReply, CountRequest } from './token-count.protocol.js';

/** Tokenized per text, at most: a 4 MB prompt costs the same as a 16 KB one, extrapolated by script. */
const SAMPLE_CHARS = 16_384;
/**
 * Texts are tokenized in pieces of at most this many characters, cut at a
 * space when there is one in the piece's second half. BPE is quadratic in the
 * length of a run without a break (1 KB of one letter took 200 ms in one
 * piece); a piece cut inside a word counts at most one token more.
 */
const PIECE_CHARS = 128;

const encoders = new Map<TokenizerEncoding, Promise<Tiktoken>>();

function encoder(name: TokenizerEncoding): Promise<Tiktoken> {
  let found = encoders.get(name);
  if (!found) {
    const ranks = name === 'o200k_base' ? import('js-tiktoken/ranks/o200k_base') : import('js-tiktoken/ranks/cl100k_base');
    found = ranks.then((m) => new Tiktoken(m.default));
    encoders.set(name, found);
  }
  return found;
}

/** Tokens of `text` by `enc`: exact up to SAMPLE_CHARS, extrapolated beyond. */
export function countTokens(enc: Pick<Tiktoken, 'encode'>, text: string): number {
  const end = Math.min(text.length, SAMPLE_CHARS);
  let tokens = 0;
  for (let i = 0; i < end; ) {
    let j = Math.min(i + PIECE_CHARS, end);
    if (j < end) {
      const space = text.lastIndexOf(' ', j);
      if (space > i + PIECE_CHARS / 2) j = space;
      else if (isHighSurrogate(text.charCodeAt(j - 1))) j--;
    }
    // Special-token text (`<|endoftext|>`) in a prompt is counted as the ordinary text it is.
    tokens += enc.encode(text.slice(i, j), [], []).length;
    i = j;
  }
  if (end === text.length) return tokens;
  return Math.ceil(tokens * (textTokens(text) / textTokens(text.slice(0, end))));
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

parentPort?.on('message', (request: CountRequest) => {
  void Promise.all(
    request.texts.map(async ({ id, encoding, text }) => {
      try {
        return { id, tokens: countTokens(await encoder(encoding), text) };
      } catch {
        // An encoding that cannot load (or a text it cannot take): the caller keeps its estimate by script.
        return { id, tokens: -1 };
      }
    }),
  ).then((counts) => parentPort!.postMessage({ counts } satisfies CountReply));
});
