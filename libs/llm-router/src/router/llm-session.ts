import { defer, lastValueFrom, type Observable } from 'rxjs';
import type { ChatCompletionRequest, ChatMessage } from '../chat/chat-completion.types.js';
import { RoutingContextStore } from '../context/routing-context.store.js';
import { sessionKeyOf } from '../session/session-routing.js';
import type { SessionKey, SessionState } from '../session/session-store.js';
import type { MaybePromise } from '../shared/maybe-promise.js';
import type { RoutedChunk, RoutedCompletion, RouteOptions } from './llm-router.service.js';

/** A new turn: a user message's text, one message, several (tool results), or a request whose `messages` are the new ones. */
export type SessionTurn = string | ChatMessage | readonly ChatMessage[] | ChatCompletionRequest;

/** What the session handle needs of its router. */
export interface SessionOps {
  route(request: ChatCompletionRequest, options: RouteOptions, stream: boolean): Observable<RoutedCompletion | RoutedChunk>;
  state(key: SessionKey): MaybePromise<SessionState | undefined>;
  end(key: SessionKey): Promise<void>;
}

/**
 * One conversation the router keeps (`router.session(id)`): the app sends
 * only each new turn. Turns of one session are meant to be sent one after
 * another, each once the previous one answered.
 */
export class LlmSession {
  constructor(
    readonly id: string,
    private readonly options: RouteOptions | undefined,
    private readonly ops: SessionOps,
  ) {}

  completion$(turn: SessionTurn, options?: RouteOptions): Observable<RoutedCompletion> {
    return defer(() => this.ops.route(asRequest(turn), this.context(options), false) as Observable<RoutedCompletion>);
  }

  stream$(turn: SessionTurn, options?: RouteOptions): Observable<RoutedChunk> {
    return defer(() => this.ops.route(asRequest(turn), this.context(options), true) as Observable<RoutedChunk>);
  }

  complete(turn: SessionTurn, options?: RouteOptions): Promise<RoutedCompletion> {
    return lastValueFrom(this.completion$(turn, options));
  }

  /** The session as stored: its target, switches and transcript; undefined before its first turn (or after it expired). */
  async state(): Promise<SessionState | undefined> {
    return this.ops.state(sessionKeyOf(this.context()));
  }

  /** Forgets the session: the next turn starts a new one (and may be routed to the class's primary again). */
  end(): Promise<void> {
    return this.ops.end(sessionKeyOf(this.context()));
  }

  private context(options?: RouteOptions): RouteOptions & { session: string } {
    return { ...RoutingContextStore.current(), ...this.options, ...options, session: this.id };
  }
}

function asRequest(turn: SessionTurn): ChatCompletionRequest {
  if (typeof turn === 'string') return { messages: [{ role: 'user', content: turn }] };
  if (Array.isArray(turn)) return { messages: [...(turn as readonly ChatMessage[])] };
  // Anything else is taken as one message: the router refuses a malformed one by its field (messages[0]).
  if (typeof turn === 'object' && turn !== null && 'messages' in turn) return turn as ChatCompletionRequest;
  return { messages: [turn as ChatMessage] };
}
