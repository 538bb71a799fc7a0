/**
 * The OpenAI chat-completions wire shapes the router speaks on both sides.
 * Every provider adapter translates to and from these.
 */

export type ChatRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

export interface TextContentPart {
  type: 'text';
  text: string;
}

export interface ImageContentPart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}

export type ContentPart = TextContentPart | ImageContentPart;

export interface FunctionToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** A call to a custom tool: free-form text input instead of JSON arguments. */
export interface CustomToolCall {
  id: string;
  type: 'custom';
  custom: { name: string; input: string };
}

export type ToolCall = FunctionToolCall | CustomToolCall;

export interface ChatMessage {
  role: ChatRole;
  content?: string | ContentPart[] | null;
  name?: string;
  /** Assistant messages that called tools. */
  tool_calls?: ToolCall[];
  /** Tool-result messages: the call they answer. */
  tool_call_id?: string;
}

export interface FunctionToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

/**
 * A custom tool: the model writes its input as free text, optionally held to
 * a grammar (Lark or a regex). OpenAI's; no Anthropic equivalent, so only
 * models with the `custom_tools` capability serve a request that has one.
 */
export interface CustomToolDefinition {
  type: 'custom';
  custom: {
    name: string;
    description?: string;
    format?: { type: 'text' } | { type: 'grammar'; grammar: { definition: string; syntax: 'lark' | 'regex' } };
  };
}

export type ToolDefinition = FunctionToolDefinition | CustomToolDefinition;

/** A tool named in `tool_choice` or in an `allowed_tools` list. */
export type NamedTool = { type: 'function'; function: { name: string } } | { type: 'custom'; custom: { name: string } };

/** `tools` stays whole (a prompt cache keeps hitting); the model may call only these. */
export interface AllowedToolsChoice {
  type: 'allowed_tools';
  allowed_tools: { mode: 'auto' | 'required'; tools: NamedTool[] };
}

export type ToolChoice = 'none' | 'auto' | 'required' | NamedTool | AllowedToolsChoice;

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema?: Record<string, unknown>; strict?: boolean } };

/**
 * An OpenAI chat-completions request. OpenAI-compatible providers receive it
 * as sent (only `model` and the stream flags change), including parameters
 * not listed here (a vendor's `top_k`, say); the Anthropic adapter maps what
 * has an equivalent and leaves out what has none (penalties, `logit_bias`,
 * `logprobs`, `seed`, `service_tier`, `store`, `reasoning_effort`).
 */
export interface ChatCompletionRequest {
  /** A catalog model name, or absent to let the traffic class route decide. */
  model?: string;
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  tool_choice?: ToolChoice;
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  stop?: string | string[];
  response_format?: ResponseFormat;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  user?: string;
  seed?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  logit_bias?: Record<string, number>;
  logprobs?: boolean;
  top_logprobs?: number;
  parallel_tool_calls?: boolean;
  reasoning_effort?: string;
  service_tier?: string;
  metadata?: Record<string, string>;
  store?: boolean;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | null;

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: 'assistant'; content: string | null; tool_calls?: ToolCall[]; refusal?: string | null };
    finish_reason: FinishReason;
  }>;
  usage?: Usage;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function' | 'custom';
  function?: { name?: string; arguments?: string };
  custom?: { name?: string; input?: string };
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: { role?: 'assistant'; content?: string | null; tool_calls?: ToolCallDelta[] };
    finish_reason: FinishReason;
  }>;
  usage?: Usage | null;
}
