import type { ToolCall } from './chat-completion.types.js';

/** Anything that names a tool of either kind: a tool call, a tool in `tool_choice` or `allowed_tools`, a tool definition. */
type NamesATool = { type: 'custom'; custom: { name: string } } | { type: 'function'; function: { name: string } };

/** The tool it names, whichever kind it is. */
export function toolName(tool: NamesATool): string {
  return tool.type === 'custom' ? tool.custom.name : tool.function.name;
}

/** What the model wrote for the call: a function's JSON arguments or a custom tool's free-form input. */
export function toolCallInput(call: ToolCall): string {
  return call.type === 'custom' ? call.custom.input : call.function.arguments;
}
