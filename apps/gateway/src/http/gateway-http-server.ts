import { Logger } from '@nestjs/common';
import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { GatewayConfig } from '../config/gateway.config.js';
import { openAiError } from '../errors/openai-error.js';
import { writeErrorBody } from '../errors/write-error-response.js';
import type { HeldEnds } from './held-ends.js';

const logger = new Logger('Shutdown');

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** How long a client may take and how many may connect (see HTTP_DEFAULTS). */
export type ConnectionLimits = Pick<GatewayConfig, 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs' | 'maxConnections'>;

/** The route that carries every LLM call; anything else (other methods included) is the framework's. */
function isChatCompletions(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url!;
  return url === '/v1/chat/completions' || url.startsWith('/v1/chat/completions?');
}

/**
 * The gateway's node:http server, given to Fastify as its `serverFactory`.
 * `POST /v1/chat/completions` goes straight to its handler once the app is
 * built; every other request goes through Fastify and Nest. On this path the
 * framework layers cost about as much CPU as the router itself (bench/), and
 * that route needs none of them.
 */
export class GatewayHttpServer {
  private chatCompletions?: RequestHandler;
  private heldEnds?: HeldEnds;
  private server?: Server;
  private closing = false;

  constructor(private readonly limits: ConnectionLimits) {}

  /** Fastify's `serverFactory`. */
  readonly factory = (frameworkHandler: RequestHandler): Server => {
    const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections } = this.limits;
    const heldEnds = () => this.heldEnds;
    /** A response whose end waits while the record journal holds ends (HeldEnds): its last bytes follow the records written before them. */
    class JournaledResponse extends ServerResponse {
      override end(...args: unknown[]): this {
        const end = super.end as (...a: unknown[]) => this;
        const held = heldEnds();
        if (held === undefined || !held.holding) return end.apply(this, args);
        held.defer(() => {
          try {
            end.apply(this, args);
          } catch (err) {
            // As a throwing end would have left it, but with no caller to answer: the client learns at once, not at its timeout.
            this.destroy();
            throw err;
          }
        });
        return this;
      }
    }
    const server = createServer(
      {
        ServerResponse: JournaledResponse,
        // Node refuses a header timeout longer than the request's.
        headersTimeout: requestTimeoutMs > 0 ? Math.min(headersTimeoutMs, requestTimeoutMs) : headersTimeoutMs,
        requestTimeout: requestTimeoutMs,
        keepAliveTimeout: keepAliveTimeoutMs,
        // Node looks for expired requests this often (30 s by default): a 10 s limit should mean about 10 s.
        connectionsCheckingInterval: 1_000,
        // Node would answer an HTTP/1.1 request without Host itself, a 400 with no body: answered below, in the OpenAI shape.
        requireHostHeader: false,
      },
      (req, res) => {
        if (req.headers.host === undefined && req.httpVersionMinor === 1) return missingHost(res);
        const fastLane = this.chatCompletions;
        if (fastLane !== undefined && isChatCompletions(req)) {
          // As Fastify does on its own routes once closing: the answer ends the connection.
          if (this.closing) res.shouldKeepAlive = false;
          fastLane(req, res);
        } else frameworkHandler(req, res);
      },
    );
    server.maxConnections = maxConnections;
    // An Expect other than 100-continue: Node's own answer is a bare 417.
    server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
      writeErrorBody(res, { status: 417, body: openAiError('Only "Expect: 100-continue" is supported.', 'invalid_request_error', 'expectation_failed', 'expect'), headers: { connection: 'close' } });
    });
    this.server = server;
    return server;
  };

  /**
   * The app is closing (Fastify's `preClose`, before the server stops
   * listening): no new connections; a keep-alive connection is closed as soon
   * as it is idle (else it would hold the close up to `keepAliveTimeoutMs`);
   * calls in flight get `graceMs` to finish. Then `onGraceOver` ends the ones
   * left with an explicit error, and, once that is written, every connection
   * is closed.
   */
  drain(graceMs: number, onGraceOver: () => void): void {
    const server = this.server;
    if (this.closing || server === undefined || !server.listening) return;
    this.closing = true;
    server.closeIdleConnections();
    server.getConnections((_err, open) => logger.log(`shutdown: accepting no new connections; ${open} open, calls in flight have ${graceMs} ms`));
    const idle = setInterval(() => server.closeIdleConnections(), 50).unref();
    const grace = setTimeout(() => {
      logger.warn('shutdown: grace period over: calls still in flight end with a gateway_shutting_down error');
      onGraceOver();
      // The error events are written; let them leave before the sockets go.
      setTimeout(() => server.closeAllConnections(), 250).unref();
    }, graceMs).unref();
    server.once('close', () => {
      clearInterval(idle);
      clearTimeout(grace);
      logger.log('shutdown: every connection closed');
    });
  }

  /** Called once the app's providers exist: answers' ends wait while these are held. */
  holdEndsWith(ends: HeldEnds): void {
    this.heldEnds = ends;
  }

  /** Called once the app's providers exist; until then the framework answers (404). */
  serveChatCompletions(handler: RequestHandler): void {
    this.chatCompletions = handler;
  }
}

/** HTTP/1.1 requires Host (RFC 9112, 3.2): a 400, as Node would send, with a body that says so. */
function missingHost(res: ServerResponse): void {
  writeErrorBody(res, { status: 400, body: openAiError('The request has no Host header, which HTTP/1.1 requires.', 'invalid_request_error', 'missing_host', 'host'), headers: { connection: 'close' } });
}
