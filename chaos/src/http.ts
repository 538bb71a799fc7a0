/**
 * The suite's two HTTP clients, which never throw: whatever happens to an
 * exchange (a status, a reset, a timeout) is its answer, to be counted.
 * - `call`: node:http, keep-alive agents, for the load of every scenario;
 * - `rawExchange`: bytes on a TCP socket, for the fuzz (headers node:http would
 *   refuse to send, broken framing, odd methods and versions).
 * And what counts as an explicit answer: the OpenAI error shape, a served
 * completion, a stream's end.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

export interface Answer {
  /** 0: no HTTP response at all. */
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  ms: number;
  /** The client gave up waiting (the request is hung). */
  timedOut: boolean;
  /** A network error (before or during the response), e.g. ECONNRESET. */
  error?: string;
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  agent?: Agent;
  timeoutMs: number;
}

/** One HTTP exchange; resolves with whatever happened, never rejects. */
export function call(url: string, o: CallOptions): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const payload = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
    let status = 0;
    let headers: IncomingHttpHeaders = {};
    let text = '';
    let settled = false;
    const finish = (extra: Partial<Answer> = {}) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ status, headers, text, ms: performance.now() - started, timedOut: false, ...extra });
    };
    const req = request(
      url,
      {
        method: o.method ?? (payload === undefined ? 'GET' : 'POST'),
        agent: o.agent,
        headers: { ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}), ...o.headers },
      },
      (res) => {
        status = res.statusCode ?? 0;
        headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => finish());
        res.on('aborted', () => finish({ error: 'aborted' }));
        res.on('error', (err: NodeJS.ErrnoException) => finish({ error: err.code ?? err.message }));
      },
    );
    const timer = setTimeout(() => {
      finish({ timedOut: true });
      req.destroy();
    }, o.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => finish({ error: err.code ?? err.message }));
    req.end(payload);
  });
}

/** A keep-alive agent holding one connection: one simulated client. */
export const clientAgent = () => new Agent({ keepAlive: true, maxSockets: 1 });

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  ms: number;
  timedOut: boolean;
  error?: string;
}

const WRITE_CHUNK = 64 * 1024;

/**
 * Sends `bytes` on a fresh connection and reads until the server closes it (the
 * request says `Connection: close`) or `timeoutMs`; the first final response in
 * what came back is the answer.
 */
export function rawExchange(port: number, bytes: Buffer, timeoutMs: number, head = false): Promise<RawAnswer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    let error: string | undefined;
    const socket = connect(port, '127.0.0.1');
    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const parsed = parseResponse(Buffer.concat(chunks), head);
      resolve({ ...parsed, ms: performance.now() - started, timedOut, ...(error !== undefined && parsed.status === 0 ? { error } : {}) });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // A complete response is enough: some servers keep the socket open after an early answer.
      if (parseResponse(Buffer.concat(chunks), head).complete) finish(false);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
      finish(false);
    });
    socket.on('close', () => finish(false));
    // Written in pieces, and no more once an answer arrives (as curl does): a server that answers early (413, 401)
    // and closes would otherwise reset the connection under the client's feet, answer unread.
    socket.on('connect', async () => {
      for (let at = 0; at < bytes.length && chunks.length === 0 && !socket.destroyed; at += WRITE_CHUNK) {
        if (!socket.write(bytes.subarray(at, at + WRITE_CHUNK))) await new Promise((r) => socket.once('drain', r).once('close', r));
      }
    });
  });
}

/** The first final (non-1xx) response in `buf`: status, headers, body (de-chunked). */
export function parseResponse(buf: Buffer, head = false): { status: number; headers: Record<string, string>; body: string; complete: boolean } {
  let at = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) return { status: 0, headers: {}, body: '', complete: false };
    const lines = buf.subarray(at, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/\d\.\d (\d{3})/.exec(lines[0] ?? '');
    if (!m) return { status: 0, headers: {}, body: '', complete: false };
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const rest = buf.subarray(end + 4);
    if (status >= 100 && status < 200) {
      at = end + 4;
      continue;
    }
    if (head || status === 204 || status === 304) return { status, headers, body: '', complete: true };
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const { body, complete } = dechunk(rest);
      return { status, headers, body: body.toString('utf8'), complete };
    }
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      return { status, headers, body: rest.subarray(0, length).toString('utf8'), complete: rest.length >= length };
    }
    return { status, headers, body: rest.toString('utf8'), complete: false };
  }
}

function dechunk(buf: Buffer): { body: Buffer; complete: boolean } {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return { body: Buffer.concat(parts), complete: false };
    const size = parseInt(buf.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size)) return { body: Buffer.concat(parts), complete: false };
    if (size === 0) return { body: Buffer.concat(parts), complete: true };
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
    if (at > buf.length) return { body: Buffer.concat(parts), complete: false };
  }
}

/** The OpenAI error body: `{error: {message, type, code, param}}`, code and param a string or null. */
export function isOpenAiError(text: string): boolean {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return false;
  }
  const e = (body as { error?: Record<string, unknown> } | null)?.error;
  if (typeof e !== 'object' || e === null) return false;
  const nullableString = (v: unknown) => v === null || typeof v === 'string';
  return typeof e.message === 'string' && typeof e.type === 'string' && 'code' in e && nullableString(e.code) && 'param' in e && nullableString(e.param);
}

/**
 * What a chat call came to, from the client's side:
 * - `served`: a completion (JSON with choices; a stream ending in `[DONE]`, no error event);
 * - `refused`: an explicit error: a status >= 400 with the OpenAI error body, or a
 *   stream that ends with an error event;
 * - `hung`: no answer within the client's timeout;
 * - `broken`: anything else (a reset, a truncated body, a stream ending without a word).
 */
export type Outcome = 'served' | 'refused' | 'hung' | 'broken';

export function outcomeOf(a: Answer, stream: boolean): { outcome: Outcome; why: string } {
  if (a.timedOut) return { outcome: 'hung', why: `no answer within the client's timeout (status ${a.status || 'none'})` };
  if (a.status === 0) return { outcome: 'broken', why: `no response: ${a.error ?? 'connection closed'}` };
  const contentType = String(a.headers['content-type'] ?? '');
  if (a.status >= 400) {
    return isOpenAiError(a.text) ? { outcome: 'refused', why: `${a.status} ${errorCode(a.text)}` } : { outcome: 'broken', why: `${a.status} without the OpenAI error body: ${a.text.slice(0, 120)}` };
  }
  if (a.status !== 200) return { outcome: 'broken', why: `status ${a.status}` };
  if (stream || contentType.startsWith('text/event-stream')) {
    const events = a.text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
    const errorEvent = events.find((e) => e.startsWith('{"error"'));
    if (errorEvent !== undefined) {
      return isOpenAiError(errorEvent) ? { outcome: 'refused', why: `stream error event ${errorCode(errorEvent)}` } : { outcome: 'broken', why: `malformed stream error event ${errorEvent.slice(0, 120)}` };
    }
    if (events[events.length - 1] === '[DONE]' && a.error === undefined) return { outcome: 'served', why: 'stream' };
    return { outcome: 'broken', why: `stream ended without [DONE] or an error event${a.error ? ` (${a.error})` : ''}` };
  }
  try {
    const body = JSON.parse(a.text) as { choices?: unknown[] };
    if (Array.isArray(body.choices) && body.choices.length > 0) return { outcome: 'served', why: 'json' };
  } catch {
    /* below */
  }
  return { outcome: 'broken', why: `200 without a completion: ${a.text.slice(0, 120)}` };
}

function errorCode(text: string): string {
  try {
    const e = (JSON.parse(text) as { error: { code: string | null; type: string } }).error;
    return e.code ?? e.type;
  } catch {
    return '?';
  }
}
