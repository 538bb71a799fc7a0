import type { IncomingHttpHeaders } from 'node:http';
import { Subscriber } from 'rxjs';
import type { ChatCompletionChunk, ChatCompletionRequest, Usage } from '../chat/chat-completion.types.js';
import { carriesContent } from '../chat/chunk-content.js';
import { UpstreamFailure } from '../errors/upstream-failure.js';
import type { ProviderTarget } from '../providers/provider-targets.js';
import type { Transport, TransportEvent } from '../providers/http/transport.interface.js';
import type { StreamDecoder } from '../providers/provider-adapter.interface.js';
import { SseDecoder, type SseEvent, type SseListener } from '../providers/sse/sse-decoder.js';
import type { AttemptOutput } from './routed-event.js';

/** What an attempt tells its owner: its outputs, then one end (a categorized failure, or done). */
export interface AttemptListener {
  output(output: AttemptOutput): void;
  /** A categorized UpstreamFailure, or what a transport threw when sent. */
  failed(err: unknown): void;
  done(): void;
}

/**
 * One call to one target: send, then translate the answer (or categorize the
 * failure). After the first chunk of a stream, any failure becomes
 * `stream_interrupted`: the caller already holds part of this model's answer.
 *
 * The transport's subscriber itself, its state in fields: a stream holds one
 * of these for its whole life, where closures over the same state cost a
 * context and a function each. Unsubscribing it aborts the upstream call.
 */
export class UpstreamAttempt extends Subscriber<TransportEvent> implements SseListener {
  private status = 0;
  /** A failed answer's head, for its categorization (Retry-After); a success's is not kept for a stream's life. */
  private headers: IncomingHttpHeaders | undefined;
  private body = '';
  private chunksSent = 0;
  /** The upstream body ended: what the SSE decoder flushes now is parsed, never passed through. */
  private ended = false;
  private readonly sse: SseDecoder | undefined;
  private readonly decoder: StreamDecoder | undefined;
  /**
   * Leading chunks without content (the role chunk, pings) are held back until
   * content arrives: until then a failure may still switch target cleanly.
   */
  private held: AttemptOutput[] | undefined;

  constructor(
    private readonly target: ProviderTarget,
    private readonly stream: boolean,
    private readonly listener: AttemptListener,
  ) {
    super();
    this.sse = stream ? new SseDecoder() : undefined;
    this.decoder = stream ? target.adapter.createStreamDecoder(target.adapterTarget) : undefined;
  }

  /** The upstream's response head came (whatever its status). */
  get answered(): boolean {
    return this.status !== 0;
  }

  /**
   * Sends `request`. Nothing of it is kept: a stream's attempt lives as long
   * as the stream.
   * @param traceHeaders the attempt's trace context for the upstream request (`traceparent`), when tracing is on.
   */
  start(transport: Transport, request: ChatCompletionRequest, firstByteTimeoutMs: number, traceHeaders?: Readonly<Record<string, string>>): void {
    const { target, stream } = this;
    const { adapter, adapterTarget, model } = target;
    let upstream: ReturnType<typeof adapter.buildRequest>;
    try {
      upstream = adapter.buildRequest(request, adapterTarget, stream);
      if (traceHeaders) upstream = { ...upstream, headers: { ...upstream.headers, ...traceHeaders } };
    } catch (err) {
      this.fail(new UpstreamFailure({ category: 'invalid_request', message: (err as Error).message }));
      return;
    }
    try {
      transport.send({ provider: model.provider, request: upstream, firstByteTimeoutMs, stream }).subscribe(this);
    } catch (err) {
      this.fail(err);
    }
  }

  protected override _next(event: TransportEvent): void {
    if (event.type === 'head') {
      this.status = event.status;
      if (event.status < 200 || event.status >= 300) this.headers = event.headers;
      return;
    }
    if (this.status < 200 || this.status >= 300 || !this.stream) {
      this.body += event.text;
      return;
    }
    try {
      this.emitEvents(event.text, false);
    } catch (err) {
      this.fail(this.interrupted(asFailure(err)));
    }
  }

  protected override _error(err: unknown): void {
    this.fail(this.interrupted(asFailure(err)));
  }

  protected override _complete(): void {
    const { adapter, adapterTarget, model } = this.target;
    try {
      if (this.status < 200 || this.status >= 300) {
        this.fail(adapter.categorizeError(this.status, this.body, this.headers ?? {}));
        return;
      }
      if (!this.stream) {
        const completion = adapter.parseCompletion(this.body, adapterTarget);
        const json = adapter.serializedCompletion?.(completion);
        this.listener.output(json === undefined ? { type: 'completion', completion } : { type: 'completion', completion, json });
        this.end();
        return;
      }
      this.emitEvents('', true);
      // Checked before releasing held chunks: a stream cut before any content may still switch.
      if (!this.decoder!.finished) {
        throw new UpstreamFailure({ category: 'transient', code: 'stream_truncated', message: `${model.name}: stream ended without its terminal event` });
      }
      this.releaseHeld();
      this.end();
    } catch (err) {
      this.fail(this.interrupted(asFailure(err)));
    }
  }

  /** Tears the upstream call down (a no-op once ended), then tells the owner. */
  private fail(err: unknown): void {
    if (this.closed) return;
    this.unsubscribe();
    this.listener.failed(err);
  }

  private end(): void {
    if (this.closed) return;
    this.unsubscribe();
    this.listener.done();
  }

  private interrupted(failure: UpstreamFailure): UpstreamFailure {
    return this.chunksSent === 0
      ? failure
      : new UpstreamFailure({
          category: 'stream_interrupted',
          status: failure.status,
          code: failure.code ?? failure.category,
          message: `${this.target.model.name}: stream interrupted after ${this.chunksSent} chunks: ${failure.message}`,
          afterFirstChunk: true,
        });
  }

  private emit(output: AttemptOutput, carriesContent: boolean): void {
    if (this.chunksSent === 0 && !carriesContent) {
      (this.held ??= []).push(output);
      return;
    }
    this.releaseHeld();
    this.deliver(output);
  }

  /** One output to the owner, unless it left (unsubscribed this attempt) while an earlier one of the same read was delivered. */
  private deliver(output: AttemptOutput): void {
    if (this.closed) return;
    this.chunksSent++;
    this.listener.output(output);
  }

  private emitEvents(text: string, end: boolean): void {
    if (!end) return this.sse!.push(text, this);
    this.ended = true;
    this.sse!.end(this);
  }

  /** Each event the SSE decoder finds, translated and emitted (the decoder calls it during a push). */
  sseEvent(event: SseEvent): void {
    // The owner left during this read: the rest of its events are neither translated nor emitted.
    if (this.closed) return;
    const decoder = this.decoder!;
    // An event flushed by end() may be cut short: parsed, so a cut one is caught.
    const passed = this.ended ? undefined : decoder.passThrough?.(event);
    if (passed !== undefined) return this.emit(passed, passed.carriesContent);
    const chunks = decoder.decode(event);
    for (const chunk of chunks) {
      const usage: Usage | undefined = chunk.usage ?? undefined;
      const json = decoder.serialized?.(chunk);
      const output: { type: 'chunk'; chunk: ChatCompletionChunk; usage?: Usage; json?: string } = { type: 'chunk', chunk };
      if (usage) output.usage = usage;
      if (json !== undefined) output.json = json;
      this.emit(output, carriesContent(chunk));
    }
  }

  private releaseHeld(): void {
    if (!this.held) return;
    const pending = this.held;
    this.held = undefined;
    for (const output of pending) this.deliver(output);
  }
}

function asFailure(err: unknown): UpstreamFailure {
  if (err instanceof UpstreamFailure) return err;
  return new UpstreamFailure({ category: 'transient', message: err instanceof Error ? err.message : String(err) });
}
