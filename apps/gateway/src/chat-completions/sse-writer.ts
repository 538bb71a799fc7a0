import type { ServerResponse } from 'node:http';
import type { Observable, Observer } from 'rxjs';
import { LlmRouterError, type RoutedChunk } from '@llm-router/nestjs';
import type { GraceHolder } from '../http/shutdown-grace.js';
import { TickWriter } from '../http/tick-writer.js';
import { redact } from '../logging/redact.js';
import { routingHeaderList } from './routing-headers.js';
import { subscribeUntilClientGone } from './until-client-gone.js';

/**
 * The headers of a server-sent event stream, as a flat name, value list (see
 * routingHeaderList: a stream's header list starts with it); `x-accel-buffering: no`
 * keeps proxies (nginx) from holding events back.
 */
export const SSE_HEADER_LIST: readonly string[] = [
  'content-type', 'text/event-stream; charset=utf-8',
  'cache-control', 'no-cache',
  'connection', 'keep-alive',
  'x-accel-buffering', 'no',
];

/** Answers a call that failed before its first chunk (an ordinary HTTP error). */
export type EarlyFailure = (res: ServerResponse, err: unknown) => void;

/**
 * Writes a routed stream as OpenAI SSE. Headers wait for the first chunk, so a
 * failure before it can still be a proper HTTP error; after it, a failure is
 * an explicit `error` event and no `[DONE]`: a truncated answer never looks complete.
 * A client that disconnects unsubscribes, which aborts the upstream call; with
 * `grace`, the end of the shutdown's grace period ends the stream with its error.
 */
export function writeSse(res: ServerResponse, stream$: Observable<RoutedChunk>, includeUsage: boolean, onErrorBeforeFirstChunk: EarlyFailure, grace?: GraceHolder): void {
  subscribeUntilClientGone(stream$, res, new SseStream(res, includeUsage, onErrorBeforeFirstChunk), grace);
}

/** One open stream's observer: what it holds while it is open. */
class SseStream implements Observer<RoutedChunk> {
  private started = false;
  private readonly out: TickWriter;

  constructor(
    private readonly res: ServerResponse,
    private readonly includeUsage: boolean,
    private readonly onErrorBeforeFirstChunk: EarlyFailure,
  ) {
    this.out = new TickWriter(res);
  }

  // `routed.chunk` is read only when needed: a chunk passed on as text is parsed by reading it.
  next(routed: RoutedChunk): void {
    if (!this.started) {
      this.started = true;
      this.out.writeHead(200, routingHeaderList(routed.outcome, undefined, [...SSE_HEADER_LIST]));
    }
    // The usage-only chunk goes out only to callers who asked for it.
    if (routed.usage && routed.chunk.choices.length === 0 && !this.includeUsage) return;
    this.out.write(`data: ${routed.json ?? JSON.stringify(routed.chunk)}\n\n`);
  }

  error(err: unknown): void {
    if (!this.started) return this.onErrorBeforeFirstChunk(this.res, err);
    const body = err instanceof LlmRouterError ? err.toOpenAiError() : { error: { message: 'stream failed', type: 'gateway_error', code: 'stream_interrupted', param: null } };
    body.error.message = redact(body.error.message);
    // OpenAI sends in-stream errors as a plain data event; its clients raise them.
    this.out.end(`data: ${JSON.stringify(body)}\n\n`);
  }

  complete(): void {
    this.out.end('data: [DONE]\n\n');
  }
}
