import type { ChatCompletionRequest, ChatMessage } from '../chat/chat-completion.types.js';
import { toolCallInput, toolName } from '../chat/tool-calls.js';
import type { CompiledModel } from '../policy/compiled-policy.js';
import { textTokens } from '../chat/text-tokens.js';
import { deriveRequestNeeds, TOKENS_PER_IMAGE, TOKENS_PER_MESSAGE, type RequestNeeds } from './request-needs.js';

/** A request as one target can take it: whole, trimmed, or not at all. */
export type ContextFit =
  | { readonly fits: true; readonly request: ChatCompletionRequest; readonly droppedMessages: number; readonly neededTokens: number }
  | { readonly fits: false; readonly reason: string };

/**
 * Checks a (session) request against one model's context window: the
 * estimated prompt plus the output it allows. With `trim`, the oldest turns go
 * first, whole (a user message and the assistant and tool messages after it,
 * so no tool result loses its call), until it fits; the system and developer
 * messages before the first turn and the latest turn are always kept. What
 * cannot fit even so is refused.
 */
export function fitContext(request: ChatCompletionRequest, model: CompiledModel, mode: 'refuse' | 'trim', needs: RequestNeeds = deriveRequestNeeds(request)): ContextFit {
  const output = needs.requestedMaxOutputTokens ?? 0;
  const needed = needs.estimatedPromptTokens + output;
  if (needed <= model.contextWindow) return { fits: true, request, droppedMessages: 0, neededTokens: needed };
  const tooLong = `the conversation (~${needed} tokens with its output) does not fit ${model.name}'s context window of ${model.contextWindow}`;
  if (mode === 'refuse') return { fits: false, reason: `${tooLong}; class setting session.onContextOverflow is "refuse"` };

  const { messages } = request;
  let head = 0;
  while (head < messages.length && (messages[head]!.role === 'system' || messages[head]!.role === 'developer')) head++;
  // Turn starts after the head: a turn runs from one user message to the next.
  const starts: number[] = [];
  for (let i = head; i < messages.length; i++) if (messages[i]!.role === 'user' || i === head) starts.push(i);
  let excess = needed - model.contextWindow;
  let cut = head;
  // Never the last turn.
  for (let t = 0; t < starts.length - 1 && excess > 0; t++) {
    const end = starts[t + 1]!;
    for (let i = starts[t]!; i < end; i++) excess -= messageTokens(messages[i]!);
    cut = end;
  }
  if (excess > 0) return { fits: false, reason: `${tooLong}, even with every turn but the latest dropped` };
  const trimmed = { ...request, messages: [...messages.slice(0, head), ...messages.slice(cut)] };
  return { fits: true, request: trimmed, droppedMessages: cut - head, neededTokens: model.contextWindow + excess };
}

/** One message's share of the prompt estimate (see deriveRequestNeeds). */
function messageTokens(m: ChatMessage): number {
  let tokens = TOKENS_PER_MESSAGE;
  if (typeof m.content === 'string') tokens += textTokens(m.content);
  else if (Array.isArray(m.content)) {
    for (const part of m.content) tokens += part.type === 'text' ? textTokens(part.text) : TOKENS_PER_IMAGE;
  }
  for (const call of m.tool_calls ?? []) tokens += textTokens(toolName(call)) + textTokens(toolCallInput(call));
  return tokens;
}
