import { Observable, type Observer, type Subscriber } from 'rxjs';
import type { ChatMessage } from '../chat/chat-completion.types.js';
import type { RoutingContext } from '../context/routing-context.js';
import type { CircuitStateStore } from '../execution/circuit/circuit-state.store.js';
import type { RoutedOutput } from '../execution/route-outcome.js';
import type { CompiledClass } from '../policy/compiled-policy.js';
import type { RoutePlan } from '../planning/route-plan.js';
import type { MaybePromise } from '../shared/maybe-promise.js';
import { AssistantMessage } from './assistant-message.js';
import { advanceSession, pinToSession } from './session-affinity.js';
import { checkSessionId } from './session-id.js';
import type { SessionKey, SessionState, SessionStore } from './session-store.js';

/** The session a context names (its id checked: a 400 when too long or with control characters). */
export function sessionKeyOf(context: RoutingContext & { session: string; caller?: string }): SessionKey {
  return { tenant: context.tenant ?? '', caller: context.caller ?? '', id: checkSessionId(context.session) };
}

/** One call's session: whose it is, what the store held before it, and whether the router keeps its transcript. */
export interface SessionCall {
  readonly key: SessionKey;
  readonly trafficClass: CompiledClass;
  /** The router keeps the conversation (`router.session()`): the caller sent only the new turn. */
  readonly keepsTranscript: boolean;
  readonly state: MaybePromise<SessionState | undefined>;
}

/**
 * The router's sessions: which calls are session turns, their pin, and what
 * is saved after each one. Only the session store's owner of state: nothing
 * else reads or writes it. A store that fails is never a failed call: the turn
 * is routed as a first turn (no pin), and a save that fails leaves the
 * previous state.
 */
export class SessionRouting {
  constructor(
    private readonly store: SessionStore,
    private readonly circuits: Pick<CircuitStateStore, 'isOpen'>,
    private readonly ttlMs: number,
    private readonly clock: () => number,
  ) {}

  /**
   * The call's session, when it is a turn of one the router follows: a session id in
   * the context and a class with affinity, or a transcript the router keeps. The id
   * is checked (a 400 when too long or with control characters).
   */
  open(context: RoutingContext & { caller?: string }, trafficClass: CompiledClass, keepsTranscript: boolean): SessionCall | undefined {
    if (context.session === undefined || context.session === '' || (!trafficClass.session.affinity && !keepsTranscript)) return undefined;
    const key = sessionKeyOf(context as RoutingContext & { session: string; caller?: string });
    return { key, trafficClass, keepsTranscript, state: this.read(key) };
  }

  /** The session's state as the store holds it; none (as for a new session) when the store fails. */
  read(key: SessionKey): MaybePromise<SessionState | undefined> {
    try {
      const state = this.store.get(key);
      return state instanceof Promise ? state.catch(() => undefined) : state;
    } catch {
      return undefined;
    }
  }

  async end(key: SessionKey): Promise<void> {
    await this.store.delete(key);
  }

  /** The plan with the session's pin, when its class has affinity and the session has served a turn. */
  pin(plan: RoutePlan, call: SessionCall, state: SessionState | undefined): { plan: RoutePlan; originalUnhealthyAt?: number } {
    if (state === undefined || !call.trafficClass.session.affinity) return { plan };
    return pinToSession(plan, state, call.trafficClass.session, this.circuits, this.clock());
  }

  /**
   * The routed call, completing only once the session's new state is saved
   * (a turn answered before its pin is stored could see the next turn, on
   * another instance, routed without it). `newMessages`: what the turn added
   * to a kept transcript.
   */
  follow(
    routed$: Observable<RoutedOutput>,
    call: SessionCall,
    previous: SessionState | undefined,
    /**
     * The call's pin, read when the turn ends (a call planned again was pinned again). An object, not a closure: a
     * closure would keep its caller's scope, and with it the prompt, for a stream's life.
     */
    pin: { readonly current?: { readonly originalUnhealthyAt?: number } },
    newMessages: readonly ChatMessage[],
  ): Observable<RoutedOutput> {
    // The turn's observer holds what the save needs, not this scope: a closure here would keep `routed$`, whose
    // subscribe keeps the prompt, for a stream's life. The inner subscription is the teardown itself, for the same reason.
    return new Observable<RoutedOutput>((subscriber) => routed$.subscribe(new SessionTurn(this, subscriber, call, previous, pin, newMessages)));
  }

  /** Saves the session's state after a turn, then completes the caller's subscriber (a store that fails leaves the previous state). */
  saveTurn(subscriber: Subscriber<RoutedOutput>, call: SessionCall, previous: SessionState | undefined, last: RoutedOutput, unhealthyAt: number | undefined, transcript: ChatMessage[] | undefined): void {
    const next = advanceSession(previous, last.outcome, this.clock(), { ...(unhealthyAt !== undefined ? { originalUnhealthyAt: unhealthyAt } : {}), ...(transcript ? { transcript } : {}) });
    let saved: MaybePromise<void>;
    try {
      saved = this.store.set(call.key, next, this.ttlMs);
    } catch {
      saved = undefined;
    }
    if (saved instanceof Promise) saved.catch(() => undefined).then(() => subscriber.complete());
    else subscriber.complete();
  }
}

/** One turn of a session followed to its end: passes the outputs on, keeps the last one (and the answer, for a kept transcript). */
class SessionTurn implements Observer<RoutedOutput> {
  private last: RoutedOutput | undefined;
  private readonly answer: AssistantMessage | undefined;

  constructor(
    private readonly sessions: SessionRouting,
    private readonly subscriber: Subscriber<RoutedOutput>,
    private readonly call: SessionCall,
    private readonly previous: SessionState | undefined,
    private readonly pin: { readonly current?: { readonly originalUnhealthyAt?: number } },
    private readonly newMessages: readonly ChatMessage[],
  ) {
    this.answer = call.keepsTranscript ? new AssistantMessage() : undefined;
  }

  next(routed: RoutedOutput): void {
    this.last = routed;
    this.answer?.add(routed.output);
    this.subscriber.next(routed);
  }

  error(err: unknown): void {
    this.subscriber.error(err);
  }

  complete(): void {
    const { last, answer, previous } = this;
    if (!last) return this.subscriber.complete();
    const transcript = answer ? [...(previous?.transcript ?? []), ...this.newMessages, answer.message()] : undefined;
    this.sessions.saveTurn(this.subscriber, this.call, previous, last, this.pin.current?.originalUnhealthyAt, transcript);
  }
}
