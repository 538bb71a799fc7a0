import type { ChatMessage } from '../chat/chat-completion.types.js';
import type { MaybePromise } from '../shared/maybe-promise.js';

/**
 * Who a session belongs to: its tenant, the caller inside the tenant that
 * opened it (an API key), and the id the caller gave. Two tenants or keys that
 * send the same id have two sessions: never a shared pin or transcript.
 */
export interface SessionKey {
  readonly tenant: string;
  readonly caller: string;
  readonly id: string;
}

/** The session moved from one target to another on one turn, and why. */
export interface SessionSwitch {
  /** Epoch ms. */
  readonly at: number;
  readonly requestId: string;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

/** What the router keeps per session between its turns. */
export interface SessionState {
  /** The catalog model that served the session's last turn: its next turns are pinned to it. */
  readonly target: string;
  /** The model that served the session's first turn (the one a session may return to). */
  readonly original: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly turns: number;
  readonly switches: readonly SessionSwitch[];
  /**
   * When the session's turns last saw its original target unhealthy (circuit
   * not closed) after it moved away: the start of the healthy time counted by
   * `returnToOriginal: { afterHealthyMinutes }`.
   */
  readonly originalUnhealthyAt?: number;
  /** The conversation, for sessions whose transcript the router keeps (`router.session()`). */
  readonly transcript?: readonly ChatMessage[];
}

/**
 * The session store port. Each method is one step; a session's turns are
 * expected one after another (the last write of concurrent turns wins).
 * Implementations bound what they hold: every entry expires `ttlMs` after its
 * last write.
 */
export interface SessionStore {
  get(key: SessionKey): MaybePromise<SessionState | undefined>;
  set(key: SessionKey, state: SessionState, ttlMs: number): MaybePromise<void>;
  delete(key: SessionKey): MaybePromise<void>;
  /** Releases what the store created (never a client it was given). */
  close?(): MaybePromise<void>;
}

export const SESSION_STORE = Symbol('SESSION_STORE');

/** How long a session is kept after its last turn, unless the app says otherwise. */
export const DEFAULT_SESSION_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The key's parts, each escaped so that no tenant, caller or id can forge
 * another's key (`:`, `{` and `}` never appear unescaped); the tenant in a
 * `{hash tag}` so that a Redis Cluster keeps a tenant's sessions in one slot.
 */
export function sessionStoreKey(key: SessionKey): string {
  return `{${encodeURIComponent(key.tenant)}}:${encodeURIComponent(key.caller)}:${encodeURIComponent(key.id)}`;
}
