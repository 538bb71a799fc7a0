import type { IncomingHttpHeaders } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { Observable, type Subscriber, type Unsubscribable } from 'rxjs';
import type { Dispatcher } from 'undici';
import { UpstreamFailure } from '../../errors/upstream-failure.js';
import type { CompiledProvider } from '../../policy/compiled-policy.js';
import { keepTimerList } from '../../shared/timer-lists.js';
import { ClientPool, type WaitingCall } from './client-pool.js';
import { ONE_SHOT_MIN_LENGTH, OneShotBody } from './one-shot-body.js';
import type { Transport, TransportEvent, TransportRequest } from './transport.interface.js';

/**
 * Upstream HTTP on undici: one keep-alive connection pool per provider, each
 * request dispatched with bare callbacks (no streams, no Response objects).
 * On this path it costs about a third of the CPU of a node:http Agent request,
 * and far less than global fetch (web streams, Request objects).
 */
export class UndiciTransport implements Transport {
  /** By what a pool is made of (the provider's name, origin, connection limit and connect timeout). */
  private readonly pools = new Map<string, ClientPool>();
  /** Each compiled provider's pool, found without building its key again on every call. */
  private poolOf = new WeakMap<CompiledProvider, ClientPool>();

  send(sent: TransportRequest): Observable<TransportEvent> {
    return new Observable<TransportEvent>((subscriber) => new UndiciExchange(this.poolFor(sent.provider), sent, subscriber));
  }

  close(): void {
    for (const pool of this.pools.values()) void pool.destroy();
    this.pools.clear();
    this.poolOf = new WeakMap();
  }

  /**
   * A policy reload compiles its providers anew: one that kept its settings keeps its connections, one given another
   * `baseUrl`, `maxSockets` or connect timeout gets a pool of its own, while calls that started under the old policy
   * finish on the old one (its idle connections close on their keep-alive timeout and are dropped).
   */
  private poolFor(provider: CompiledProvider): ClientPool {
    let pool = this.poolOf.get(provider);
    if (pool !== undefined) return pool;
    const origin = new URL(provider.baseUrl).origin;
    const key = `${provider.name}\n${origin}\n${provider.maxSockets}\n${provider.timeouts.connectMs}`;
    pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new ClientPool(origin, provider.maxSockets, provider.timeouts.connectMs);
      this.pools.set(key, pool);
    }
    this.poolOf.set(provider, pool);
    return pool;
  }
}

/**
 * One upstream request: undici's handler, its first-byte timer's target and
 * the subscriber's teardown in one object, its methods on the prototype:
 * per-request closures (a handler of five, the failure path, the timer's and
 * the teardown) cost about 0.4 kB of garbage per call.
 */
class UndiciExchange implements Dispatcher.DispatchHandler, Unsubscribable {
  private finished = false;
  private headSeen = false;
  private controller: Dispatcher.DispatchController | undefined;
  private decoder: StringDecoder | undefined;
  /** Let go of once the head came: a stream would otherwise hold the cleared timer for its life. */
  private firstByteTimer: NodeJS.Timeout | undefined;
  /** The call's place in its pool's queue while it waits for a connection, to withdraw it if given up on. */
  private waiting: WaitingCall | undefined;
  // The provider and the limit, not the request: its body (the whole prompt) must not live as long as a stream.
  private readonly provider: CompiledProvider;
  private readonly firstByteTimeoutMs: number;

  constructor(
    private readonly pool: ClientPool,
    sent: TransportRequest,
    private readonly subscriber: Subscriber<TransportEvent>,
  ) {
    this.provider = sent.provider;
    this.firstByteTimeoutMs = sent.firstByteTimeoutMs;
    // Its duration's timer list is kept: nearly every call clears this timer, and one call at a time would otherwise make
    // and drop the list each time (see timer-lists.ts).
    keepTimerList(sent.firstByteTimeoutMs);
    this.firstByteTimer = setTimeout(onFirstByteTimer, sent.firstByteTimeoutMs, this);
    const { request } = sent;
    // Timeouts are the router's (first byte here, attempt and deadline above): undici's own are off.
    const options: Dispatcher.DispatchOptions = { path: request.path, method: 'POST', headers: request.headers, body: request.body, headersTimeout: 0, bodyTimeout: 0 };
    // Only a stream's: a JSON call's body is let go of with its answer, moments later, and the Buffer path costs less.
    if (sent.stream === true && request.body.length >= ONE_SHOT_MIN_LENGTH) {
      const bytes = Buffer.from(request.body);
      options.headers = withContentLength(request.headers, bytes.length);
      // An iterable body is documented (undici's Dispatcher.md, `body`), though DispatchOptions' type leaves it out.
      options.body = new OneShotBody(bytes) as unknown as Dispatcher.DispatchOptions['body'];
    }
    this.waiting = pool.dispatch(options, this);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.waiting = undefined;
    if (this.finished) controller.abort(new Error('the caller went away'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    // undici's adapter for this handler API keeps the head's raw bytes on the controller (views of the socket read
    // that brought them) until the answer ends, a stream's whole life; `headers` has them parsed.
    controller.rawHeaders = null;
    if (status < 200) return; // 1xx: informational, the real head follows
    clearTimeout(this.firstByteTimer);
    this.firstByteTimer = undefined;
    this.headSeen = true;
    if (this.finished) return;
    this.subscriber.next({ type: 'head', status, headers });
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.finished) return;
    // A UTF-8 character may span two reads. (A decoder made only once a read ends inside a character saved ~0.3 kB per
    // stream, but toString costs ~150-270 instructions more per read than the decoder's write.)
    const text = (this.decoder ??= new StringDecoder('utf8')).write(chunk);
    if (text !== '') this.subscriber.next({ type: 'data', text });
  }

  onResponseEnd(): void {
    if (this.finished) return;
    this.finished = true;
    const rest = this.decoder?.end();
    if (rest) this.subscriber.next({ type: 'data', text: rest });
    this.subscriber.complete();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.fail(connectionFailure(this.provider, err));
  }

  /**
   * The timer fired. A late event loop runs its timers before it reads the
   * sockets, so a head that came in time may still be unread: one more pass
   * (an immediate runs after the reads) lets it count first.
   */
  firstByteTimerFired(): void {
    if (!this.finished) setImmediate(onFirstByteTimeout, this);
  }

  firstByteTimedOut(): void {
    if (this.headSeen) return;
    const { provider, firstByteTimeoutMs } = this;
    this.fail(new UpstreamFailure({ category: 'transient', code: 'first_byte_timeout', message: `${provider.name}: no response within ${firstByteTimeoutMs} ms` }));
  }

  private fail(failure: UpstreamFailure): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.firstByteTimer);
    this.withdraw();
    // An attempt given up on (timeout, broken body) must not keep the upstream generating.
    this.controller?.abort(failure);
    this.subscriber.error(failure);
  }

  /** The subscriber's teardown. */
  unsubscribe(): void {
    clearTimeout(this.firstByteTimer);
    if (this.finished) return;
    this.finished = true;
    this.withdraw();
    // Closing the connection is what stops the provider generating (and billing) tokens.
    this.controller?.abort(new Error('the caller went away'));
  }

  /** Out of the pool's queue, if still waiting there: a call given up on must not hold its prompt, nor later take a connection. */
  private withdraw(): void {
    if (this.waiting === undefined) return;
    this.pool.withdraw(this.waiting);
    this.waiting = undefined;
  }
}

const onFirstByteTimer = (exchange: UndiciExchange): void => exchange.firstByteTimerFired();
const onFirstByteTimeout = (exchange: UndiciExchange): void => exchange.firstByteTimedOut();

/** `headers` with the body's length, in place of one a policy's provider headers may carry in any case (undici refuses two). */
function withContentLength(headers: Readonly<Record<string, string>>, length: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) if (name.toLowerCase() !== 'content-length') out[name] = headers[name]!;
  out['content-length'] = String(length);
  return out;
}

/** Connection refused, reset, connect timeouts and socket errors: all transient. */
function connectionFailure(provider: CompiledProvider, err: Error): UpstreamFailure {
  if (err instanceof UpstreamFailure) return err;
  const own = (err as { code?: string }).code;
  if (own === 'UND_ERR_CONNECT_TIMEOUT') {
    return new UpstreamFailure({ category: 'transient', code: 'connect_timeout', message: `${provider.name}: connect timed out after ${provider.timeouts.connectMs} ms` });
  }
  // undici wraps socket errors (UND_ERR_SOCKET); the system code, when there is one, says more.
  const code = (err.cause as { code?: string } | undefined)?.code ?? own ?? 'connection_error';
  return new UpstreamFailure({ category: 'transient', code, message: `${provider.name}: ${code}: ${err.message}` });
}
