/**
 * The OpenAI Responses API shapes the gateway speaks: the items a
 * conversation is made of (input and output alike), the response object and
 * its streamed events. Only what the gateway produces or accepts is typed.
 */

export interface InputTextPart {
  type: 'input_text';
  text: string;
}

export interface InputImagePart {
  type: 'input_image';
  image_url: string;
  detail: 'auto' | 'low' | 'high';
}

export interface OutputTextPart {
  type: 'output_text';
  text: string;
  annotations: unknown[];
  logprobs?: unknown[];
}

export interface RefusalPart {
  type: 'refusal';
  refusal: string;
}

export type MessagePart = InputTextPart | InputImagePart | OutputTextPart | RefusalPart;

/** A message of the conversation: the caller's (input) or the model's (output). */
export interface MessageItem {
  type: 'message';
  id?: string;
  role: 'user' | 'system' | 'developer' | 'assistant';
  status?: ItemStatus;
  content: string | MessagePart[];
}

/** The model asking for a function to be called. */
export interface FunctionCallItem {
  type: 'function_call';
  id?: string;
  call_id: string;
  name: string;
  arguments: string;
  status?: ItemStatus;
}

/** The caller's result of a function call, answering `call_id`. */
export interface FunctionCallOutputItem {
  type: 'function_call_output';
  id?: string;
  call_id: string;
  output: string | InputTextPart[];
  status?: ItemStatus;
}

export type ConversationItem = MessageItem | FunctionCallItem | FunctionCallOutputItem;

export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

/** What the model answered: messages with output_text and function calls. */
export interface OutputMessageItem extends MessageItem {
  id: string;
  role: 'assistant';
  status: ItemStatus;
  content: Array<OutputTextPart | RefusalPart>;
}

export interface OutputFunctionCallItem extends FunctionCallItem {
  id: string;
  status: ItemStatus;
}

export type OutputItem = OutputMessageItem | OutputFunctionCallItem;

export interface FunctionTool {
  type: 'function';
  name: string;
  description?: string | null;
  parameters?: Record<string, unknown> | null;
  strict?: boolean | null;
}

export type ResponseToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; name: string };

export type TextFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema?: Record<string, unknown>; strict?: boolean | null; description?: string };

/** A validated `POST /v1/responses` body. */
export interface ResponsesRequest {
  model?: string;
  /** The request's own input, as items (a string input is one user message). */
  input: ConversationItem[];
  instructions?: string;
  tools?: FunctionTool[];
  tool_choice?: ResponseToolChoice;
  previous_response_id?: string;
  store?: boolean;
  metadata?: Record<string, string>;
  max_output_tokens?: number;
  temperature?: number;
  top_p?: number;
  parallel_tool_calls?: boolean;
  stream?: boolean;
  user?: string;
  text?: { format: TextFormat };
}

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

/** The response object, as OpenAI shapes it. */
export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  completed_at: number | null;
  status: ResponseStatus;
  background: false;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: null; summary: null };
  store: boolean;
  temperature: number | null;
  text: { format: TextFormat };
  tool_choice: ResponseToolChoice;
  tools: FunctionTool[];
  top_p: number | null;
  truncation: 'disabled';
  usage: ResponseUsage | null;
  user: string | null;
  metadata: Record<string, string>;
}

/** One streamed event, before its sequence number is given. */
export type ResponseEvent = { type: string } & Record<string, unknown>;
