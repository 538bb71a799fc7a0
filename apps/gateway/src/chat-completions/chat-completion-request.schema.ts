import { z } from 'zod';

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }),
});
const content = z.union([z.string(), z.array(z.discriminatedUnion('type', [textPart, imagePart]))]);
const toolCall = z.discriminatedUnion('type', [
  z.object({ id: z.string(), type: z.literal('function'), function: z.object({ name: z.string(), arguments: z.string() }) }),
  z.object({ id: z.string(), type: z.literal('custom'), custom: z.object({ name: z.string(), input: z.string() }) }),
]);

const message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content, name: z.string().optional() }),
  z.object({ role: z.literal('developer'), content, name: z.string().optional() }),
  z.object({ role: z.literal('user'), content, name: z.string().optional() }),
  z.object({
    role: z.literal('assistant'),
    content: content.nullable().optional(),
    name: z.string().optional(),
    tool_calls: z.array(toolCall).optional(),
    // One provider's own state (signed thinking, reasoning text), kept for the router: it drops them with a note in the record, per target.
    thinking_blocks: z.array(z.unknown()).nullable().optional(),
    reasoning_content: z.string().nullable().optional(),
    reasoning_details: z.unknown().optional(),
  }),
  z.object({ role: z.literal('tool'), content, tool_call_id: z.string() }),
  // The deprecated function-calling form, refused by name (see `deprecated` below).
  z.object({ role: z.literal('function') }).refine(() => false, {
    message: '"function" messages are the deprecated form of "tool" messages answering a tool call (with its tool_call_id)',
    path: ['role'],
  }),
]);

/** A deprecated field, refused by name: an Anthropic fallback could not carry it, and passing it on unread would hide that. */
const deprecated = (instead: string) =>
  z
    .unknown()
    .refine((v) => v === undefined || v === null, { message: `the deprecated form of ${instead}` })
    .optional();

const functionTool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});
/** OpenAI's custom tool: free-form input, optionally held to a grammar. Routed only to models with `custom_tools`. */
const customTool = z.object({
  type: z.literal('custom'),
  custom: z.object({
    name: z.string().min(1),
    description: z.string().optional(),
    format: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('text') }),
        z.object({ type: z.literal('grammar'), grammar: z.object({ definition: z.string().min(1), syntax: z.enum(['lark', 'regex']) }) }),
      ])
      .optional(),
  }),
});
const tool = z.discriminatedUnion('type', [functionTool, customTool]);
const namedTool = z.discriminatedUnion('type', [
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
  z.object({ type: z.literal('custom'), custom: z.object({ name: z.string() }) }),
]);
const allowedTools = z.object({
  type: z.literal('allowed_tools'),
  allowed_tools: z.object({ mode: z.enum(['auto', 'required']), tools: z.array(namedTool).min(1) }),
});

const penalty = z.number().min(-2).max(2).nullable().optional();

/**
 * The OpenAI chat-completions request. The parameters named here are checked
 * against OpenAI's ranges; any other top-level parameter is kept as sent and
 * reaches OpenAI-compatible providers unchanged (see ChatCompletionRequest).
 */
export const chatCompletionRequestSchema = z.looseObject({
  model: z.string().optional(),
  messages: z.array(message).min(1),
  tools: z.array(tool).optional(),
  tool_choice: z.union([z.enum(['none', 'auto', 'required']), namedTool, allowedTools]).optional(),
  functions: deprecated("'tools': send tools: [{\"type\":\"function\",\"function\":{...}}]"),
  function_call: deprecated("'tool_choice': send tool_choice"),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
  response_format: z
    .union([
      z.object({ type: z.literal('text') }),
      z.object({ type: z.literal('json_object') }),
      z.object({
        type: z.literal('json_schema'),
        json_schema: z.object({ name: z.string(), schema: z.record(z.string(), z.unknown()).optional(), strict: z.boolean().nullable().optional() }),
      }),
    ])
    .optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  user: z.string().optional(),
  seed: z.number().int().nullable().optional(),
  n: z.literal(1).nullable().optional(),
  presence_penalty: penalty,
  frequency_penalty: penalty,
  logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  reasoning_effort: z.string().min(1).nullable().optional(),
  service_tier: z.string().min(1).nullable().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  store: z.boolean().nullable().optional(),
});
