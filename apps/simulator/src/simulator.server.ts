/**
 * The simulator's HTTP server: plain node:http, keep-alive, routing, stats and
 * fault execution (latency, hang, reset, error replies, broken streams). The
 * wire formats render everything provider-specific.
 */
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { anthropicFormat } from './anthropic-format.js';
import { FaultBook, FaultRuleError, resolveFault, type ActiveFaultRule, type Fault, type FaultRule, type SimFormat } from './fault-rules.js';
import { openaiFormat } from './openai-format.js';
import { DEFAULT_CHUNKS, type ErrorReply, type SimRequest, type StreamScript, type WireFormat } from './wire-format.js';
import { logLine } from './log-line.js';

export const OPENAI_PATH = '/openai/v1/chat/completions';
export const ANTHROPIC_PATH = '/anthropic/v1/messages';

export interface SimulatorOptions {
  /** 0 (default) picks an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  faults?: FaultRule[];
}

export interface SimulatorStats {
  /** Chat requests received (both formats, valid or not). */
  requests: number;
  /** Valid chat requests per requested (upstream) model. */
  byModel: Record<string, number>;
  byFormat: Record<SimFormat, number>;
  /** Requests a fault (rule, header or directive) was applied to. */
  faultsInjected: number;
  /** Chat requests whose client disconnected before the reply finished. */
  clientAborts: number;
  /** Chat requests not yet finished. */
  inFlight: number;
}

export interface SimulatorHandle {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Validate and append rules; returns their ids. Throws FaultRuleError if any is invalid. */
  addFaults(rules: FaultRule | FaultRule[]): string[];
  clearFaults(): void;
  /** The active rules with their remaining `times`. */
  faults(): ActiveFaultRule[];
  stats(): SimulatorStats;
  resetStats(): void;
  close(): Promise<void>;
}

/** Request bodies above this are refused with 413. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const MAX_ADMIN_BODY_BYTES = 1024 * 1024;

/** Per chat request: lifecycle flags, and a lazily made signal to cancel delays. */
interface Exchange {
  closed: boolean;
  /** We destroyed the socket on purpose (reset, stream cut): not a client abort. */
  selfDestroyed: boolean;
  abort?: AbortController;
}

function emptyStats(inFlight = 0): SimulatorStats {
  return { requests: 0, byModel: {}, byFormat: { openai: 0, anthropic: 0 }, faultsInjected: 0, clientAborts: 0, inFlight };
}

function readBody(req: IncomingMessage, limit: number, done: (raw: string | undefined) => void): void {
  const parts: Buffer[] = [];
  let size = 0;
  let over = false;
  req.on('data', (chunk: Buffer) => {
    if (over) return;
    size += chunk.length;
    if (size > limit) {
      over = true;
      parts.length = 0;
      return;
    }
    parts.push(chunk);
  });
  req.on('end', () => done(over ? undefined : parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString('utf8')));
  req.on('error', () => {
    /* the client went away; res 'close' accounts for it */
  });
}

const SSE_HEADERS: OutgoingHttpHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

class Simulator {
  readonly faults = new FaultBook();
  private counters = emptyStats();
  private seq = 0;
  /** The last bodies received, newest last: tests read what a provider was actually sent. */
  private readonly received: ReceivedRequest[] = [];

  /** Bound: the server's request listener. */
  readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    if (path === OPENAI_PATH && method === 'POST') return this.chat(openaiFormat, req, res);
    if (path === ANTHROPIC_PATH && method === 'POST') return this.chat(anthropicFormat, req, res);
    if (path.startsWith('/_sim/')) return this.admin(method, path, req, res);
    const notFound = path.startsWith('/openai/')
      ? openaiFormat.notFound(method, path)
      : path.startsWith('/anthropic/')
        ? anthropicFormat.notFound(method, path)
        : { status: 404, body: { error: { type: 'not_found', message: `Not found: ${method} ${path}` } } };
    req.resume();
    sendJson(res, notFound.status, notFound.body);
  };

  stats(): SimulatorStats {
    const c = this.counters;
    return { ...c, byModel: { ...c.byModel }, byFormat: { ...c.byFormat } };
  }

  resetStats(): void {
    // inFlight is a gauge of live requests: it survives a reset.
    this.counters = emptyStats(this.counters.inFlight);
  }

  private chat(format: WireFormat, req: IncomingMessage, res: ServerResponse): void {
    const stats = this.counters;
    stats.requests++;
    stats.byFormat[format.name]++;
    this.counters.inFlight++;
    const ex: Exchange = { closed: false, selfDestroyed: false };
    res.on('close', () => {
      ex.closed = true;
      this.counters.inFlight--;
      if (!res.writableFinished && !ex.selfDestroyed) this.counters.clientAborts++;
      ex.abort?.abort();
    });
    readBody(req, MAX_BODY_BYTES, (raw) => {
      if (ex.closed) return;
      if (raw === undefined) {
        const tooLarge = format.statusReply(413, '');
        sendJson(res, 413, tooLarge.body, { connection: 'close' });
        return;
      }
      try {
        this.serve(format, req, res, raw, ex);
      } catch (err) {
        this.crash(format, res, err);
      }
    });
  }

  private crash(format: WireFormat, res: ServerResponse, err: unknown): void {
    logLine('error', `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    if (!res.headersSent) {
      const reply = format.errorReply('server_error', '');
      sendJson(res, reply.status, reply.body);
    } else {
      res.destroy();
    }
  }

  private serve(format: WireFormat, req: IncomingMessage, res: ServerResponse, raw: string, ex: Exchange): void {
    const seq = ++this.seq;
    const traceparent = req.headers.traceparent;
    this.remember(format, seq, raw, typeof traceparent === 'string' ? traceparent : undefined);
    const parsed = format.parse(raw, req.headers);
    if (!parsed.ok) {
      sendJson(res, parsed.error.status, parsed.error.body, this.headers(format, seq, parsed.model));
      return;
    }
    const r = parsed.request;
    const byModel = this.counters.byModel;
    byModel[r.model] = (byModel[r.model] ?? 0) + 1;
    const headers = this.headers(format, seq, r.model);

    let fault: Fault | undefined;
    try {
      const ruleFault = this.faults.size > 0 ? this.faults.take({ model: r.model, format: format.name, stream: r.stream }) : undefined;
      fault = resolveFault(ruleFault, req.headers['x-sim-fault'], r.texts, r.model);
    } catch (err) {
      if (!(err instanceof FaultRuleError)) throw err;
      const bad = format.invalidRequest(`simulator: ${err.message}`);
      sendJson(res, bad.status, bad.body, headers);
      return;
    }

    if (fault === undefined) {
      // Fast path: no timers, no promises.
      if (r.stream) this.streamNow(format, r, seq, res, headers, DEFAULT_CHUNKS);
      else sendText(res, 200, format.reply(r, seq), headers);
      return;
    }
    this.counters.faultsInjected++;
    this.inject(format, req, res, r, seq, headers, fault, ex).catch((err: unknown) => this.crash(format, res, err));
  }

  private remember(format: WireFormat, seq: number, raw: string, traceparent: string | undefined): void {
    if (this.received.length === RECEIVED_KEPT) this.received.shift();
    this.received.push(traceparent === undefined ? { seq, format: format.name, at: Date.now(), body: raw } : { seq, format: format.name, at: Date.now(), body: raw, traceparent });
  }

  private headers(format: WireFormat, seq: number, model: string | undefined): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = { [format.requestIdHeader]: `req_sim_${seq}` };
    if (model !== undefined) headers['x-sim-model'] = model;
    return headers;
  }

  private async inject(
    format: WireFormat,
    req: IncomingMessage,
    res: ServerResponse,
    r: SimRequest,
    seq: number,
    headers: OutgoingHttpHeaders,
    fault: Fault,
    ex: Exchange,
  ): Promise<void> {
    if (fault.latencyMs) {
      await delay(fault.latencyMs, ex);
      if (ex.closed) return;
    }
    if (fault.hang) return; // Accepted, never answered: the client's timeout must fire.
    if (fault.usageScale !== undefined) r = { ...r, usageScale: fault.usageScale };
    if (fault.reset) {
      ex.selfDestroyed = true;
      const socket = req.socket;
      if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
      else socket.destroy();
      return;
    }
    const brokenStream = r.stream && (fault.streamCutAfter !== undefined || fault.streamErrorAfter !== undefined);
    if (!brokenStream && (fault.error !== undefined || fault.status !== undefined || fault.body !== undefined)) {
      this.sendError(format, res, r.model, headers, fault);
      return;
    }
    if (!r.stream) {
      sendText(res, 200, format.reply(r, seq), headers);
      return;
    }
    const chunks = fault.chunks ?? DEFAULT_CHUNKS;
    if (!fault.chunkDelayMs) {
      this.streamNow(format, r, seq, res, headers, chunks, fault, ex);
      return;
    }
    await this.streamSlowly(format, r, seq, res, headers, chunks, fault, ex);
  }

  private sendError(format: WireFormat, res: ServerResponse, model: string, headers: OutgoingHttpHeaders, fault: Fault): void {
    let reply: ErrorReply;
    if (fault.error !== undefined) {
      reply = format.errorReply(fault.error, model);
      if (fault.status !== undefined) reply = { status: fault.status, body: reply.body };
    } else {
      reply = format.statusReply(fault.status ?? 500, model);
    }
    if (fault.retryAfter !== undefined) {
      headers['retry-after'] = String(fault.retryAfter);
      if (format.name === 'openai' && typeof fault.retryAfter === 'number') headers['retry-after-ms'] = String(Math.round(fault.retryAfter * 1000));
    }
    if (fault.body === undefined) {
      sendJson(res, reply.status, reply.body, headers);
    } else if (typeof fault.body === 'string') {
      headers['content-type'] = 'text/plain; charset=utf-8';
      sendText(res, reply.status, fault.body, headers);
    } else {
      sendJson(res, reply.status, fault.body, headers);
    }
  }

  /** A whole stream in one write (optionally cut or failed after N content chunks). */
  private streamNow(
    format: WireFormat,
    r: SimRequest,
    seq: number,
    res: ServerResponse,
    headers: OutgoingHttpHeaders,
    chunks: number,
    fault?: Fault,
    ex?: Exchange,
  ): void {
    const script = withMalformedEvent(format, format.stream(r, seq, chunks), fault);
    res.writeHead(200, { ...SSE_HEADERS, ...headers });
    const cut = fault?.streamCutAfter;
    const errorAfter = fault?.streamErrorAfter;
    if (cut === undefined && errorAfter === undefined) {
      res.end(script.head + script.chunks.join('') + script.tail);
      return;
    }
    const n = Math.min(cut ?? Infinity, errorAfter ?? Infinity, script.chunks.length);
    const sent = script.head + script.chunks.slice(0, n).join('');
    if (cut !== undefined && cut <= (errorAfter ?? Infinity)) {
      this.cut(res, ex!, sent);
    } else {
      res.end(sent + format.streamError(fault!.error, r.model));
    }
  }

  /** A stream with `chunkDelayMs` before each content chunk. */
  private async streamSlowly(
    format: WireFormat,
    r: SimRequest,
    seq: number,
    res: ServerResponse,
    headers: OutgoingHttpHeaders,
    chunks: number,
    fault: Fault,
    ex: Exchange,
  ): Promise<void> {
    const script = withMalformedEvent(format, format.stream(r, seq, chunks), fault);
    const cut = fault.streamCutAfter;
    const errorAfter = fault.streamErrorAfter;
    const n = Math.min(cut ?? Infinity, errorAfter ?? Infinity, script.chunks.length);
    res.writeHead(200, { ...SSE_HEADERS, ...headers });
    res.write(script.head);
    for (let i = 0; i < n; i++) {
      await delay(fault.chunkDelayMs!, ex);
      if (ex.closed) return;
      res.write(script.chunks[i]);
    }
    if (cut !== undefined && cut <= (errorAfter ?? Infinity)) this.cut(res, ex, '');
    else if (errorAfter !== undefined) res.end(format.streamError(fault.error, r.model));
    else res.end(script.tail);
  }

  /** Flush `data`, then drop the connection mid-body. */
  private cut(res: ServerResponse, ex: Exchange, data: string): void {
    ex.selfDestroyed = true;
    res.write(data, () => res.destroy());
  }

  private admin(method: string, path: string, req: IncomingMessage, res: ServerResponse): void {
    const route = `${method} ${path}`;
    switch (route) {
      case 'GET /_sim/health':
        req.resume();
        return sendJson(res, 200, { status: 'ok' });
      case 'GET /_sim/stats':
        req.resume();
        return sendJson(res, 200, this.stats());
      case 'GET /_sim/requests':
        req.resume();
        return sendJson(res, 200, { requests: this.received.map(parseReceived).reverse() });
      case 'GET /_sim/faults':
        req.resume();
        return sendJson(res, 200, { faults: this.faults.list() });
      case 'DELETE /_sim/faults':
        req.resume();
        return sendJson(res, 200, { cleared: this.faults.clear() });
      case 'POST /_sim/reset':
        req.resume();
        this.faults.clear();
        this.resetStats();
        this.received.length = 0;
        return sendJson(res, 200, { ok: true });
      case 'POST /_sim/faults':
        return readBody(req, MAX_ADMIN_BODY_BYTES, (raw) => {
          if (raw === undefined) return sendJson(res, 413, adminError('body too large'));
          let json: unknown;
          try {
            json = JSON.parse(raw);
          } catch {
            return sendJson(res, 400, adminError('body is not valid JSON'));
          }
          try {
            sendJson(res, 200, { ids: this.faults.add(json) });
          } catch (err) {
            if (!(err instanceof FaultRuleError)) throw err;
            sendJson(res, 400, adminError(err.message));
          }
        });
      default:
        req.resume();
        return sendJson(res, 404, { error: { type: 'not_found', message: `Not found: ${route}` } });
    }
  }
}

/** The script with `streamMalformedAfter`'s event among its chunks (counted as one by `streamCutAfter` and `streamErrorAfter`). */
function withMalformedEvent(format: WireFormat, script: StreamScript, fault: Fault | undefined): StreamScript {
  const after = fault?.streamMalformedAfter;
  if (after === undefined) return script;
  const chunks = [...script.chunks];
  chunks.splice(Math.min(after, chunks.length), 0, format.malformedEvent(fault!.malformedData));
  return { ...script, chunks };
}

/** Requests kept for `GET /_sim/requests`. */
const RECEIVED_KEPT = 200;

interface ReceivedRequest {
  readonly seq: number;
  readonly format: string;
  readonly at: number;
  readonly body: string;
  /** The W3C trace context the caller sent, if any: tests check what went upstream. */
  readonly traceparent?: string;
}

/** The body as JSON when it parses (it may not: a malformed request is kept as sent). */
function parseReceived(r: ReceivedRequest): unknown {
  let body: unknown = r.body;
  try {
    body = JSON.parse(r.body);
  } catch {
    /* kept as text */
  }
  return { seq: r.seq, format: r.format, at: new Date(r.at).toISOString(), ...(r.traceparent !== undefined ? { traceparent: r.traceparent } : {}), body };
}

function adminError(message: string): unknown {
  return { error: { type: 'invalid_fault', message } };
}

/** Wait `ms`, returning early (without throwing) if the exchange closes. */
async function delay(ms: number, ex: Exchange): Promise<void> {
  if (ex.closed) return;
  ex.abort ??= new AbortController();
  try {
    await sleep(ms, undefined, { signal: ex.abort.signal });
  } catch {
    /* aborted: the client went away */
  }
}

function sendText(res: ServerResponse, status: number, text: string, headers: OutgoingHttpHeaders): void {
  headers['content-type'] ??= 'application/json';
  headers['content-length'] = Buffer.byteLength(text);
  res.writeHead(status, headers);
  res.end(text);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  headers['content-type'] = 'application/json';
  sendText(res, status, JSON.stringify(body), headers);
}

/**
 * Connections the kernel holds until the simulator accepts them: Node's 511
 * overflowed when a gateway opened thousands of upstream streams at once on
 * the same cores (the kernel dropped the handshakes: connect and first-byte
 * timeouts that were the simulator's, not the provider's it stands for).
 */
const LISTEN_BACKLOG = 4096;

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function urlHost(host: string, address: AddressInfo): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

/** Start a simulator; resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const sim = new Simulator();
  if (options.faults !== undefined) sim.faults.add(options.faults);
  const host = options.host ?? '127.0.0.1';
  const server = createServer({ keepAlive: true, noDelay: true }, sim.onRequest);
  // Outlive client keep-alive pools so a reused socket is not closed under a request.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await listen(server, options.port ?? 0, host);
  const address = server.address() as AddressInfo;
  const url = `http://${urlHost(host, address)}:${address.port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    addFaults: (rules) => sim.faults.add(rules),
    clearFaults: () => void sim.faults.clear(),
    faults: () => sim.faults.list(),
    stats: () => sim.stats(),
    resetStats: () => sim.resetStats(),
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Hung requests and idle keep-alive sockets must not hold the close.
        server.closeAllConnections();
      })),
  };
}
