import { z } from 'zod';

const status = z.enum(['in_progress', 'completed', 'incomplete']).nullable().optional();
const id = z.string().min(1).max(256).nullable().optional();

const inputText = z.object({ type: z.literal('input_text'), text: z.string() });
const inputImage = z.object({
  type: z.literal('input_image'),
  // A file_id names an upload of OpenAI's Files API, which no other provider can read.
  image_url: z.string().min(1, 'an image_url is required (file_id is not supported by the gateway)'),
  detail: z.enum(['auto', 'low', 'high']).default('auto'),
  file_id: z.null().optional(),
});
const outputText = z.object({ type: z.literal('output_text'), text: z.string(), annotations: z.array(z.unknown()).default([]), logprobs: z.array(z.unknown()).optional() });
const refusal = z.object({ type: z.literal('refusal'), refusal: z.string() });

/** Item schemas by `type` (an item without one is a message). */
export const ITEM_SCHEMAS = {
  message: z.object({
    type: z.literal('message').default('message'),
    id,
    status,
    role: z.enum(['user', 'system', 'developer', 'assistant']),
    content: z.union([z.string(), z.array(z.discriminatedUnion('type', [inputText, inputImage, outputText, refusal]))]),
  }),
  function_call: z.object({
    type: z.literal('function_call'),
    id,
    status,
    call_id: z.string().min(1).max(256),
    name: z.string().min(1).max(256),
    arguments: z.string(),
  }),
  function_call_output: z.object({
    type: z.literal('function_call_output'),
    id,
    status,
    call_id: z.string().min(1).max(256),
    output: z.union([z.string(), z.array(inputText)]),
  }),
} as const;

const functionTool = z.object({
  type: z.literal('function'),
  name: z.string().min(1).max(64),
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});

const textFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string().min(1).max(64),
    schema: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
    description: z.string().optional(),
  }),
]);

/**
 * The `POST /v1/responses` body. Unlike chat completions, a parameter not
 * named here is refused (400 unsupported_parameter): the Responses API has
 * many server-side features (hosted tools, conversations, background runs)
 * that the gateway does not run, and silently ignoring one would answer a
 * different question than the one asked. `input` items are checked one by
 * one against ITEM_SCHEMAS.
 */
export const responsesRequestSchema = z.strictObject({
  model: z.string().min(1).optional(),
  input: z.union([z.string().min(1), z.array(z.unknown()).min(1)]),
  instructions: z.string().nullable().optional(),
  tools: z.array(functionTool).max(128).optional(),
  tool_choice: z.union([z.enum(['none', 'auto', 'required']), z.object({ type: z.literal('function'), name: z.string().min(1) })]).optional(),
  previous_response_id: z.string().min(1).max(256).nullable().optional(),
  store: z.boolean().nullable().optional(),
  // OpenAI's limits: 16 pairs, keys up to 64 characters, values up to 512.
  metadata: z
    .record(z.string().max(64), z.string().max(512))
    .refine((m) => Object.keys(m).length <= 16, 'at most 16 key-value pairs')
    .nullable()
    .optional(),
  max_output_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  user: z.string().max(256).optional(),
  text: z.object({ format: textFormat }).optional(),
});
