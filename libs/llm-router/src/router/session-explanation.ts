import type { RoutePlan } from '../planning/route-plan.js';
import type { SessionState } from '../session/session-store.js';
import type { ExplainedTarget } from './route-explanation.js';

/** What an explanation knows of the call's session: its id, its stored state (read, never written) and the router's own pin rule. */
export interface SessionToExplain {
  readonly id: string;
  readonly state: SessionState | undefined;
  /** The plan pinned as the real turn pins it (`SessionRouting.pin`): the one copy of the pin decision. */
  readonly pin: (plan: RoutePlan) => RoutePlan;
  /** The class's `session.onContextOverflow`, as the real turn plans with it. */
  readonly contextFit: 'refuse' | 'trim';
}

/** The session's pin as this call would meet it. */
export interface ExplainedSession {
  readonly id: string;
  /** The target the session's turns are pinned to (the one its last turn used); null before its first turn. */
  readonly pinnedTarget: string | null;
  /** The target of its first turn (the one `returnToOriginal` goes back to); null before its first turn. */
  readonly originalTarget: string | null;
  readonly turns: number;
  /** Whether this turn would go to the pinned target; null for a new session or a refused call. */
  readonly holds: boolean | null;
  /** Where the turn would go instead of the pin; null when the pin holds. */
  readonly movesTo: string | null;
  readonly reason: string;
}

/**
 * The session part of an explanation, from the pinned plan and the explained
 * targets (the admission checks already applied to them): the pin holds when
 * its target is the first that would be tried.
 */
export function explainSession(
  session: SessionToExplain,
  plan: RoutePlan | undefined,
  targets: readonly ExplainedTarget[],
  firstTarget: string | null,
): ExplainedSession {
  const { state } = session;
  const head = { id: session.id, pinnedTarget: state?.target ?? null, originalTarget: state?.original ?? null, turns: state?.turns ?? 0 };
  if (state === undefined) return { ...head, holds: null, movesTo: null, reason: 'a new session (or one expired): the target of its first turn becomes its pin' };
  const pin = plan?.sessionTarget;
  if (plan === undefined || pin === undefined || firstTarget === null) return { ...head, holds: null, movesTo: null, reason: 'the call would be refused: see refusal' };
  if (pin.returning !== undefined) return { ...head, holds: false, movesTo: firstTarget, reason: pin.returning };
  if (pin.unavailable !== undefined) return { ...head, holds: false, movesTo: firstTarget, reason: pin.unavailable };
  if (firstTarget === pin.target) return { ...head, holds: true, movesTo: null, reason: `the pin holds: ${pin.target} is the first target tried` };
  const skipped = targets.find((t) => t.model === pin.target && !t.kept);
  return { ...head, holds: false, movesTo: firstTarget, reason: skipped?.reason ?? `${pin.target} would not be tried` };
}
