/** Plain HTTP against the gateway (node:http, one connection per request), and SSE reading. */
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined if it is not JSON. */
  json: any;
}

export interface Started {
  readonly req: ClientRequest;
  /** Resolves with the response head; rejects if the request fails before it. */
  readonly response: Promise<IncomingMessage>;
}

/** Send a request and return at once: the caller may abort it with `req.destroy()`. */
export function start(url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Started {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const req = httpRequest(url, {
    method,
    agent: false,
    headers: { ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}), ...headers },
  });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
  // An aborted request's rejection is expected; don't let it go unhandled.
  response.catch(() => undefined);
  req.end(payload);
  return { req, response };
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (t: string) => (text += t));
    res.on('end', () => resolve(text));
    res.on('error', reject);
    res.on('aborted', () => resolve(text));
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export async function http(url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  const res = await start(url, method, body, headers).response;
  const text = await readAll(res);
  return { status: res.statusCode ?? 0, headers: res.headers, text, json: parseJson(text) };
}

export const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) => http(url, 'POST', body, headers);
export const getJson = (url: string) => http(url, 'GET');

export interface SseResult extends HttpResult {
  /** Every `data:` payload, parsed (the literal `[DONE]` kept as a string). */
  events: any[];
  /** True when the stream ended with `data: [DONE]`. */
  done: boolean;
}

/** The `data:` payloads of an SSE body. */
export function parseSse(text: string): any[] {
  const events: any[] = [];
  for (const block of text.split(/\n\n/)) {
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data.length === 0) continue;
    events.push(data === '[DONE]' ? data : (parseJson(data) ?? data));
  }
  return events;
}

/** POST a streaming request and read the whole reply. */
export async function postSse(url: string, body: unknown, headers: Record<string, string> = {}): Promise<SseResult> {
  const r = await http(url, 'POST', body, headers);
  const events = r.headers['content-type']?.startsWith('text/event-stream') ? parseSse(r.text) : [];
  return { ...r, events, done: events.at(-1) === '[DONE]' };
}

/** Content deltas of OpenAI chunks, joined. */
export function joinedContent(events: any[]): string {
  return events
    .filter((e) => typeof e === 'object' && e !== null && Array.isArray(e.choices))
    .map((e) => e.choices.map((c: any) => c.delta?.content ?? '').join(''))
    .join('');
}

/** OpenAI chunks (objects with `choices`), in order. */
export function chunksOf(events: any[]): any[] {
  return events.filter((e) => typeof e === 'object' && e !== null && Array.isArray(e.choices));
}

/**
 * Read an SSE response until `until(events)` holds; resolves with the events
 * so far. Rejects if the stream ends first or after `timeoutMs`.
 */
export function readSseUntil(res: IncomingMessage, until: (events: any[]) => boolean, timeoutMs = 3_000): Promise<any[]> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => finish(new Error(`SSE condition not met within ${timeoutMs} ms; got: ${text.slice(0, 500)}`)), timeoutMs);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      res.off('data', onData);
      res.off('end', onEnd);
      if (err) reject(err);
      else resolve(parseSse(text));
    };
    const onData = (t: string) => {
      text += t;
      // Only whole events count.
      const complete = text.slice(0, text.lastIndexOf('\n\n') + 2);
      if (until(parseSse(complete))) finish();
    };
    const onEnd = () => finish(new Error(`SSE stream ended before the condition held; got: ${text.slice(0, 500)}`));
    res.setEncoding('utf8');
    res.on('data', onData);
    res.on('end', onEnd);
  });
}
