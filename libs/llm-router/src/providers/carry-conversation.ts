import type { ChatCompletionRequest, ChatMessage } from '../chat/chat-completion.types.js';
import type { ProviderKind } from '../policy/policy.schema.js';
import { NO_NOTES } from '../shared/no-notes.js';

/**
 * Assistant-message fields that hold one provider's own state: signed
 * reasoning (Anthropic thinking blocks as OpenAI-format clients carry them,
 * OpenRouter's reasoning details) and reasoning text some OpenAI-compatible
 * servers refuse to be sent back. No other provider can take them: a strict
 * API answers 400 to the unknown field, and a signature is only valid where
 * it was made.
 */
const PROVIDER_STATE_FIELDS = ['thinking_blocks', 'reasoning_content', 'reasoning_details'] as const;

/** Anthropic's tool_use ids: letters, digits, `_` and `-` only. */
const ANTHROPIC_TOOL_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The conversation as one target kind can take it, and what had to change (for the attempt's record). */
export interface CarriedConversation {
  readonly request: ChatCompletionRequest;
  readonly notes: readonly string[];
}

/**
 * Prepares a conversation (often a session's, begun on another provider) for
 * a target of `kind`, before its adapter translates it: provider-specific
 * state is dropped with a note rather than sent to an upstream that answers
 * 400, and for Anthropic, tool-call ids it would refuse are rewritten, the
 * same way in the assistant's call and in the tool result that answers it, so
 * the pairs stay matched. Returns the request itself when nothing changes
 * (the common case: one pass over the messages, no copy).
 */
export function carryConversation(request: ChatCompletionRequest, kind: ProviderKind): CarriedConversation {
  let dropped = 0;
  // Allocated only when a message carries provider state: this pass runs on every attempt.
  let droppedFields: Set<string> | undefined;
  let renamed: Map<string, string> | undefined;
  for (const m of request.messages) {
    if (m.role === 'assistant') {
      let carriesState = false;
      for (const field of PROVIDER_STATE_FIELDS) {
        if ((m as unknown as Record<string, unknown>)[field] !== undefined) {
          carriesState = true;
          (droppedFields ??= new Set()).add(field);
        }
      }
      if (carriesState) dropped++;
      if (kind === 'anthropic') for (const call of m.tool_calls ?? []) renamed = renameTo(call.id, renamed);
    } else if (m.role === 'tool' && kind === 'anthropic' && m.tool_call_id !== undefined) {
      renamed = renameTo(m.tool_call_id, renamed);
    }
  }
  if (dropped === 0 && renamed === undefined) return { request, notes: NO_NOTES };

  const messages = request.messages.map((m): ChatMessage => {
    if (m.role === 'assistant') {
      const copy = { ...m } as ChatMessage & Record<string, unknown>;
      for (const field of PROVIDER_STATE_FIELDS) delete copy[field];
      if (renamed && m.tool_calls) copy.tool_calls = m.tool_calls.map((c) => ({ ...c, id: renamed!.get(c.id) ?? c.id }));
      return copy;
    }
    if (renamed && m.role === 'tool' && m.tool_call_id !== undefined) return { ...m, tool_call_id: renamed.get(m.tool_call_id) ?? m.tool_call_id };
    return m;
  });
  const notes: string[] = [];
  if (dropped > 0) {
    notes.push(`dropped provider-specific state the ${kind} target cannot take (${[...droppedFields!].join(', ')}) from ${dropped === 1 ? 'one assistant message' : `${dropped} assistant messages`}`);
  }
  if (renamed) notes.push(`rewrote ${renamed.size} tool-call id${renamed.size === 1 ? '' : 's'} Anthropic would refuse, in each call and its result alike`);
  return { request: { ...request, messages }, notes };
}

/** Adds `id`'s Anthropic-safe form when it needs one: the same id always maps to the same, distinct, safe id. */
function renameTo(id: string, renamed: Map<string, string> | undefined): Map<string, string> | undefined {
  if (ANTHROPIC_TOOL_ID.test(id) || renamed?.has(id)) return renamed;
  const map = renamed ?? new Map<string, string>();
  const safe = id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 48);
  map.set(id, `${safe}_${fnv1a(id)}`);
  return map;
}

/** A short stable hash, so two ids that sanitize alike stay distinct. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}
