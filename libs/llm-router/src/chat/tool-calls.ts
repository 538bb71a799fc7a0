import type { ToolCall } from './chat-completion.types.js';

/** The tool a call names, whichever kind it is. */
export function toolCallName(call: ToolCall): string {
  return call.type === 'custom' ? call.custom.name : call.function.name;
}

/** What the model wrote for the call: a function's JSON arguments or a custom tool's free-form input. */
export function toolCallInput(call: ToolCall): string {
  return call.type === 'custom' ? call.custom.input : call.function.arguments;
}
