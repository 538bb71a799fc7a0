import { LlmRouterError } from '../errors/llm-router.error.js';

/**
 * The request as the router's own code reads it (planning, prompt estimate,
 * session transcripts, the provider translations), checked at the router's
 * entry: a malformed one is refused as an `invalid_request` naming the
 * offending field (`messages[2].tool_calls[0]`), with its routing record,
 * instead of a TypeError from deep in planning. Not a schema: only the shapes
 * the router relies on; ranges and anything it passes on untouched are the
 * upstream's to judge. An HTTP front (the gateway) validates more, first.
 * One pass, no allocation unless it fails.
 */
/** The deprecated function-calling form, refused by name: an Anthropic fallback could not carry it, and passing it on unread would hide that. */
const DEPRECATED_FUNCTIONS = "Invalid value for 'functions': the deprecated form of 'tools'; send tools: [{\"type\":\"function\",\"function\":{...}}].";
const DEPRECATED_FUNCTION_CALL = "Invalid value for 'function_call': the deprecated form of 'tool_choice'; send tool_choice.";
const DEPRECATED_FUNCTION_ROLE = '"function" is the deprecated form of a "tool" message answering a tool call (with its tool_call_id).';

export function requestShapeError(request: unknown): LlmRouterError | undefined {
  if (!isObject(request)) return invalid('The request must be an object with a `messages` array.', null);
  const r = request;
  if (r.model !== undefined && typeof r.model !== 'string') return expected('model', 'a string', r.model);
  const messages = r.messages;
  if (!Array.isArray(messages)) return expected('messages', 'an array of messages', messages);
  if (messages.length === 0) return invalid("Invalid value for 'messages': at least one message is required.", 'messages');
  for (let i = 0; i < messages.length; i++) {
    const error = messageError(messages[i], i);
    if (error !== undefined) return error;
  }
  if (r.functions != null) return invalid(DEPRECATED_FUNCTIONS, 'functions');
  if (r.function_call != null) return invalid(DEPRECATED_FUNCTION_CALL, 'function_call');
  if (r.tools != null) {
    if (!Array.isArray(r.tools)) return expected('tools', 'an array of tools', r.tools);
    for (let i = 0; i < r.tools.length; i++) {
      const error = namedToolError(r.tools[i], `tools[${i}]`);
      if (error !== undefined) return error;
    }
  }
  const choice = r.tool_choice;
  if (choice != null && choice !== 'none' && choice !== 'auto' && choice !== 'required') {
    const error = toolChoiceError(choice);
    if (error !== undefined) return error;
  }
  if (r.max_tokens != null && !isPositiveInteger(r.max_tokens)) return expected('max_tokens', 'a positive integer', r.max_tokens);
  if (r.max_completion_tokens != null && !isPositiveInteger(r.max_completion_tokens)) {
    return expected('max_completion_tokens', 'a positive integer', r.max_completion_tokens);
  }
  if (r.temperature != null && typeof r.temperature !== 'number') return expected('temperature', 'a number', r.temperature);
  if (r.top_p != null && typeof r.top_p !== 'number') return expected('top_p', 'a number', r.top_p);
  if (r.stream != null && typeof r.stream !== 'boolean') return expected('stream', 'a boolean', r.stream);
  const stop = r.stop;
  if (stop != null && typeof stop !== 'string') {
    if (!Array.isArray(stop)) return expected('stop', 'a string or an array of strings', stop);
    for (let i = 0; i < stop.length; i++) if (typeof stop[i] !== 'string') return expected(`stop[${i}]`, 'a string', stop[i]);
  }
  const format = r.response_format;
  if (format != null) {
    if (!isObject(format) || typeof format.type !== 'string') return expected('response_format', 'an object with a string `type`', format);
    if (format.type === 'json_schema' && !isObject(format.json_schema)) return expected('response_format.json_schema', 'an object', format.json_schema);
  }
  return undefined;
}

function isRole(role: unknown): boolean {
  return role === 'user' || role === 'assistant' || role === 'system' || role === 'tool' || role === 'developer';
}

function messageError(m: unknown, i: number): LlmRouterError | undefined {
  if (!isObject(m)) return expected(`messages[${i}]`, 'a message object', m);
  if (m.role === 'function') {
    return invalid(`Invalid value for 'messages[${i}].role': ${DEPRECATED_FUNCTION_ROLE}`, `messages[${i}].role`);
  }
  if (!isRole(m.role)) return expected(`messages[${i}].role`, 'one of "system", "developer", "user", "assistant", "tool"', m.role);
  const content = m.content;
  if (content != null && typeof content !== 'string') {
    if (!Array.isArray(content)) return expected(`messages[${i}].content`, 'a string or an array of content parts', content);
    for (let p = 0; p < content.length; p++) {
      const part: unknown = content[p];
      if (!isObject(part) || typeof part.type !== 'string') return expected(`messages[${i}].content[${p}]`, 'a content part with a string `type`', part);
      if (part.type === 'text' && typeof part.text !== 'string') return expected(`messages[${i}].content[${p}].text`, 'a string', part.text);
      if (part.type === 'image_url' && (!isObject(part.image_url) || typeof part.image_url.url !== 'string')) {
        return expected(`messages[${i}].content[${p}].image_url`, 'an object with a string `url`', part.image_url);
      }
    }
  }
  const calls = m.tool_calls;
  if (calls != null) {
    if (!Array.isArray(calls)) return expected(`messages[${i}].tool_calls`, 'an array of tool calls', calls);
    for (let c = 0; c < calls.length; c++) {
      const call: unknown = calls[c];
      const at = `messages[${i}].tool_calls[${c}]`;
      if (!isObject(call)) return expected(at, 'a tool call object', call);
      if (typeof call.id !== 'string') return expected(`${at}.id`, 'a string', call.id);
      if (call.type === 'custom') {
        const custom = call.custom;
        if (!isObject(custom)) return expected(`${at}.custom`, 'an object', custom);
        if (typeof custom.name !== 'string') return expected(`${at}.custom.name`, 'a string', custom.name);
        if (typeof custom.input !== 'string') return expected(`${at}.custom.input`, 'a string', custom.input);
        continue;
      }
      const fn = call.function;
      if (!isObject(fn)) return expected(`${at}.function`, 'an object', fn);
      if (typeof fn.name !== 'string') return expected(`${at}.function.name`, 'a string', fn.name);
      if (typeof fn.arguments !== 'string') return expected(`${at}.function.arguments`, 'a string (JSON text)', fn.arguments);
    }
  }
  if (m.tool_call_id != null && typeof m.tool_call_id !== 'string') return expected(`messages[${i}].tool_call_id`, 'a string', m.tool_call_id);
  return undefined;
}

/**
 * A tool (in `tools`) or a tool named in `tool_choice` / `allowed_tools`:
 * `{"type":"function","function":{"name"}}` or `{"type":"custom","custom":{"name"}}`.
 * A tool without `type` is read as a function, as the router always has.
 */
function namedToolError(tool: unknown, at: string): LlmRouterError | undefined {
  if (!isObject(tool)) return expected(at, 'a tool object', tool);
  if (tool.type === 'custom') {
    if (!isObject(tool.custom)) return expected(`${at}.custom`, 'an object', tool.custom);
    if (typeof tool.custom.name !== 'string') return expected(`${at}.custom.name`, 'a string', tool.custom.name);
    return undefined;
  }
  if (tool.type !== undefined && tool.type !== 'function') return expected(`${at}.type`, '"function" or "custom"', tool.type);
  if (!isObject(tool.function)) return expected(`${at}.function`, 'an object', tool.function);
  if (typeof tool.function.name !== 'string') return expected(`${at}.function.name`, 'a string', tool.function.name);
  return undefined;
}

function toolChoiceError(choice: unknown): LlmRouterError | undefined {
  if (isObject(choice) && choice.type === 'allowed_tools') {
    const allowed = choice.allowed_tools;
    if (!isObject(allowed)) return expected('tool_choice.allowed_tools', 'an object', allowed);
    if (allowed.mode !== 'auto' && allowed.mode !== 'required') return expected('tool_choice.allowed_tools.mode', '"auto" or "required"', allowed.mode);
    if (!Array.isArray(allowed.tools) || allowed.tools.length === 0) return expected('tool_choice.allowed_tools.tools', 'a non-empty array of tools', allowed.tools);
    for (let i = 0; i < allowed.tools.length; i++) {
      const error = namedToolError(allowed.tools[i], `tool_choice.allowed_tools.tools[${i}]`);
      if (error !== undefined) return error;
    }
    return undefined;
  }
  if (!isObject(choice) || namedToolError(choice, 'tool_choice') !== undefined) {
    return expected(
      'tool_choice',
      '"none", "auto", "required", {"type":"function","function":{"name":...}}, {"type":"custom","custom":{"name":...}} or {"type":"allowed_tools",...}',
      choice,
    );
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPositiveInteger(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) > 0;
}

function expected(param: string, what: string, got: unknown): LlmRouterError {
  return invalid(`Invalid value for '${param}': expected ${what}, got ${describe(got)}.`, param);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length <= 40 ? JSON.stringify(v) : 'a string';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v === 'object' ? 'an object' : typeof v;
}

function invalid(message: string, param: string | null): LlmRouterError {
  return new LlmRouterError({ category: 'invalid_request', code: 'invalid_value', httpStatus: 400, origin: 'gateway', param, message });
}
