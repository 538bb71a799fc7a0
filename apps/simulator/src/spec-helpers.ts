/**
 * Test-only helpers for the simulator specs: raw HTTP calls that report
 * partial bodies and socket errors, and a strict SSE splitter.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Everything received, even when the body was cut. */
  body: string;
  /** False when the connection dropped before the body ended. */
  complete: boolean;
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as-is when a string, JSON-encoded otherwise. */
  body?: unknown;
  /** Abort the request (destroying the socket) after this many ms. */
  timeoutMs?: number;
  agent?: Agent;
}

/** One HTTP exchange over node:http. Rejects on a socket error before the response head. */
export function call(url: string, options: CallOptions = {}): Promise<RawResponse> {
  const payload = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? (payload === undefined ? 'GET' : 'POST'),
        headers: { 'content-type': 'application/json', ...options.headers },
        agent: options.agent,
      },
      (res) => {
        let body = '';
        let settled = false;
        const finish = () => {
          if (settled) return;
          settled = true;
          if (timer) clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, complete: res.complete });
        };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', finish);
        res.on('error', finish);
        res.on('close', finish);
      },
    );
    let timer: NodeJS.Timeout | undefined;
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })), options.timeoutMs);
    }
    req.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    req.end(payload);
  });
}

/** JSON POST; parses the reply body as JSON. */
export async function postJson(url: string, body: unknown, headers?: Record<string, string>): Promise<RawResponse & { json: any }> {
  const res = await call(url, { body, headers });
  return { ...res, json: res.body.length > 0 && res.headers['content-type']?.includes('json') ? JSON.parse(res.body) : undefined };
}

export interface SseFrame {
  event?: string;
  data: string;
}

/** Split an SSE body into frames; throws on a line that is not `event:` / `data:` or on an unterminated frame. */
export function parseSse(text: string): SseFrame[] {
  if (text.length > 0 && !text.endsWith('\n\n')) throw new Error(`SSE body does not end with a blank line: ${JSON.stringify(text.slice(-40))}`);
  const frames: SseFrame[] = [];
  for (const block of text.split('\n\n')) {
    if (block === '') continue;
    const frame: SseFrame = { data: '' };
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) frame.event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
      else throw new Error(`unexpected SSE line: ${JSON.stringify(line)}`);
    }
    frame.data = data.join('\n');
    frames.push(frame);
  }
  return frames;
}

/** Poll `check` until it returns true or `ms` pass. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 1000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const ANTHROPIC_HEADERS = { 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-sim' };
