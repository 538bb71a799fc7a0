/**
 * Fault rules: their types and validation, which rule matches a request, and
 * the per-request overrides (`[[sim {...}]]` directives in message text and
 * the `x-sim-fault` header).
 */

export type SimFormat = 'openai' | 'anthropic';

export const ERROR_KINDS = [
  'rate_limit',
  'quota',
  'overloaded',
  'server_error',
  'bad_gateway',
  'auth',
  'forbidden',
  'model_not_found',
  'context_length',
  'content_filter',
  'invalid_request',
] as const;

/** A failure the provider really produces; the format picks its real status and body. */
export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface Fault {
  /** Answer with this provider error (real status and body for the format). */
  error?: ErrorKind;
  /** HTTP status; alone, the format's generic body for it; with `error`, overrides its status. */
  status?: number;
  /** Replace the error body: a string is sent verbatim as text/plain, anything else as JSON. */
  body?: unknown;
  /** Seconds, sent as the `Retry-After` header (OpenAI also gets `retry-after-ms`); a string is sent verbatim. */
  retryAfter?: number | string;
  /** Wait this long before sending headers. */
  latencyMs?: number;
  /** Accept the request and never answer. */
  hang?: boolean;
  /** Destroy the socket (TCP reset) without a response. */
  reset?: boolean;
  /** Streams only: send N content chunks, then destroy the socket. */
  streamCutAfter?: number;
  /** Streams only: send N content chunks, then an error event inside the 200 stream. */
  streamErrorAfter?: number;
  /**
   * Streams only: send N content chunks, then one malformed event, then the rest of the stream as usual:
   * a provider (or a proxy before it) that broke its protocol once. The event's data is `malformedData`,
   * by default what the format cannot read: OpenAI JSON without `choices`, Anthropic JSON cut short.
   */
  streamMalformedAfter?: number;
  /** The malformed event's data (one line), for `streamMalformedAfter`. */
  malformedData?: string;
  /** Streams only: delay before each content chunk. */
  chunkDelayMs?: number;
  /** Streams only: number of content chunks the reply is split into (default 8). */
  chunks?: number;
  /** Report this many times the tokens counted (prompt and completion, rounded up): a provider whose tokenizer counts more than the caller's estimate. */
  usageScale?: number;
}

export interface FaultMatch {
  /** Upstream model id, exactly as requested. */
  model?: string;
  format?: SimFormat;
  stream?: boolean;
}

export interface FaultRule {
  id?: string;
  /** Absent fields match anything. */
  match?: FaultMatch;
  /** Apply to the next N matching requests; default unlimited. */
  times?: number;
  /** Shorthand for `fault.chunks`. */
  chunks?: number;
  fault: Fault;
}

/** A rule as stored: `times` counts down, `remaining` absent means unlimited. */
export interface ActiveFaultRule {
  id: string;
  match: FaultMatch;
  remaining?: number;
  fault: Fault;
}

/** A per-request override: applies when `model` is absent or equals the requested model. */
export interface FaultDirective extends Fault {
  model?: string;
}

export interface RequestTraits {
  model: string;
  format: SimFormat;
  stream: boolean;
}

/** Thrown for a malformed rule, directive or header. */
export class FaultRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultRuleError';
  }
}

const FAULT_KEYS = new Set<string>([
  'error',
  'status',
  'body',
  'retryAfter',
  'latencyMs',
  'hang',
  'reset',
  'streamCutAfter',
  'streamErrorAfter',
  'streamMalformedAfter',
  'malformedData',
  'chunkDelayMs',
  'chunks',
  'usageScale',
]);
const RULE_KEYS = new Set(['id', 'match', 'times', 'chunks', 'fault']);
const MATCH_KEYS = new Set(['model', 'format', 'stream']);
const KINDS = new Set<string>(ERROR_KINDS);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(message: string): never {
  throw new FaultRuleError(message);
}

function nonNegative(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(`${where} must be a number >= 0`);
  return value;
}

function count(value: unknown, where: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(`${where} must be an integer >= ${min}`);
  return value;
}

function flag(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') fail(`${where} must be a boolean`);
  return value;
}

/** Validate a fault, copying only the known fields. `extra` keys are allowed and skipped. */
export function parseFault(value: unknown, where = 'fault', extra?: ReadonlySet<string>): Fault {
  if (!isObject(value)) fail(`${where} must be an object`);
  const fault: Fault = {};
  for (const key of Object.keys(value)) {
    if (!FAULT_KEYS.has(key) && !extra?.has(key)) {
      fail(`${where}: unknown field '${key}' (known: ${[...FAULT_KEYS].join(', ')})`);
    }
  }
  const v = value;
  if (v.error !== undefined) {
    if (typeof v.error !== 'string' || !KINDS.has(v.error)) {
      fail(`${where}.error must be one of ${ERROR_KINDS.join(', ')}`);
    }
    fault.error = v.error as ErrorKind;
  }
  if (v.status !== undefined) {
    const status = count(v.status, `${where}.status`, 200);
    if (status > 599) fail(`${where}.status must be an HTTP status between 200 and 599`);
    fault.status = status;
  }
  if (v.body !== undefined) fault.body = v.body;
  if (v.retryAfter !== undefined) {
    if (typeof v.retryAfter === 'string') {
      if (v.retryAfter.length === 0 || /[\r\n]/.test(v.retryAfter)) fail(`${where}.retryAfter must be a non-empty single-line string`);
      fault.retryAfter = v.retryAfter;
    } else {
      fault.retryAfter = nonNegative(v.retryAfter, `${where}.retryAfter`);
    }
  }
  if (v.latencyMs !== undefined) fault.latencyMs = nonNegative(v.latencyMs, `${where}.latencyMs`);
  if (v.hang !== undefined) fault.hang = flag(v.hang, `${where}.hang`);
  if (v.reset !== undefined) fault.reset = flag(v.reset, `${where}.reset`);
  if (v.streamCutAfter !== undefined) fault.streamCutAfter = count(v.streamCutAfter, `${where}.streamCutAfter`, 0);
  if (v.streamErrorAfter !== undefined) fault.streamErrorAfter = count(v.streamErrorAfter, `${where}.streamErrorAfter`, 0);
  if (v.streamMalformedAfter !== undefined) fault.streamMalformedAfter = count(v.streamMalformedAfter, `${where}.streamMalformedAfter`, 0);
  if (v.malformedData !== undefined) {
    if (typeof v.malformedData !== 'string' || /[\r\n]/.test(v.malformedData)) fail(`${where}.malformedData must be a single-line string`);
    fault.malformedData = v.malformedData;
  }
  if (v.chunkDelayMs !== undefined) fault.chunkDelayMs = nonNegative(v.chunkDelayMs, `${where}.chunkDelayMs`);
  if (v.chunks !== undefined) fault.chunks = count(v.chunks, `${where}.chunks`, 1);
  if (v.usageScale !== undefined) {
    const scale = nonNegative(v.usageScale, `${where}.usageScale`);
    if (scale === 0 || scale > 1000) fail(`${where}.usageScale must be a number > 0 and <= 1000`);
    fault.usageScale = scale;
  }
  return fault;
}

function parseMatch(value: unknown, where: string): FaultMatch {
  if (value === undefined) return {};
  if (!isObject(value)) fail(`${where} must be an object`);
  for (const key of Object.keys(value)) {
    if (!MATCH_KEYS.has(key)) fail(`${where}: unknown field '${key}' (known: model, format, stream)`);
  }
  const match: FaultMatch = {};
  if (value.model !== undefined) {
    if (typeof value.model !== 'string') fail(`${where}.model must be a string`);
    match.model = value.model;
  }
  if (value.format !== undefined) {
    if (value.format !== 'openai' && value.format !== 'anthropic') fail(`${where}.format must be 'openai' or 'anthropic'`);
    match.format = value.format;
  }
  if (value.stream !== undefined) match.stream = flag(value.stream, `${where}.stream`);
  return match;
}

/** Validate one rule. */
export function parseFaultRule(value: unknown, where = 'rule'): FaultRule {
  if (!isObject(value)) fail(`${where} must be an object`);
  for (const key of Object.keys(value)) {
    if (!RULE_KEYS.has(key)) fail(`${where}: unknown field '${key}' (known: id, match, times, chunks, fault)`);
  }
  if (value.fault === undefined) fail(`${where}.fault is required`);
  const rule: FaultRule = { fault: parseFault(value.fault, `${where}.fault`) };
  if (value.id !== undefined) {
    if (typeof value.id !== 'string' || value.id.length === 0) fail(`${where}.id must be a non-empty string`);
    rule.id = value.id;
  }
  const match = parseMatch(value.match, `${where}.match`);
  if (value.match !== undefined) rule.match = match;
  if (value.times !== undefined) rule.times = count(value.times, `${where}.times`, 1);
  if (value.chunks !== undefined) rule.chunks = count(value.chunks, `${where}.chunks`, 1);
  return rule;
}

/** Validate one rule or an array of rules. */
export function parseFaultRules(value: unknown): FaultRule[] {
  if (Array.isArray(value)) return value.map((rule, i) => parseFaultRule(rule, `rules[${i}]`));
  return [parseFaultRule(value)];
}

const DIRECTIVE_EXTRA = new Set(['model']);

/** Validate a directive: `{ model?, ...Fault }`. */
export function parseDirective(value: unknown, where = 'directive'): FaultDirective {
  const fault: FaultDirective = parseFault(value, where, DIRECTIVE_EXTRA);
  const model = (value as Record<string, unknown>).model;
  if (model !== undefined) {
    if (typeof model !== 'string') fail(`${where}.model must be a string`);
    fault.model = model;
  }
  return fault;
}

const MARK = '[[sim';

/**
 * Every complete `[[sim {json}]]` in `text`. An opening that is not followed by
 * a balanced JSON object and `]]` is plain text (a reply may echo a truncated
 * directive); a complete one whose JSON or fields are wrong throws.
 */
export function findDirectives(text: string): FaultDirective[] {
  const found: FaultDirective[] = [];
  let from = 0;
  for (;;) {
    const at = text.indexOf(MARK, from);
    if (at < 0) return found;
    from = at + MARK.length;
    let open = from;
    while (open < text.length && isSpace(text.charCodeAt(open))) open++;
    if (text.charCodeAt(open) !== 0x7b /* { */) continue;
    const close = objectEnd(text, open);
    if (close < 0) continue;
    let after = close + 1;
    while (after < text.length && isSpace(text.charCodeAt(after))) after++;
    if (!text.startsWith(']]', after)) continue;
    const json = text.slice(open, close + 1);
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      fail(`[[sim ...]] directive is not valid JSON: ${json}`);
    }
    found.push(parseDirective(parsed, '[[sim]] directive'));
    from = after + 2;
  }
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** Index of the `}` closing the object opened at `start`, or -1; aware of JSON strings. */
function objectEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return c === 0x7d ? i : -1;
    }
  }
  return -1;
}

/** The `x-sim-fault` header: a directive object or an array of them. */
export function parseFaultHeader(value: string): FaultDirective[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    fail('x-sim-fault header is not valid JSON');
  }
  if (Array.isArray(parsed)) return parsed.map((d, i) => parseDirective(d, `x-sim-fault[${i}]`));
  return [parseDirective(parsed, 'x-sim-fault')];
}

export function ruleMatches(match: FaultMatch, req: RequestTraits): boolean {
  return (
    (match.model === undefined || match.model === req.model) &&
    (match.format === undefined || match.format === req.format) &&
    (match.stream === undefined || match.stream === req.stream)
  );
}

/** The configured rules, checked in insertion order. */
export class FaultBook {
  private rules: ActiveFaultRule[] = [];
  private nextId = 1;

  get size(): number {
    return this.rules.length;
  }

  /** Validate and append rules (one or an array); returns their ids. Nothing is added if any is invalid. */
  add(input: unknown): string[] {
    const parsed = parseFaultRules(input);
    return parsed.map((rule) => {
      const fault = rule.chunks !== undefined && rule.fault.chunks === undefined ? { ...rule.fault, chunks: rule.chunks } : rule.fault;
      const id = rule.id ?? `fault_${this.nextId++}`;
      this.rules.push({ id, match: rule.match ?? {}, remaining: rule.times, fault });
      return id;
    });
  }

  clear(): number {
    const n = this.rules.length;
    this.rules = [];
    return n;
  }

  list(): ActiveFaultRule[] {
    return this.rules.map((r) => ({ ...r, match: { ...r.match }, fault: { ...r.fault } }));
  }

  /** The first rule matching `req` (consuming one of its `times`), or undefined. */
  take(req: RequestTraits): Fault | undefined {
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      if (!ruleMatches(rule.match, req)) continue;
      if (rule.remaining !== undefined) {
        rule.remaining--;
        if (rule.remaining <= 0) rules.splice(i, 1);
      }
      return rule.fault;
    }
    return undefined;
  }
}

function withoutModel(d: FaultDirective): Fault {
  const { model: _model, ...fault } = d;
  return fault;
}

/**
 * The fault for one request: the matching rule's, then the `x-sim-fault`
 * header's, then the message directives', later fields overriding earlier
 * ones. Directives naming another model are ignored. Throws FaultRuleError on
 * a malformed header or directive.
 */
export function resolveFault(
  ruleFault: Fault | undefined,
  header: string | string[] | undefined,
  texts: readonly string[],
  model: string,
): Fault | undefined {
  let fault = ruleFault;
  const apply = (d: FaultDirective) => {
    if (d.model !== undefined && d.model !== model) return;
    fault = fault === undefined ? withoutModel(d) : { ...fault, ...withoutModel(d) };
  };
  if (header !== undefined) {
    for (const d of parseFaultHeader(Array.isArray(header) ? header.join(',') : header)) apply(d);
  }
  for (const text of texts) {
    if (text.includes(MARK)) for (const d of findDirectives(text)) apply(d);
  }
  return fault;
}
