import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { GatewayConfig } from '../config/gateway.config.js';

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
  private server?: Server;
  private closing = false;

  constructor(private readonly limits: ConnectionLimits) {}

  /** Fastify's `serverFactory`. */
  readonly factory = (frameworkHandler: RequestHandler): Server => {
    const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections } = this.limits;
    const server = createServer(
      {
        // Node refuses a header timeout longer than the request's.
        headersTimeout: requestTimeoutMs > 0 ? Math.min(headersTimeoutMs, requestTimeoutMs) : headersTimeoutMs,
        requestTimeout: requestTimeoutMs,
        keepAliveTimeout: keepAliveTimeoutMs,
        // Node looks for expired requests this often (30 s by default): a 10 s limit should mean about 10 s.
        connectionsCheckingInterval: 1_000,
      },
      (req, res) => {
        const fastLane = this.chatCompletions;
        if (fastLane !== undefined && isChatCompletions(req)) {
          // As Fastify does on its own routes once closing: the answer ends the connection.
          if (this.closing) res.shouldKeepAlive = false;
          fastLane(req, res);
        } else frameworkHandler(req, res);
      },
    );
    server.maxConnections = maxConnections;
    this.server = server;
    return server;
  };

  /**
   * The app is closing (Fastify's `preClose`, before the server stops
   * listening). A keep-alive connection whose call was in flight would hold
   * the close up to `keepAliveTimeoutMs` after its answer, and a shutdown
   * (SIGTERM) with it: each is closed as soon as it is idle.
   */
  drain(): void {
    const server = this.server;
    if (this.closing || server === undefined || !server.listening) return;
    this.closing = true;
    const timer = setInterval(() => server.closeIdleConnections(), 50).unref();
    server.once('close', () => clearInterval(timer));
  }

  /** Called once the app's providers exist; until then the framework answers (404). */
  serveChatCompletions(handler: RequestHandler): void {
    this.chatCompletions = handler;
  }
}
