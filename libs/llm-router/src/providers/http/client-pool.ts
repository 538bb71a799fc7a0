import { buildConnector, Client, type Dispatcher } from 'undici';

/** A call past the limit. Withdrawn, it lets go of its request (the whole prompt) and is skipped. */
export interface WaitingCall {
  options: Dispatcher.DispatchOptions | undefined;
  handler: Dispatcher.DispatchHandler | undefined;
}

/**
 * Keep-alive connections to one origin, one request at a time on each, at
 * most `maxConnections`: undici's Pool, with a list of the idle connections.
 * A connection whose socket closes (the server's or undici's keep-alive
 * timeout, after a burst of streams) is dropped, not kept for a reconnect:
 * a burst of thousands of streams would otherwise leave thousands of clients.
 * undici's Pool looks for a free connection by walking all of them, so with
 * thousands of streams open every new call walked thousands of busy ones. The
 * most recently freed connection is taken first (its socket the likeliest
 * still open); past the limit, calls wait in order for one to free.
 */
export class ClientPool {
  private idle: Client[] = [];
  private readonly clients = new Set<Client>();
  /** Calls past the limit, in order, from `waitingHead` on (rare: the limit is sized for the traffic). */
  private waiting: Array<WaitingCall | undefined> = [];
  /** Taking from an index, not `shift()`, keeps a long queue O(1) per call; a taken slot is emptied at once. */
  private waitingHead = 0;
  /** Withdrawn calls still in the queue: once they are over half of it, they are dropped. */
  private withdrawn = 0;
  /** One connector (and TLS session cache) for all the connections, as undici's Pool shares one. */
  private readonly connect: buildConnector.connector;
  /**
   * The origin parsed once for all the connections: given a string, each Client parses its own URL (~250 B), and an
   * open stream holds a connection for its life.
   */
  private readonly origin: URL;
  /** The connections' listeners, one of each for the pool (an emitter calls a listener with itself as `this`), not two closures per connection. */
  private readonly onDrain: (this: Client) => void;
  private readonly onDisconnect: (this: Client) => void;

  constructor(
    origin: string,
    private readonly maxConnections: number,
    connectTimeoutMs: number,
  ) {
    this.origin = new URL(origin);
    // A connection drains when its request is done (or failed): the next waiting call takes it, else it is idle.
    // The listeners' own `this` is the connection.
    const pool = this;
    this.onDrain = function (this: Client) {
      pool.freed(this);
    };
    this.onDisconnect = function (this: Client) {
      pool.dropped(this);
    };
    // TCP_NODELAY and keep-alive (undici's own values) given as the socket's options: Node applies them once, when it
    // connects. undici sets them itself otherwise, before the connect, and Node sets them again after it: ten
    // setsockopt calls per new connection instead of five (a burst of new streams opens one each).
    this.connect = buildConnector({ timeout: connectTimeoutMs, noDelay: true, keepAlive: true, keepAliveInitialDelay: UNDICI_KEEP_ALIVE_DELAY_MS });
  }

  /** Starts the call, or queues it and returns its place, for `withdraw` if its caller gives up before its turn. */
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): WaitingCall | undefined {
    const client = this.takeIdle() ?? (this.clients.size < this.maxConnections ? this.open() : undefined);
    if (client !== undefined) {
      this.start(client, options, handler);
      return undefined;
    }
    const call: WaitingCall = { options, handler };
    this.waiting.push(call);
    return call;
  }

  /** Connections open or idle (a dropped one no longer counts). */
  get size(): number {
    return this.clients.size;
  }

  /** A waiting call its caller gave up on (timed out, went away): it never starts, and its prompt is freed now. */
  withdraw(call: WaitingCall): void {
    if (call.handler === undefined) return; // already started, or withdrawn
    call.options = undefined;
    call.handler = undefined;
    // Calls can time out faster than connections free (every one held by a long stream): the queue stays bounded.
    if (++this.withdrawn > MIN_COMPACTION && this.withdrawn * 2 > this.waiting.length - this.waitingHead) this.compactWaiting();
  }

  /** Every connection closed at once, calls in flight and waiting failed. */
  destroy(): Promise<void> {
    const err = new Error('the upstream connection pool was closed');
    // As undici fails a call it never started: no controller yet.
    for (let w = this.takeWaiting(); w !== undefined; w = this.takeWaiting()) w.handler.onResponseError?.(undefined as unknown as Dispatcher.DispatchController, err);
    const closing = [...this.clients].map((c) => c.destroy(err));
    this.clients.clear();
    this.idle.length = 0;
    return Promise.all(closing).then(() => undefined);
  }

  private open(): Client {
    const client = new Client(this.origin, { connect: this.connect });
    this.clients.add(client);
    client.on('drain', this.onDrain);
    client.on('disconnect', this.onDisconnect);
    return client;
  }

  /** The most recently freed connection still kept (dropped ones are skipped here, not searched for when they drop). */
  private takeIdle(): Client | undefined {
    for (let client = this.idle.pop(); client !== undefined; client = this.idle.pop()) if (this.clients.has(client)) return client;
    return undefined;
  }

  /**
   * A socket closed: undici has failed the request it was sending, if any. A call it holds that was not sent yet
   * (handed to a kept-alive socket closing in the same pass: undici writes on a reused socket a pass later, to see
   * such a close first) keeps its client, which connects again for it; a client holding nothing goes.
   */
  private dropped(client: Client): void {
    if (client.stats.size > 0 || !this.clients.delete(client)) return;
    void client.destroy().catch(() => undefined);
    // Its place is free: a call waiting for one gets a new connection.
    const next = this.takeWaiting();
    if (next !== undefined) this.start(this.open(), next.options, next.handler);
    // Dropped clients left in the idle list are skipped when taken; once they are most of it, it is rebuilt.
    if (this.idle.length > MIN_IDLE_REBUILD + 2 * this.clients.size) this.idle = this.idle.filter((c) => this.clients.has(c));
  }

  private start(client: Client, options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    client.dispatch(options, handler);
    // A call undici cannot build (a header value with a line break, say) is failed at once and queues nothing:
    // no drain will follow, so the connection is free now (else it would be lost to the pool for good).
    if (client.stats.size === 0) this.freed(client);
  }

  private freed(client: Client): void {
    if (!this.clients.has(client)) return;
    const next = this.takeWaiting();
    if (next !== undefined) this.start(client, next.options, next.handler);
    else this.idle.push(client);
  }

  /** The oldest waiting call not withdrawn, taken off the queue: neither its slot nor the call holds its request any more. */
  private takeWaiting(): { options: Dispatcher.DispatchOptions; handler: Dispatcher.DispatchHandler } | undefined {
    while (this.waitingHead < this.waiting.length) {
      const call = this.waiting[this.waitingHead]!;
      this.waiting[this.waitingHead++] = undefined;
      const { options, handler } = call;
      if (handler === undefined) this.withdrawn--;
      if (this.waitingHead === this.waiting.length) this.resetWaiting();
      else if (this.waitingHead > MIN_COMPACTION && this.waitingHead * 2 > this.waiting.length) this.compactWaiting();
      if (handler === undefined) continue;
      call.options = undefined;
      call.handler = undefined;
      return { options: options!, handler };
    }
    return undefined;
  }

  private resetWaiting(): void {
    this.waiting = [];
    this.waitingHead = 0;
  }

  /** Keeps only the calls still waiting (the taken ones at the front, the withdrawn ones anywhere): amortized O(1) per call. */
  private compactWaiting(): void {
    this.waiting = this.waiting.slice(this.waitingHead).filter((c) => c?.handler !== undefined);
    this.waitingHead = 0;
    this.withdrawn = 0;
  }
}

/** undici's connector's TCP keep-alive delay (lib/core/connect.js), kept. */
const UNDICI_KEEP_ALIVE_DELAY_MS = 60_000;

/** Dropped clients the idle list may hold beyond twice the live ones before it is rebuilt. */
const MIN_IDLE_REBUILD = 16;

/** Below this many dead slots a queue is not worth copying. */
const MIN_COMPACTION = 1024;
