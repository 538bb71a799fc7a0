import type { ChatMessage } from '../chat/chat-completion.types.js';
import type { CircuitStateStore } from '../execution/circuit/circuit-state.store.js';
import type { RouteOutcome } from '../execution/route-outcome.js';
import type { CompiledSessionSettings } from '../policy/compiled-policy.js';
import type { RoutePlan, SessionTarget } from '../planning/route-plan.js';
import type { SessionState } from './session-store.js';

/** How many switches a session keeps (the latest): enough to explain it, bounded in the store. */
const MAX_SWITCHES = 50;

/**
 * The affinity rule, before a turn: the session's target first among the
 * candidates when the plan allows it (quality floor, budget tier, the
 * request's needs); when it does not, the plan as it is and the reason, so
 * the turn's record says why the session moved. A target whose circuit is
 * open is left first: the executor skips it without a call and the move
 * names the circuit. With `returnToOriginal: { afterHealthyMinutes }`, a
 * session that moved goes back to its original target once that target's
 * circuit has been closed on every turn for that long.
 *
 * Returns the plan and when the original was last seen unhealthy (kept in
 * the session, for the healthy time).
 */
export function pinToSession(
  plan: RoutePlan,
  state: SessionState,
  settings: CompiledSessionSettings,
  circuits: Pick<CircuitStateStore, 'isOpen'>,
  now: number,
): { plan: RoutePlan; originalUnhealthyAt?: number } {
  let target = state.target;
  let returning: string | undefined;
  let originalUnhealthyAt = state.originalUnhealthyAt;
  const away = state.original !== state.target;
  if (away && typeof settings.returnToOriginal === 'object') {
    // A store that cannot tell without a round trip (no isOpen) never sends a session back.
    const open = circuits.isOpen?.(state.original, now);
    if (open === true || open === undefined) originalUnhealthyAt = now;
    else {
      const lastMove = state.switches.length > 0 ? state.switches[state.switches.length - 1]!.at : state.updatedAt;
      const healthySince = Math.max(lastMove, originalUnhealthyAt ?? 0);
      const minutes = settings.returnToOriginal.afterHealthyMinutes;
      if (now - healthySince >= minutes * 60_000 && plan.candidates.some((m) => m.name === state.original)) {
        target = state.original;
        returning = `returned to the original target ${state.original}: healthy for ${minutes} min`;
      }
    }
  }
  // A model the request names wins over the pin: the caller chose it.
  const named = plan.requestedModel !== undefined && plan.requestedModel !== target;
  const index = named ? -1 : plan.candidates.findIndex((m) => m.name === target);
  let sessionTarget: SessionTarget;
  let candidates = plan.candidates;
  if (named) {
    sessionTarget = { target: state.target, unavailable: `the request named the model ${plan.requestedModel}` };
  } else if (index < 0) {
    sessionTarget = { target: state.target, unavailable: unavailableReason(plan, state.target) };
  } else {
    if (index > 0) candidates = [plan.candidates[index]!, ...plan.candidates.filter((_, i) => i !== index)];
    sessionTarget = returning ? { target: state.target, returning } : { target };
  }
  const pinned: RoutePlan = { ...plan, candidates, sessionTarget };
  return originalUnhealthyAt === undefined ? { plan: pinned } : { plan: pinned, originalUnhealthyAt };
}

function unavailableReason(plan: RoutePlan, target: string): string {
  const excluded = plan.excluded.find((e) => e.model === target);
  if (excluded) return `${target} ${excluded.reason}`;
  if (plan.downgrade === 'taken') return `${target} is off the cheaper route the tenant's budget tier took`;
  // Most often a reload took it off the route (or out of the catalog): say which policy the turn was planned under.
  const policy = plan.policyVersion !== undefined ? ` under policy ${plan.policyVersion}` : '';
  return `${target} is not on the "${plan.trafficClass.name}" route${policy}`;
}

/** What a session becomes after a served turn: its new target, the switch if it moved, and its transcript when it keeps one. */
export function advanceSession(
  previous: SessionState | undefined,
  outcome: RouteOutcome,
  now: number,
  extra: { originalUnhealthyAt?: number; transcript?: readonly ChatMessage[] },
): SessionState {
  const moved = outcome.sessionMoved;
  const switches = previous?.switches ?? [];
  const state: { -readonly [K in keyof SessionState]: SessionState[K] } = {
    target: outcome.model,
    original: previous?.original ?? outcome.model,
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
    turns: (previous?.turns ?? 0) + 1,
    switches: moved ? [...switches, { at: now, requestId: outcome.requestId, ...moved }].slice(-MAX_SWITCHES) : switches,
  };
  // Back home: the healthy-time count starts over with the next move.
  if (extra.originalUnhealthyAt !== undefined && outcome.model !== state.original) state.originalUnhealthyAt = extra.originalUnhealthyAt;
  if (extra.transcript !== undefined) state.transcript = extra.transcript;
  return state;
}
