/**
 * The common chat-completions request, checked and copied by hand: the same
 * output as `chatCompletionRequestSchema` (same keys, same order: the shape's
 * keys first, then the unknown top-level ones as sent; unknown keys of a
 * message or part dropped) less its top-level nulls, which the router treats
 * as absent, at a fraction of zod's cost on every call. It
 * vouches only for what it fully understands; anything else (a value out of
 * range, a field it leaves to the schema such as `tools`) returns undefined
 * and the schema decides, so every error still comes from zod, word for word.
 * The spec checks it against the schema on generated bodies.
 */

/** Not vouched for: the schema decides. */
const NO: unique symbol = Symbol('not vouched for');
type Check = (value: unknown) => unknown;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const string: Check = (v) => (typeof v === 'string' ? v : NO);
const nonEmptyString: Check = (v) => (typeof v === 'string' && v.length > 0 ? v : NO);
const boolean: Check = (v) => (typeof v === 'boolean' ? v : NO);
const nullable =
  (check: Check): Check =>
  (v) =>
    v === null ? null : check(v);
const numberIn =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'number' && v >= min && v <= max ? v : NO;
const integerIn =
  (min: number, max: number): Check =>
  (v) =>
    Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max ? v : NO;
const leaveToSchema: Check = () => NO;

/** A string, or an array of text and image parts (each copied with its own keys only). */
function content(v: unknown): unknown {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) return NO;
  const parts: unknown[] = new Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const part = v[i];
    if (!isObject(part)) return NO;
    if (part.type === 'text') {
      if (typeof part.text !== 'string') return NO;
      parts[i] = { type: 'text', text: part.text };
    } else if (part.type === 'image_url') {
      const image = part.image_url;
      if (!isObject(image) || typeof image.url !== 'string' || image.url.length === 0) return NO;
      const copy: Record<string, unknown> = { url: image.url };
      if ('detail' in image) {
        if (image.detail !== 'auto' && image.detail !== 'low' && image.detail !== 'high') return NO;
        copy.detail = image.detail;
      }
      parts[i] = { type: 'image_url', image_url: copy };
    } else return NO;
  }
  return parts;
}

function toolCalls(v: unknown): unknown {
  if (!Array.isArray(v)) return NO;
  const calls: unknown[] = new Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const call = v[i];
    if (!isObject(call) || typeof call.id !== 'string' || call.type !== 'function') return NO;
    const fn = call.function;
    if (!isObject(fn) || typeof fn.name !== 'string' || typeof fn.arguments !== 'string') return NO;
    calls[i] = { id: call.id, type: 'function', function: { name: fn.name, arguments: fn.arguments } };
  }
  return calls;
}

const anyArray: Check = (v) => (Array.isArray(v) ? v.slice() : NO);
const anything: Check = (v) => v;

/** A message variant's fields in the schema's order; `true`: required. */
type Fields = readonly (readonly [key: string, check: Check, required: boolean])[];

const SPEAKER: Fields = [
  ['content', content, true],
  ['name', string, false],
];
const MESSAGE_FIELDS: Record<string, Fields> = {
  system: SPEAKER,
  developer: SPEAKER,
  user: SPEAKER,
  assistant: [
    ['content', nullable(content), false],
    ['name', string, false],
    ['tool_calls', toolCalls, false],
    ['thinking_blocks', nullable(anyArray), false],
    ['reasoning_content', nullable(string), false],
    ['reasoning_details', anything, false],
  ],
  tool: [
    ['content', content, true],
    ['tool_call_id', string, true],
  ],
};

function message(v: unknown): unknown {
  if (!isObject(v)) return NO;
  const role = v.role;
  if (typeof role !== 'string' || !Object.hasOwn(MESSAGE_FIELDS, role)) return NO;
  const out: Record<string, unknown> = { role };
  for (const [key, check, required] of MESSAGE_FIELDS[role]!) {
    if (!(key in v)) {
      if (required) return NO;
      continue;
    }
    const value = check(v[key]);
    if (value === NO) return NO;
    out[key] = value;
  }
  return out;
}

function messages(v: unknown): unknown {
  if (!Array.isArray(v) || v.length === 0) return NO;
  const out: unknown[] = new Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const m = message(v[i]);
    if (m === NO) return NO;
    out[i] = m;
  }
  return out;
}

function stop(v: unknown): unknown {
  if (v === null || typeof v === 'string') return v;
  if (!Array.isArray(v) || v.length > 4) return NO;
  for (const s of v) if (typeof s !== 'string') return NO;
  return v.slice();
}

function streamOptions(v: unknown): unknown {
  if (v === null) return null;
  if (!isObject(v)) return NO;
  if (!('include_usage' in v)) return {};
  return typeof v.include_usage === 'boolean' ? { include_usage: v.include_usage } : NO;
}

const penalty = nullable(numberIn(-2, 2));
const positiveInteger = nullable(integerIn(1, Number.MAX_SAFE_INTEGER));

/** The schema's top-level keys, in its order. */
const TOP_FIELDS: readonly (readonly [key: string, check: Check])[] = [
  ['model', string],
  ['messages', messages],
  ['tools', leaveToSchema],
  ['tool_choice', leaveToSchema],
  ['functions', leaveToSchema],
  ['function_call', leaveToSchema],
  ['temperature', nullable(numberIn(0, 2))],
  ['top_p', nullable(numberIn(0, 1))],
  ['max_tokens', positiveInteger],
  ['max_completion_tokens', positiveInteger],
  ['stop', stop],
  ['response_format', leaveToSchema],
  ['stream', nullable(boolean)],
  ['stream_options', streamOptions],
  ['user', string],
  ['seed', nullable(integerIn(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER))],
  ['n', (v) => (v === null || v === 1 ? v : NO)],
  ['presence_penalty', penalty],
  ['frequency_penalty', penalty],
  ['logit_bias', leaveToSchema],
  ['logprobs', nullable(boolean)],
  ['top_logprobs', nullable(integerIn(0, 20))],
  ['parallel_tool_calls', nullable(boolean)],
  ['reasoning_effort', nullable(nonEmptyString)],
  ['service_tier', nullable(nonEmptyString)],
  ['metadata', leaveToSchema],
  ['store', nullable(boolean)],
];
/** Each top-level key's place in TOP_FIELDS. */
const TOP_INDEX: ReadonlyMap<string, number> = new Map(TOP_FIELDS.map(([key], i) => [key, i]));

/** The schema's output for `body` without its top-level nulls, or undefined when only the schema can say. */
export function quickChatRequest(body: Record<string, unknown>): Record<string, unknown> | undefined {
  if (!('messages' in body)) return undefined;
  // The keys sent (a few), placed in the schema's order; not each of the schema's 25 keys looked up in the body.
  const known: number[] = [];
  let inOrder = true;
  let unknown = false;
  for (const key in body) {
    const index = TOP_INDEX.get(key);
    if (index === undefined) {
      // __proto__ is the schema's business.
      if (key === '__proto__') return undefined;
      unknown = true;
    } else {
      if (known.length > 0 && index < known[known.length - 1]!) inOrder = false;
      known.push(index);
    }
  }
  if (!inOrder) known.sort((a, b) => a - b);
  const out: Record<string, unknown> = {};
  for (const index of known) {
    const [key, check] = TOP_FIELDS[index]!;
    const value = check(body[key]);
    if (value === NO) return undefined;
    if (value !== null) out[key] = value;
  }
  // Unknown keys follow, as sent (the schema is loose at the top).
  if (unknown) for (const key in body) if (!TOP_INDEX.has(key) && body[key] !== null) out[key] = body[key];
  return out;
}
