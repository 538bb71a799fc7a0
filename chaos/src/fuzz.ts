/**
 * The fuzz: malformed and hostile requests over every endpoint of the
 * gateway, generated deterministically from a seed, sent as raw bytes (so
 * that headers, framing, methods and versions node:http would refuse to send
 * are sent too). Counted: every 5xx, every 4xx whose body is not the OpenAI
 * error shape, every request without an answer; each with the request that
 * caused it.
 */
import { rawExchange, isOpenAiError, type RawAnswer } from './http.js';

/** A deterministic generator (mulberry32). */
export class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) | 0;
    let t = Math.imul(this.a ^ (this.a >>> 15), 1 | this.a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** An item chosen by weight: `[[weight, item], ...]`. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    let x = this.next() * items.reduce((s, [w]) => s + w, 0);
    for (const [w, item] of items) if ((x -= w) < 0) return item;
    return items[items.length - 1]![1];
  }
  word(n: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}

/** JSON text put into a body verbatim: numbers JSON.stringify cannot write (1e400), invalid bytes, deep nesting. */
class Raw {
  constructor(readonly bytes: Buffer) {}
  static of(text: string | Buffer): Raw {
    return new Raw(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  }
}

/** Like JSON.stringify, with Raw values spliced in as they are. */
export function encodeJson(v: unknown): Buffer {
  const parts: Buffer[] = [];
  const walk = (x: unknown) => {
    if (x instanceof Raw) parts.push(x.bytes);
    else if (Array.isArray(x)) {
      parts.push(Buffer.from('['));
      x.forEach((item, i) => {
        if (i > 0) parts.push(Buffer.from(','));
        walk(item);
      });
      parts.push(Buffer.from(']'));
    } else if (typeof x === 'object' && x !== null) {
      parts.push(Buffer.from('{'));
      Object.entries(x).forEach(([k, item], i) => {
        parts.push(Buffer.from(`${i > 0 ? ',' : ''}${JSON.stringify(k)}:`));
        walk(item);
      });
      parts.push(Buffer.from('}'));
    } else parts.push(Buffer.from(JSON.stringify(x) ?? 'null'));
  };
  walk(v);
  return Buffer.concat(parts);
}

type Auth = 'user' | 'admin' | 'none';

interface Endpoint {
  id: string;
  method: string;
  /** The path with a valid parameter; `param` replaces it. */
  path: (param?: string) => string;
  /** A valid parameter, when the path has one. */
  param?: () => string;
  auth: Auth;
  body?: () => Record<string, unknown>;
  query?: string;
  weight: number;
}

export interface FuzzKeys {
  /** An API key of tenant `fuzz`. */
  user: string;
  admin: string;
}

const chatBody = () => ({
  model: 'auto',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'hello from the fuzz' },
  ],
  max_tokens: 16,
  temperature: 0.7,
  stop: ['\n\n'],
  user: 'fuzz-user',
  metadata: { run: 'chaos' },
  tools: [{ type: 'function', function: { name: 'lookup', description: 'Look something up', parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } } }],
  tool_choice: 'auto',
  response_format: { type: 'text' },
});

/** A response id of the right shape that no one created: the routes answer 404 for it. */
const FUZZ_RESPONSE_ID = `resp_${'0'.repeat(48)}`;

const responsesBody = () => ({
  model: 'auto',
  instructions: 'Be brief.',
  input: [
    { role: 'user', content: [{ type: 'input_text', text: 'hello from the fuzz' }] },
    { type: 'function_call', call_id: 'call_fz', name: 'lookup', arguments: '{"q":"x"}' },
    { type: 'function_call_output', call_id: 'call_fz', output: 'found' },
  ],
  max_output_tokens: 16,
  temperature: 0.7,
  metadata: { run: 'chaos' },
  tools: [{ type: 'function', name: 'lookup', description: 'Look something up', parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } }],
  tool_choice: 'auto',
  store: true,
});

/** Every endpoint of the gateway (the controllers and the README's table), and unknown paths. */
export const ENDPOINTS: readonly Endpoint[] = [
  { id: 'POST /v1/chat/completions', method: 'POST', path: () => '/v1/chat/completions', auth: 'user', body: chatBody, weight: 6 },
  { id: 'POST /v1/responses', method: 'POST', path: () => '/v1/responses', auth: 'user', body: responsesBody, weight: 3 },
  { id: 'GET /v1/responses/:id', method: 'GET', path: (p = FUZZ_RESPONSE_ID) => `/v1/responses/${p}`, param: () => FUZZ_RESPONSE_ID, auth: 'user', weight: 1 },
  { id: 'DELETE /v1/responses/:id', method: 'DELETE', path: (p = FUZZ_RESPONSE_ID) => `/v1/responses/${p}`, param: () => FUZZ_RESPONSE_ID, auth: 'user', weight: 1 },
  { id: 'GET /v1/models', method: 'GET', path: () => '/v1/models', auth: 'user', weight: 1 },
  { id: 'GET /v1/models/:id', method: 'GET', path: (p = 'chaos-a') => `/v1/models/${p}`, param: () => 'chaos-a', auth: 'user', weight: 1 },
  { id: 'GET /v1/usage', method: 'GET', path: () => '/v1/usage', auth: 'user', query: 'period=month', weight: 1 },
  { id: 'GET /v1/policy', method: 'GET', path: () => '/v1/policy', auth: 'user', weight: 1 },
  {
    id: 'POST /admin/keys',
    method: 'POST',
    path: () => '/admin/keys',
    auth: 'admin',
    body: () => ({ tenant: 'fz-keys', name: 'fuzzed', allowedClasses: ['general'], defaultClass: 'general', allowedModels: ['chaos-a', 'chaos-b', 'chaos-c'], budget: { budgetUsd: 1, period: 'month' }, expiresInSeconds: 3600 }),
    weight: 3,
  },
  { id: 'GET /admin/keys', method: 'GET', path: () => '/admin/keys', auth: 'admin', query: 'tenant=fz-keys', weight: 1 },
  { id: 'GET /admin/keys/:id', method: 'GET', path: (p = 'abcdefghijkl') => `/admin/keys/${p}`, param: () => 'abcdefghijkl', auth: 'admin', weight: 1 },
  { id: 'POST /admin/keys/:id/revoke', method: 'POST', path: (p = 'abcdefghijkl') => `/admin/keys/${p}/revoke`, param: () => 'abcdefghijkl', auth: 'admin', weight: 1 },
  { id: 'DELETE /admin/keys/:id', method: 'DELETE', path: (p = 'abcdefghijkl') => `/admin/keys/${p}`, param: () => 'abcdefghijkl', auth: 'admin', weight: 1 },
  {
    id: 'PUT /admin/tenants/:tenant/budget',
    method: 'PUT',
    path: (p = 'fz-budget') => `/admin/tenants/${p}/budget`,
    param: () => 'fz-budget',
    auth: 'admin',
    body: () => ({ budgetUsd: 5, period: 'month', dailyCapUsd: 1, thresholds: { notice: 0.7, downgrade: 0.8, restrict: 0.95 }, downgradeCriticalities: ['nonessential'], restrictCriticalities: ['batch'] }),
    weight: 3,
  },
  { id: 'GET /admin/tenants/:tenant/budget', method: 'GET', path: (p = 'fz-budget') => `/admin/tenants/${p}/budget`, param: () => 'fz-budget', auth: 'admin', weight: 1 },
  { id: 'GET /admin/tenants/:tenant/usage', method: 'GET', path: (p = 'fuzz') => `/admin/tenants/${p}/usage`, param: () => 'fuzz', auth: 'admin', query: 'period=all', weight: 1 },
  { id: 'GET /admin/report', method: 'GET', path: () => '/admin/report', auth: 'admin', query: 'period=month', weight: 1 },
  { id: 'GET /admin/policy', method: 'GET', path: () => '/admin/policy', auth: 'admin', weight: 1 },
  { id: 'GET /admin/policy/history', method: 'GET', path: () => '/admin/policy/history', auth: 'admin', query: 'limit=5', weight: 1 },
  { id: 'POST /admin/policy/simulate', method: 'POST', path: () => '/admin/policy/simulate', auth: 'admin', body: () => ({ policy: 'tiers: [a]\nproviders: {}\nmodels: {}\nclasses: {}\n', last: 20, sample: 2 }), weight: 1 },
  { id: 'GET /admin/policy/shadow', method: 'GET', path: () => '/admin/policy/shadow', auth: 'admin', weight: 1 },
  { id: 'POST /v1/routing/explain', method: 'POST', path: () => '/v1/routing/explain', auth: 'user', body: chatBody, weight: 2 },
  { id: 'POST /support/chat', method: 'POST', path: () => '/support/chat', auth: 'user', body: () => ({ message: 'Where is my order?', history: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] }), weight: 2 },
  { id: 'POST /batch/summaries', method: 'POST', path: () => '/batch/summaries', auth: 'user', body: () => ({ items: [{ id: 'a', text: 'First text.' }, { id: 'b', text: 'Second text.' }], concurrency: 2 }), weight: 2 },
  { id: 'GET /health', method: 'GET', path: (p = '') => `/health${p}`, auth: 'none', weight: 1 },
  { id: 'GET /metrics', method: 'GET', path: () => '/metrics', auth: 'none', weight: 1 },
  { id: 'unknown paths', method: 'GET', path: () => '/v2/chat/completions', auth: 'user', weight: 1 },
];

const UNKNOWN_PATHS = ['/v1/completions', '/v1/embeddings', '/v2/chat/completions', '/admin', '/admin/keys/a/b/c', '/.env', '/', '/favicon.ico', '/%2e%2e/%2e%2e/etc/passwd', '/v1/chat/completions/../../admin/report', '/_sim/faults', '/v1/chat', '/health/deep/x', '/v1//models', '/V1/MODELS', '/v1/chat/completions/', '/metrics/x', '/support', '/batch/summaries/1'];

const HOSTILE_NUMBERS = ['1e400', '-1e400', '-0', '1e-400', '9e15', '9007199254740993', '-1', '0', '1e308', '-1e308', '123456789012345678901234567890', '0.0000001', '2147483648', '-2147483649', '1.5', '4e9', '1E+2'];

const KEY_LIKE = `llmr_abcdefghijkl_${'A'.repeat(43)}`;

function hostileString(r: Rng): unknown {
  return r.pick<() => unknown>([
    () => 'a\u0000b',
    () => '\u0000',
    () => '\ud800',
    () => 'x\udfffy',
    () => 'tail\ud83d',
    () => '\u202eevil\u202c',
    () => '',
    () => ' ',
    () => 'x'.repeat(100_000),
    () => '😀'.repeat(1000),
    () => 'line\r\nX-Injected: 1',
    () => "'; DROP TABLE llm_routing_records;--",
    () => '<script>alert(1)</script>',
    () => '../../../../etc/passwd',
    () => KEY_LIKE,
    () => 'sk-proj-0123456789abcdefghijklmnopqrstuvwxyz',
    () => 'NaN',
    () => 'Infinity',
    () => '__proto__',
    () => Raw.of(Buffer.concat([Buffer.from('"a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"')])),
    () => Raw.of(Buffer.concat([Buffer.from('"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"')])),
    () => Raw.of(Buffer.concat([Buffer.from('"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"')])),
    () => Raw.of('"\\u0000\\ud800\\udbff"'),
    () => Raw.of('"bad escape \\x41"'),
  ])();
}

function deep(r: Rng, depth: number): Raw {
  const kind = r.pick(['array', 'object', 'mixed']);
  if (kind === 'array') return Raw.of('['.repeat(depth) + ']'.repeat(depth));
  if (kind === 'object') return Raw.of('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
  return Raw.of('[{"a":'.repeat(depth >> 1) + 'null' + '}]'.repeat(depth >> 1));
}

function wrongValue(r: Rng): { value: unknown; label: string } {
  return r.weighted<() => { value: unknown; label: string }>([
    [3, () => ({ value: r.pick<unknown>(['str', 123, -5, true, false, [], {}, [1, 2, 3], { a: { b: 1 } }, 0.5]), label: 'wrong type' })],
    [1, () => ({ value: null, label: 'null' })],
    [3, () => ({ value: Raw.of(r.pick(HOSTILE_NUMBERS)), label: 'hostile number' })],
    [4, () => ({ value: hostileString(r), label: 'hostile string' })],
    [1, () => ({ value: deep(r, r.pick([70, 1000, 5000])), label: 'deep nesting' })],
    [1, () => ({ value: Array.from({ length: r.pick([1000, 10_000]) }, (_, i) => (r.chance(0.5) ? i : { role: 'user', content: String(i) })), label: 'long array' })],
  ])();
}

/** Every path to a value in `v` (keys and array indices). */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push([...prefix, i], ...paths(x, [...prefix, i])));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) out.push([...prefix, k], ...paths(x, [...prefix, k]));
  return out;
}

function setAt(root: Record<string, unknown>, path: (string | number)[], value: unknown, remove: boolean): void {
  let at: any = root;
  for (const p of path.slice(0, -1)) at = at[p];
  const last = path[path.length - 1]!;
  if (remove) {
    if (Array.isArray(at)) at.splice(last as number, 1);
    else delete at[last];
  } else at[last] = value;
}

/** One generated request. */
export interface FuzzCase {
  n: number;
  endpoint: string;
  mutation: string;
  method: string;
  path: string;
  bytes: Buffer;
  head: boolean;
}

interface Parts {
  method: string;
  path: string;
  version: string;
  /** undefined: the endpoint's own credential. */
  authorization?: string | Buffer | null;
  contentType?: string | null;
  body?: Buffer;
  /** Headers in order; a Buffer value is sent as raw bytes. */
  headers: [string, string | Buffer][];
  host: boolean;
  contentLength: 'auto' | 'none';
  /** Replaces the whole request. */
  raw?: Buffer;
}

type Mutation = (r: Rng, ep: Endpoint, p: Parts, keys: FuzzKeys) => string;

const credential = (auth: Auth, keys: FuzzKeys): string | null => (auth === 'user' ? `Bearer ${keys.user}` : auth === 'admin' ? `Bearer ${keys.admin}` : null);

const AUTH: Mutation = (r, ep, p, keys) => {
  const valid = credential(ep.auth, keys) ?? `Bearer ${keys.user}`;
  const [label, value] = r.pick<[string, string | Buffer | null]>([
    ['missing', null],
    ['empty bearer', 'Bearer '],
    ['basic scheme', 'Basic dXNlcjpwYXNzd29yZA=='],
    ['garbage token', `Bearer ${r.word(30, 'abcdefghijklmnopqrstuvwxyz!@#$%^&*()')}`],
    ['forged key', `Bearer llmr_${r.word(12)}_${r.word(43)}`],
    ['key with a wrong secret', `${valid.slice(0, -4)}AAAA`],
    ['long token', `Bearer ${'x'.repeat(10_000)}`],
    ['utf-8 bytes', Buffer.concat([Buffer.from('Bearer llmr_'), Buffer.from('éü😀', 'utf8')])],
    ['the other role', ep.auth === 'admin' ? `Bearer ${keys.user}` : `Bearer ${keys.admin}`],
    ['lower-case scheme', valid.replace('Bearer', 'bearer')],
    ['no scheme', valid.replace('Bearer ', '')],
    ['two spaces', valid.replace('Bearer ', 'Bearer  ')],
  ]);
  p.authorization = value;
  if (label === 'missing' || r.chance(0.1)) return `auth: ${label}`;
  if (r.chance(0.15)) {
    p.headers.push(['Authorization', `Bearer ${r.word(20)}`]);
    return `auth: ${label} + a second Authorization header`;
  }
  return `auth: ${label}`;
};

const METHOD: Mutation = (r, ep, p) => {
  const method = r.pick(['PATCH', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'FOO', 'get', 'M-SEARCH', 'PURGE', 'LINK', ep.method === 'GET' ? 'POST' : 'GET']);
  p.method = method;
  if (method !== 'GET' && method !== 'HEAD' && !p.body && r.chance(0.5)) {
    p.body = Buffer.from('{"messages":[{"role":"user","content":"hi"}]}');
    p.contentType = 'application/json';
  }
  return `method: ${method}`;
};

const HEADER: Mutation = (r, _ep, p) => {
  const big = (n: number) => 'a'.repeat(n);
  return r.pick<() => string>([
    () => (p.headers.push(['X-Big', big(r.pick([17_000, 40_000, 70_000]))]), 'header: oversized'),
    () => {
      for (let i = 0; i < r.pick([200, 3000]); i++) p.headers.push([`X-H-${i}`, 'v']);
      return 'header: many headers';
    },
    () => (p.headers.push(['X-Bad', Buffer.from('a\u0000b', 'latin1')]), 'header: NUL in a value'),
    () => (p.headers.push(['X-Bad', Buffer.from('a\u0001\u007fb', 'latin1')]), 'header: control characters'),
    () => (p.headers.push(['X Bad Name', 'v']), 'header: spaces in the name'),
    () => (p.headers.push(['X-Feature', Buffer.from('fé😀ture', 'utf8')]), 'header: x-feature utf-8 bytes'),
    () => (p.headers.push(['X-Feature', Buffer.from([0xff, 0xfe, 0x41])]), 'header: x-feature invalid utf-8'),
    () => (p.headers.push(['X-Feature', r.pick([big(8000), KEY_LIKE, `Bearer ${KEY_LIKE}`, 'api_key=secret123'])]), 'header: x-feature hostile'),
    () => (p.headers.push(['X-Session-Id', r.pick([big(8000), KEY_LIKE, '', '\t'])]), 'header: x-session-id hostile'),
    () => (p.headers.push(['X-Request-Id', r.pick([big(8000), '../x', '', '😀'])]), 'header: x-request-id hostile'),
    () => (p.headers.push(['X-Traffic-Class', r.pick(['nope', 'soak', 'support-chat', 'batch-summaries', big(5000), '', '../general', 'general,soak', '__proto__', 'constructor'])]), 'header: x-traffic-class'),
    () => (p.headers.push(['X-Traffic-Class', 'general'], ['X-Traffic-Class', 'soak']), 'header: two x-traffic-class'),
    () => (p.headers.push(['X-Tenant-Id', r.pick(['other-tenant', big(500), ''])]), 'header: x-tenant-id'),
    () => ((p.contentLength = 'none'), p.headers.push(['Content-Length', '1'], ['Content-Length', '2']), 'header: two Content-Length'),
    () => ((p.contentLength = 'none'), p.headers.push(['Content-Length', r.pick(['-1', 'abc', '1e3', '0x10', ' 5'])]), 'header: invalid Content-Length'),
    () => ((p.contentLength = 'none'), p.headers.push(['Content-Length', '99999999999']), 'header: Content-Length far past the limit'),
    () => ((p.contentLength = 'none'), p.headers.push(['Content-Length', String(Math.max(0, (p.body?.length ?? 0) >> 1))]), 'header: Content-Length shorter than the body'),
    () => {
      p.contentLength = 'none';
      const body = p.body ?? Buffer.from('{}');
      p.headers.push(['Transfer-Encoding', 'chunked']);
      p.body = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
      return 'header: chunked body';
    },
    () => ((p.contentLength = 'none'), p.headers.push(['Transfer-Encoding', 'chunked']), (p.body = Buffer.from('zz\r\nhello\r\n0\r\n\r\n')), 'header: chunked, bad chunk size'),
    () => (p.headers.push(['Transfer-Encoding', 'chunked']), 'header: Transfer-Encoding and Content-Length'),
    () => ((p.contentLength = 'none'), p.headers.push(['Transfer-Encoding', 'gzip, chunked']), (p.body = Buffer.from('0\r\n\r\n')), 'header: Transfer-Encoding gzip'),
    () => (p.headers.push(['Content-Encoding', r.pick(['gzip', 'br', 'identity, gzip'])]), 'header: Content-Encoding not applied'),
    () => (p.headers.push(['Expect', '100-continue']), 'header: Expect 100-continue'),
    () => (p.headers.push(['Expect', 'something-else']), 'header: Expect unknown'),
    () => ((p.host = false), 'header: no Host'),
    () => (p.headers.push(['Host', 'evil.example']), 'header: two Host'),
    () => (p.headers.push(['Accept', r.pick(['text/event-stream', 'application/xml', '*/*;q=abc', big(3000)])]), 'header: Accept'),
    () => (p.headers.push(['X-Forwarded-For', '1.2.3.4, 5.6.7.8'], ['Forwarded', 'for=unknown']), 'header: forwarding'),
  ])();
};

const CONTENT_TYPE: Mutation = (r, _ep, p) => {
  const ct = r.pick<string | null>([
    null,
    'text/plain',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
    'application/json; charset=utf-16le',
    'application/json; charset=latin1',
    'application/xml',
    'application/json, text/plain',
    'APPLICATION/JSON',
    'application/json;;;',
    'application/vnd.api+json',
    'application/jsonx',
    `application/json; ${'p=1; '.repeat(1000)}`,
    '',
  ]);
  p.contentType = ct;
  if (ct?.includes('utf-16') && p.body && r.chance(0.5)) p.body = Buffer.from(p.body.toString('utf8'), 'utf16le');
  return `content-type: ${ct === null ? 'none' : ct.slice(0, 40)}`;
};

const PATH: Mutation = (r, ep, p) => {
  const q = p.path.includes('?') ? p.path.slice(p.path.indexOf('?')) : '';
  if (ep.param && r.chance(0.6)) {
    const [label, param] = r.pick<[string, string]>([
      ['101 characters', 'x'.repeat(101)],
      ['2,000 characters', 'y'.repeat(2000)],
      ['20,000 characters', 'z'.repeat(20_000)],
      ['%ZZ', '%ZZ'],
      ['%00', 'a%00b'],
      ['lone surrogate escaped', '%ED%A0%80'],
      ['overlong utf-8', '%C0%AF'],
      ['emoji', '%F0%9F%98%80'],
      ['dot-dot', '..'],
      ['encoded slash', 'a%2Fb'],
      ['encoded traversal', '%2e%2e%2f%2e%2e%2fadmin'],
      ['curly braces', '%7Bt%7D'],
      ['__proto__', '__proto__'],
      ['empty', ''],
    ]);
    p.path = ep.path(param) + q;
    return `path param: ${label}`;
  }
  const [label, path] = r.pick<[string, string]>([
    ['trailing slash', `${p.path.split('?')[0]}/`],
    ['double slash', `/${p.path}`],
    ['upper case', p.path.toUpperCase()],
    ['dot segments', `/v1/../${p.path.replace(/^\//, '')}`],
    ['absolute form', `http://evil.example${p.path}`],
    ['asterisk', '*'],
    ['fragment', `${p.path}#frag`],
    ['bad percent', `${p.path}%`],
  ]);
  p.path = path;
  return `path: ${label}`;
};

const QUERY: Mutation = (r, _ep, p) => {
  const base = p.path.split('?')[0];
  const [label, query] = r.pick<[string, string]>([
    ['period garbage', 'period=decade'],
    ['period array', 'period[]=month&period=day'],
    ['period twice', 'period=month&period=week'],
    ['from 1e400', 'from=1e400'],
    ['to before from', 'from=2030-01-01&to=2020-01-01'],
    ['from at the end of time', 'from=%2B275760-09-13T00:00:00.001Z'],
    ['from before time', 'from=-271821-04-20T00:00:00.000Z&to=2026-01-01'],
    ['from not a date', 'from=yesterday&to=now'],
    ['to only', 'to=2999-12-31'],
    ['NUL', 'tenant=%00&period=%00'],
    ['bad percent', 'tenant=%ZZ&period=%'],
    ['utf-8', 'tenant=%F0%9F%98%80'],
    ['long value', `tenant=${'t'.repeat(5000)}`],
    ['many params', Array.from({ length: 1000 }, (_, i) => `p${i}=${i}`).join('&')],
    ['proto', '__proto__[x]=1&constructor[prototype][y]=2'],
    ['empty', ''],
  ]);
  p.path = query === '' ? `${base}?` : `${base}?${query}`;
  return `query: ${label}`;
};

const VERSION: Mutation = (r, _ep, p) => {
  return r.pick<() => string>([
    () => ((p.version = 'HTTP/1.0'), 'version: HTTP/1.0'),
    () => ((p.version = r.pick(['HTTP/2.0', 'HTTP/9.9', 'HTTP/1.1.1', 'HTTPS/1.1', 'http/1.1'])), `version: ${p.version}`),
    () => ((p.raw = Buffer.from(`${r.word(40, 'ABCDEFG /\\<>?')}\r\n\r\n`)), 'request line: garbage'),
    () => ((p.raw = Buffer.concat([Buffer.from('GET /v1/mo'), Buffer.from([0x00, 0xff]), Buffer.from('dels HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')])), 'request line: raw bytes'),
    () => ((p.raw = Buffer.from('GET /v1/models HTTP/1.1\nHost: x\nConnection: close\n\n')), 'request line: bare LF'),
    () => ((p.raw = Buffer.from(`GET /v1/mod els HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)), 'request line: space in the path'),
    () => ((p.raw = Buffer.from('\r\n\r\n')), 'request line: empty'),
    () => ((p.raw = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')), 'request line: HTTP/2 preface'),
    () => ((p.raw = Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03])), 'request line: TLS hello'),
  ])();
};

const INVALID_JSON = [
  '',
  '{',
  '{"messages":',
  '}',
  'null',
  '[]',
  '"x"',
  '123',
  'true',
  "{'a':1}",
  '{"a":1,}',
  '{"a":NaN}',
  '{"a":Infinity}',
  '{"a":undefined}',
  '/* c */ {}',
  '\ufeff{"messages":[{"role":"user","content":"hi"}]}',
  '{"messages":[{"role":"user","content":"hi"}]} trailing',
  '{"a":"unterminated',
  '{"a":"\\x41"}',
  '\u0000',
  '{"a":01}',
  '{"a":.5}',
  '{"a":+1}',
  '{"a":1e}',
  '{"a" 1}',
  '[1,2',
];

const BODY_INVALID: Mutation = (r, _ep, p) => {
  if (r.chance(0.15)) {
    p.body = Buffer.from(Array.from({ length: r.pick([1, 64, 4096]) }, () => r.int(256)));
    return 'body: random bytes';
  }
  const text = r.pick(INVALID_JSON);
  p.body = Buffer.from(text, 'utf8');
  return `body: invalid JSON ${JSON.stringify(text.slice(0, 30))}`;
};

const BODY_FIELD: Mutation = (r, ep, p) => {
  const body = ep.body!();
  const all = paths(body);
  const path = r.pick(all);
  const where = path.join('.');
  if (r.chance(0.2)) {
    setAt(body, path, undefined, true);
    p.body = encodeJson(body);
    return `field ${where}: removed`;
  }
  const { value, label } = wrongValue(r);
  setAt(body, path, value, false);
  p.body = encodeJson(body);
  return `field ${where}: ${label}`;
};

const BODY_SHAPE: Mutation = (r, ep, p) => {
  const body = ep.body!();
  return r.pick<() => string>([
    () => ((p.body = encodeJson(deep(r, r.pick([65, 1000, 5000, 100_000])))), 'body: deep nesting at the root'),
    () => ((p.body = encodeJson({ ...body, extra: deep(r, r.pick([65, 5000])) })), 'body: deep nesting in an extra field'),
    () => ((p.body = Buffer.from(`[${Array.from({ length: 30_000 }, (_, i) => i).join(',')}]`)), 'body: 30,000 values'),
    () => ((p.body = encodeJson({ ...body, wide: Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`p${i}`, i])) })), 'body: 100,000 properties'),
    () => ((p.body = encodeJson({ ...body, pad: 'x'.repeat(4_500_000) })), 'body: 4.5 MB'),
    () => ((p.body = encodeJson({ ...body, pad: 'x'.repeat(1_000_000) })), 'body: 1 MB'),
    () => ((p.body = encodeJson({ ...body, unknown_field: r.pick<unknown>([1, 'x', { a: 1 }]) })), 'body: unknown field'),
    () => ((p.body = Buffer.from(`{"__proto__":{"polluted":true},${encodeJson(body).toString('utf8').slice(1)}`)), 'body: __proto__'),
    () => ((p.body = encodeJson({ constructor: { prototype: { polluted: true } }, ...body })), 'body: constructor.prototype'),
    () => {
      const text = encodeJson(body).toString('utf8');
      const firstKey = Object.keys(body)[0]!;
      p.body = Buffer.from(`{${JSON.stringify(firstKey)}:"dup",${text.slice(1)}`);
      return 'body: duplicate key';
    },
    () => ((p.body = encodeJson([body])), 'body: an array of the body'),
    () => ((p.body = encodeJson({})), 'body: empty object'),
  ])();
};

function mutationsFor(ep: Endpoint): readonly (readonly [number, Mutation])[] {
  const common: [number, Mutation][] = [
    [10, AUTH],
    [12, HEADER],
    [5, METHOD],
    [ep.param ? 8 : 3, PATH],
    [ep.method === 'GET' ? 6 : 2, QUERY],
    [2, VERSION],
  ];
  return ep.body ? [...common, [30, BODY_FIELD], [10, BODY_INVALID], [10, BODY_SHAPE], [8, CONTENT_TYPE]] : common;
}

function render(p: Parts, keys: FuzzKeys, ep: Endpoint): Buffer {
  if (p.raw) return p.raw;
  const lines: Buffer[] = [Buffer.from(`${p.method} ${p.path} ${p.version}\r\n`)];
  const header = (name: string, value: string | Buffer) => lines.push(Buffer.concat([Buffer.from(`${name}: `), typeof value === 'string' ? Buffer.from(value, 'utf8') : value, Buffer.from('\r\n')]));
  if (p.host) header('Host', '127.0.0.1');
  const auth = p.authorization === undefined ? credential(ep.auth, keys) : p.authorization;
  if (auth !== null) header('Authorization', auth);
  const ct = p.contentType === undefined ? (p.body ? 'application/json' : null) : p.contentType;
  if (ct !== null) header('Content-Type', ct);
  if (p.contentLength === 'auto' && (p.body || p.method === 'POST' || p.method === 'PUT')) header('Content-Length', String(p.body?.length ?? 0));
  header('Connection', 'close');
  for (const [name, value] of p.headers) header(name, value);
  lines.push(Buffer.from('\r\n'));
  if (p.body) lines.push(p.body);
  return Buffer.concat(lines);
}

/** `count` requests, spread over every endpoint (round robin by weight), each with one mutation drawn from the seed. */
export function* fuzzCases(seed: number, count: number, keys: FuzzKeys): Generator<FuzzCase> {
  const r = new Rng(seed);
  const ring = ENDPOINTS.flatMap((ep) => Array.from({ length: ep.weight }, () => ep));
  for (let n = 0; n < count; n++) {
    const ep = ring[n % ring.length]!;
    let path = ep.path();
    if (ep.id === 'unknown paths') path = r.pick(UNKNOWN_PATHS);
    else if (ep.id === 'GET /health') path = ep.path(r.pick(['', '/live', '/ready']));
    if (ep.query) path += `?${ep.query}`;
    const p: Parts = { method: ep.method, path, version: 'HTTP/1.1', headers: [], host: true, contentLength: 'auto', ...(ep.body ? { body: encodeJson(ep.body()) } : {}) };
    if (ep.id === 'unknown paths') p.method = r.pick(['GET', 'POST', 'PUT', 'DELETE']);
    const mutation = r.weighted(mutationsFor(ep))(r, ep, p, keys);
    yield { n, endpoint: ep.id, mutation, method: p.method, path: p.raw ? '(raw)' : p.path, bytes: render(p, keys, ep), head: p.method === 'HEAD' };
  }
}

export interface Offender {
  n: number;
  endpoint: string;
  mutation: string;
  request: string;
  status: number;
  answer: string;
}

export interface FuzzResult {
  requests: number;
  byEndpoint: Record<string, number>;
  byStatus: Record<string, number>;
  /** Any 5xx. */
  serverErrors: Offender[];
  /** A 4xx whose body is not `{error:{message,type,code,param}}` (HEAD answers have no body and are not counted). */
  notOpenAiShape: Offender[];
  /** No response at all: a reset or close without a status, or nothing within the client's timeout. */
  unanswered: Offender[];
  ms: number;
}

function offender(c: FuzzCase, a: RawAnswer): Offender {
  const request = `${c.method} ${c.path.length > 100 ? `${c.path.slice(0, 100)}…(${c.path.length})` : c.path}`;
  const answer = a.status === 0 ? (a.timedOut ? 'no answer (client timeout)' : `no answer (${a.error ?? 'closed'})`) : a.body.slice(0, 200);
  return { n: c.n, endpoint: c.endpoint, mutation: c.mutation, request, status: a.status, answer };
}

/** Sends every case (`concurrency` at a time) and counts what came back. */
export async function runFuzz(port: number, keys: FuzzKeys, o: { requests: number; seed: number; concurrency: number; timeoutMs: number; onProgress?: (done: number) => void }): Promise<FuzzResult> {
  const started = performance.now();
  const result: FuzzResult = { requests: 0, byEndpoint: {}, byStatus: {}, serverErrors: [], notOpenAiShape: [], unanswered: [], ms: 0 };
  const cases = fuzzCases(o.seed, o.requests, keys);
  const worker = async () => {
    for (let next = cases.next(); !next.done; next = cases.next()) {
      const c = next.value;
      const a = await rawExchange(port, c.bytes, o.timeoutMs, c.head);
      result.requests++;
      result.byEndpoint[c.endpoint] = (result.byEndpoint[c.endpoint] ?? 0) + 1;
      const s = a.status === 0 ? 'none' : String(a.status);
      result.byStatus[s] = (result.byStatus[s] ?? 0) + 1;
      if (a.status >= 500) result.serverErrors.push(offender(c, a));
      else if (a.status >= 400 && !c.head && !isOpenAiError(a.body)) result.notOpenAiShape.push(offender(c, a));
      else if (a.status === 0) result.unanswered.push(offender(c, a));
      if (result.requests % 200 === 0) o.onProgress?.(result.requests);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  for (const list of [result.serverErrors, result.notOpenAiShape, result.unanswered]) list.sort((a, b) => a.n - b.n);
  result.ms = performance.now() - started;
  return result;
}
