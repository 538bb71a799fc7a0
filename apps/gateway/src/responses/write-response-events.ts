import type { ServerResponse } from 'node:http';
import type { Observable } from 'rxjs';
import { LlmRouterError, type RouteOutcome, type RoutedChunk } from '@llm-router/nestjs';
import { routingHeaderList } from '../chat-completions/routing-headers.js';
import { SSE_HEADER_LIST } from '../chat-completions/sse-writer.js';
import { subscribeUntilClientGone } from '../chat-completions/until-client-gone.js';
import type { GraceHolder } from '../http/shutdown-grace.js';
import { TickWriter } from '../http/tick-writer.js';
import { redact } from '../logging/redact.js';
import type { ResponseEvents } from './response-events.js';
import type { ResponseObject } from './response.types.js';

export interface ResponseStreamHandlers {
  /** The events of this response, made once the first chunk says which model serves it. */
  events(outcome: RouteOutcome): ResponseEvents;
  /** Keeps the finished response (when it is to be stored) and gives it back as it is to be told. */
  finished(response: ResponseObject): Promise<ResponseObject>;
  /** A failure before the first chunk: still a proper HTTP error. */
  errorBeforeFirstChunk(err: unknown): void;
}

/**
 * Writes a routed stream as the Responses API's server-sent events, the
 * routing headers with the first; the events of one upstream read go out as
 * one write (TickWriter), as in chat completions. The last event
 * (response.completed) goes out once the response is stored, so a client
 * that saw it can continue from it at once. A failure after the
 * first chunk is a response.failed event; a client that hangs up
 * unsubscribes, which aborts the upstream call, and nothing is stored. With
 * `grace`, the stream is bound to the shutdown's grace period.
 */
export function writeResponseEvents(res: ServerResponse, stream$: Observable<RoutedChunk>, handlers: ResponseStreamHandlers, grace?: GraceHolder): void {
  let events: ResponseEvents | undefined;
  const out = new TickWriter(res);
  subscribeUntilClientGone(stream$, res, {
    next: ({ chunk, outcome, usage }) => {
      if (events === undefined) {
        events = handlers.events(outcome);
        out.writeHead(200, routingHeaderList(outcome, undefined, [...SSE_HEADER_LIST]));
        out.write(events.start());
      }
      const text = events.chunk(chunk, usage);
      if (text !== '') out.write(text);
    },
    error: (err: unknown) => {
      if (events === undefined) return handlers.errorBeforeFirstChunk(err);
      const body = err instanceof LlmRouterError ? err.toOpenAiError().error : { message: 'The stream failed.', code: 'stream_interrupted' };
      out.end(events.failed({ code: body.code ?? 'server_error', message: redact(body.message) }));
    },
    complete: () => {
      const open = events;
      if (open === undefined) return handlers.errorBeforeFirstChunk(new Error('the routed stream completed without a chunk'));
      const { text, response } = open.finish();
      out.write(text);
      void handlers.finished(response).then((told) => {
        if (!res.writableEnded) out.end(open.completed(told));
      });
    },
  }, grace);
}
