import { Observable } from 'rxjs';
import type { ChatCompletionChunk, ChatCompletionRequest, Usage } from '../chat/chat-completion.types.js';
import { UpstreamFailure } from '../errors/upstream-failure.js';
import type { ProviderTarget } from '../providers/provider-targets.js';
import type { Transport } from '../providers/http/transport.interface.js';
import { SseDecoder } from '../providers/sse/sse-decoder.js';
import { TextChunkOutput, type AttemptOutput } from './routed-event.js';

export interface AttemptSpec {
  readonly target: ProviderTarget;
  readonly request: ChatCompletionRequest;
  readonly stream: boolean;
  readonly firstByteTimeoutMs: number;
  /** The attempt's trace context for the upstream request (`traceparent`), when tracing is on. */
  readonly traceHeaders?: Readonly<Record<string, string>>;
}

/**
 * One call to one target: send, then translate the answer (or categorize the
 * failure). After the first chunk of a stream, any failure becomes
 * `stream_interrupted`: the caller already holds part of this model's answer.
 */
export function runAttempt(transport: Transport, spec: AttemptSpec): Observable<AttemptOutput> {
  const { target, stream } = spec;
  const { adapter, adapterTarget, model } = target;
  return new Observable<AttemptOutput>((subscriber) => {
    let upstream: ReturnType<typeof adapter.buildRequest>;
    try {
      upstream = adapter.buildRequest(spec.request, adapterTarget, stream);
      if (spec.traceHeaders) Object.assign(upstream.headers, spec.traceHeaders);
    } catch (err) {
      subscriber.error(new UpstreamFailure({ category: 'invalid_request', message: (err as Error).message }));
      return;
    }
    let status = 0;
    let headers: import('node:http').IncomingHttpHeaders = {};
    let body = '';
    let chunksSent = 0;
    const sse = stream ? new SseDecoder() : undefined;
    const decoder = stream ? adapter.createStreamDecoder(adapterTarget) : undefined;

    const interrupted = (failure: UpstreamFailure): UpstreamFailure =>
      chunksSent === 0
        ? failure
        : new UpstreamFailure({
            category: 'stream_interrupted',
            status: failure.status,
            code: failure.code ?? failure.category,
            message: `${model.name}: stream interrupted after ${chunksSent} chunks: ${failure.message}`,
            afterFirstChunk: true,
          });

    // Leading chunks without content (the role chunk, pings) are held back until
    // content arrives: until then a failure may still switch target cleanly.
    let held: AttemptOutput[] | undefined;
    const emit = (output: AttemptOutput, carriesContent: boolean): void => {
      if (chunksSent === 0 && !carriesContent) {
        (held ??= []).push(output);
        return;
      }
      releaseHeld();
      chunksSent++;
      subscriber.next(output);
    };
    const emitEvents = (text: string, end: boolean): void => {
      const events = end ? sse!.end() : sse!.push(text);
      for (const event of events) {
        // An event flushed by end() may be cut short: parsed, so a cut one is caught.
        const passed = end ? undefined : decoder!.passThrough?.(event);
        if (passed !== undefined) {
          emit(new TextChunkOutput(passed), passed.carriesContent);
          continue;
        }
        const chunks = decoder!.decode(event);
        for (const chunk of chunks) {
          const usage: Usage | undefined = chunk.usage ?? undefined;
          const json = decoder!.serialized?.(chunk);
          const output: { type: 'chunk'; chunk: ChatCompletionChunk; usage?: Usage; json?: string } = { type: 'chunk', chunk };
          if (usage) output.usage = usage;
          if (json !== undefined) output.json = json;
          emit(output, carriesContent(chunk));
        }
      }
    };
    const releaseHeld = (): void => {
      if (!held) return;
      const pending = held;
      held = undefined;
      for (const output of pending) {
        chunksSent++;
        subscriber.next(output);
      }
    };

    return transport
      .send({ provider: model.provider, request: upstream, firstByteTimeoutMs: spec.firstByteTimeoutMs })
      .subscribe({
        next: (event) => {
          if (event.type === 'head') {
            status = event.status;
            headers = event.headers;
            return;
          }
          if (status < 200 || status >= 300 || !stream) {
            body += event.text;
            return;
          }
          try {
            emitEvents(event.text, false);
          } catch (err) {
            // Erroring the outer subscriber tears down (aborts) the upstream call.
            subscriber.error(interrupted(asFailure(err)));
          }
        },
        error: (err) => subscriber.error(interrupted(asFailure(err))),
        complete: () => {
          try {
            if (status < 200 || status >= 300) {
              subscriber.error(adapter.categorizeError(status, body, headers));
              return;
            }
            if (!stream) {
              const completion = adapter.parseCompletion(body, adapterTarget);
              const json = adapter.serializedCompletion?.(completion);
              subscriber.next(json === undefined ? { type: 'completion', completion } : { type: 'completion', completion, json });
              subscriber.complete();
              return;
            }
            emitEvents('', true);
            // Checked before releasing held chunks: a stream cut before any content may still switch.
            if (!decoder!.finished) {
              throw new UpstreamFailure({ category: 'transient', code: 'stream_truncated', message: `${model.name}: stream ended without its terminal event` });
            }
            releaseHeld();
            subscriber.complete();
          } catch (err) {
            subscriber.error(interrupted(asFailure(err)));
          }
        },
      });
  });
}

/** Content, a tool call, or a finish reason: from here the caller holds this model's answer. */
function carriesContent(chunk: ChatCompletionChunk): boolean {
  for (const choice of chunk.choices) {
    if (choice.delta.content || choice.delta.tool_calls || choice.finish_reason) return true;
  }
  return false;
}

function asFailure(err: unknown): UpstreamFailure {
  if (err instanceof UpstreamFailure) return err;
  return new UpstreamFailure({ category: 'transient', message: err instanceof Error ? err.message : String(err) });
}
