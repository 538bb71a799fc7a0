/**
 * The floor: the least a Node proxy can do on this path, written for the
 * benchmark only. Plain node:http, one keep-alive agent, the request body
 * buffered (so it can be sent again), the response streamed back as it comes.
 *
 * Fallback, as cheaply as it can be done: with `x-bench-fallback-model: M`, an
 * upstream 503 is drained and the same body is sent again with its model set to M.
 *
 * Env: PORT (required), UPSTREAM (e.g. http://127.0.0.1:4010/openai/v1), HOST (127.0.0.1).
 */
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';

const port = Number(process.env.PORT);
const upstream = new URL(process.env.UPSTREAM ?? 'http://127.0.0.1:4010/openai/v1');
const host = process.env.HOST ?? '127.0.0.1';
// As many upstream sockets as the gateway's policy allows (bench/policy.yaml maxSockets): thousands of open streams each hold one.
// Every idle one is kept, as the gateway's pool keeps them (until the upstream's keep-alive closes them): a burst after
// a burst meets the same warm connections through both.
const agent = new Agent({ keepAlive: true, maxSockets: 8192, maxFreeSockets: 8192, scheduling: 'lifo' });
const basePath = upstream.pathname.replace(/\/$/, '');

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer']);

function forward(path: string, headers: IncomingHttpHeaders, body: Buffer, res: ServerResponse, fallbackModel: string | undefined): void {
  const up = request(
    {
      agent,
      hostname: upstream.hostname,
      port: upstream.port,
      method: 'POST',
      path: basePath + path,
      headers: {
        'content-type': headers['content-type'] ?? 'application/json',
        'content-length': body.length,
        ...(headers.authorization ? { authorization: headers.authorization } : {}),
      },
    },
    (upRes: IncomingMessage) => {
      if (upRes.statusCode === 503 && fallbackModel !== undefined) {
        upRes.resume();
        const json = JSON.parse(body.toString('utf8')) as { model?: string };
        json.model = fallbackModel;
        forward(path, headers, Buffer.from(JSON.stringify(json)), res, undefined);
        return;
      }
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(upRes.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      res.writeHead(upRes.statusCode ?? 502, out);
      upRes.pipe(res);
    },
  );
  up.on('error', (err) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `bare proxy: ${err.message}`, type: 'proxy_error' } }));
  });
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  up.end(body);
}

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.method !== 'POST') {
    req.resume();
    res.writeHead(req.url === '/' ? 200 : 404, { 'content-type': 'text/plain' }).end('bare proxy\n');
    return;
  }
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    const path = (req.url ?? '/').replace(/^\/v1/, '');
    const fallback = req.headers['x-bench-fallback-model'];
    forward(path, req.headers, parts.length === 1 ? parts[0]! : Buffer.concat(parts), res, typeof fallback === 'string' ? fallback : undefined);
  });
});

// The gateway's and the simulator's listen backlog (LLM_LISTEN_BACKLOG): at 1,000 streams opened a second, node's 511 overflows.
server.listen({ port, host, backlog: 4096 }, () => console.log(`bare proxy on http://${host}:${port} -> ${upstream.href}`));
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
