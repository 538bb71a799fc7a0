import type { IncomingMessage } from 'node:http';
import { HttpException } from '@nestjs/common';
import { openAiError } from '../errors/openai-error.js';
import { discardRest } from '../http/discard-body.js';
import { jsonBoundsError, type JsonBounds } from '../http/json-bounds.js';

/** The body could not be read because the client went away: there is nobody to answer. */
export class ClientGoneError extends Error {}

const refuse = (status: number, message: string, code: string) => new HttpException(openAiError(message, 'invalid_request_error', code), status);

/**
 * Reads a JSON request body of at most `limit` bytes, as Fastify's default
 * parsers answer it: `application/json` is parsed, `text/plain` and an empty
 * body without a type reach validation as non-objects (400 invalid_body),
 * any other type is 415, and too large is 413 before a byte is buffered when
 * Content-Length says so. JSON past its bounds (depth, values) is 400 before
 * it is parsed. Exactly one of `onBody` and `onError` is called, never
 * synchronously: callbacks, not a promise, as it runs on every call.
 */
export function readJsonBody(req: IncomingMessage, limit: number, bounds: JsonBounds, onBody: (body: unknown) => void, onError: (err: unknown) => void): void {
  const type = mediaType(req.headers['content-type']);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    const tooLarge = refuse(413, `Request body is too large: ${declared} bytes, the limit is ${limit}.`, 'request_too_large');
    // Up to twice the limit, the body is read and dropped first: a client still sending would see its connection reset, not the 413.
    if (Number(declared) > 2 * limit) return void process.nextTick(onError, tooLarge);
    return void discardRest(req, limit).then(() => onError(tooLarge));
  }
  if (type !== 'application/json' && type !== 'text/plain' && type !== undefined) {
    return void process.nextTick(onError, refuse(415, `Unsupported Content-Type: ${type}. Send application/json.`, 'unsupported_media_type'));
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      cleanup();
      const tooLarge = refuse(413, `Request body is too large: more than ${limit} bytes.`, 'request_too_large');
      void discardRest(req, limit).then(() => onError(tooLarge));
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = () => {
    cleanup();
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const text = bytes.toString('utf8');
    if (type !== 'application/json') {
      if (text !== '' && type === undefined) return onError(refuse(415, 'A request body needs a Content-Type: send application/json.', 'unsupported_media_type'));
      return onBody(text === '' ? undefined : text);
    }
    if (text === '') return onError(refuse(400, "We could not parse the JSON body of your request: the body is empty.", 'invalid_json'));
    const outOfBounds = jsonBoundsError(bytes, bounds);
    if (outOfBounds) return onError(outOfBounds);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return onError(refuse(400, `We could not parse the JSON body of your request: ${(err as Error).message}`, 'invalid_json'));
    }
    onBody(body);
  };
  const onGone = () => {
    cleanup();
    onError(new ClientGoneError('the client went away while sending its body'));
  };
  const cleanup = () => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('aborted', onGone);
    req.off('error', onGone);
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('aborted', onGone);
  req.on('error', onGone);
}

/** `Application/JSON; charset=utf-8` → `application/json`. */
function mediaType(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const semi = header.indexOf(';');
  return (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase() || undefined;
}
