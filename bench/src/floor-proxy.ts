/**
 * What one Node process hop costs, by HTTP layer: a pass-through proxy whose
 * server side and upstream client can each be node's own HTTP stack or bare
 * `net` sockets. For `npm run bench -- floors` only: the `net` sides speak just
 * enough HTTP/1.1 for the simulator's JSON answers (Content-Length bodies,
 * keep-alive, no chunked encoding, no TLS) and are no model for production code.
 *
 * Env: PORT, UPSTREAM (e.g. http://127.0.0.1:4010/openai/v1),
 * SERVER (`net` | `http`), CLIENT (`net` | `undici` | `node-http`).
 */
import { Agent, createServer as createHttpServer, request as httpRequest } from 'node:http';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { Pool } from 'undici';

type Answer = (status: number, body: Buffer) => void;
type Send = (path: string, body: Buffer, answer: Answer) => void;

const port = Number(process.env.PORT);
const upstream = new URL(process.env.UPSTREAM ?? 'http://127.0.0.1:4010/openai/v1');
const basePath = upstream.pathname.replace(/\/$/, '');
const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer sk-bench' };

/** One complete HTTP/1.1 message at the front of `buf`: its head and Content-Length body, or undefined if more bytes are needed. */
function takeMessage(buf: Buffer): { head: string; body: Buffer; rest: Buffer } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buf.toString('latin1', 0, end);
  const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
  if (buf.length < end + 4 + length) return undefined;
  return { head, body: buf.subarray(end + 4, end + 4 + length), rest: buf.subarray(end + 4 + length) };
}

function netClient(): Send {
  const idle: Socket[] = [];
  const waiting = new WeakMap<Socket, Answer>();
  const open = (): Socket => {
    const socket = connect(Number(upstream.port), upstream.hostname);
    socket.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const message = takeMessage(buf);
      if (!message) return;
      buf = message.rest;
      const answer = waiting.get(socket)!;
      idle.push(socket);
      answer(Number(message.head.slice(9, 12)), message.body);
    });
    socket.on('error', () => socket.destroy());
    // A connection lost mid-request answers 502 rather than leaving the caller waiting.
    socket.on('close', () => {
      const at = idle.indexOf(socket);
      if (at >= 0) idle.splice(at, 1);
      else waiting.get(socket)?.(502, Buffer.from('{"error":{"message":"floor proxy: upstream connection closed"}}'));
    });
    return socket;
  };
  return (path, body, answer) => {
    const socket = idle.pop() ?? open();
    waiting.set(socket, answer);
    socket.write(`POST ${path} HTTP/1.1\r\nhost: ${upstream.host}\r\ncontent-type: application/json\r\nauthorization: Bearer sk-bench\r\ncontent-length: ${body.length}\r\n\r\n`);
    socket.write(body);
  };
}

function undiciClient(): Send {
  const pool = new Pool(upstream.origin, { connections: 256 });
  return (path, body, answer) => {
    let status = 0;
    const parts: Buffer[] = [];
    pool.dispatch(
      { path, method: 'POST', headers: HEADERS, body, headersTimeout: 0, bodyTimeout: 0 },
      {
        onRequestStart: () => {},
        onResponseStart: (_c, s) => {
          status = s;
        },
        onResponseData: (_c, chunk) => {
          parts.push(chunk);
        },
        onResponseEnd: () => answer(status, parts.length === 1 ? parts[0]! : Buffer.concat(parts)),
        onResponseError: (_c, err) => answer(502, Buffer.from(JSON.stringify({ error: { message: err.message } }))),
      },
    );
  };
}

function nodeHttpClient(): Send {
  const agent = new Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' });
  return (path, body, answer) => {
    const req = httpRequest({ agent, hostname: upstream.hostname, port: upstream.port, method: 'POST', path, headers: { ...HEADERS, 'content-length': body.length } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => answer(res.statusCode ?? 502, Buffer.concat(parts)));
    });
    req.on('error', (err) => answer(502, Buffer.from(JSON.stringify({ error: { message: err.message } }))));
    req.end(body);
  };
}

const CLIENTS: Record<string, () => Send> = { net: netClient, undici: undiciClient, 'node-http': nodeHttpClient };
const makeClient = CLIENTS[process.env.CLIENT ?? ''];
if (!makeClient) throw new Error(`CLIENT must be one of ${Object.keys(CLIENTS).join(', ')}`);
const send = makeClient();
const upstreamPath = (url: string) => basePath + url.replace(/^\/v1/, '');

if (process.env.SERVER === 'http') {
  createHttpServer((req, res) => {
    if (req.method !== 'POST') {
      req.resume();
      res.end('floor proxy\n');
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () =>
      send(upstreamPath(req.url ?? '/'), parts.length === 1 ? parts[0]! : Buffer.concat(parts), (status, body) => {
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(body);
      }),
    );
  }).listen(port, '127.0.0.1');
} else if (process.env.SERVER === 'net') {
  createNetServer((socket) => {
    socket.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (let message = takeMessage(buf); message; message = takeMessage(buf)) {
        buf = message.rest;
        const [method, url] = message.head.split(' ', 2) as [string, string];
        if (method !== 'POST') {
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\nfloor proxy\n');
          continue;
        }
        send(upstreamPath(url), message.body, (status, body) => {
          socket.write(`HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
          socket.write(body);
        });
      }
    });
    socket.on('error', () => socket.destroy());
  }).listen(port, '127.0.0.1');
} else {
  throw new Error('SERVER must be net or http');
}
