import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { LivePolicy, LlmRouter, type CompiledPolicy, type RoutingRecord } from '@llm-router/nestjs';
import type { Subscription } from 'rxjs';
import { changed, type ChangedRequest } from './policy-simulator.service.js';
import { divergence, noDivergences, recordedFromRecord, replan, type Divergence } from './replan.js';

/** Divergences kept for the report, newest last. */
const KEPT = 50;

interface Shadow {
  readonly live: LivePolicy;
  readonly hash: string;
  readonly since: string;
  readonly counts: Record<Divergence, number>;
  readonly byReason: Record<string, number>;
  readonly recent: ChangedRequest[];
  requests: number;
}

/**
 * A candidate policy running beside the live one on this instance: every
 * routed request's record is planned again under it (the router's planner,
 * nothing called, nothing acted on) and its divergences counted, until it is
 * removed or replaced.
 */
@Injectable()
export class ShadowPolicy implements OnModuleDestroy {
  private shadow?: Shadow;
  private readonly subscription: Subscription;

  constructor(private readonly router: LlmRouter) {
    this.subscription = router.records$.subscribe((record) => this.observe(record));
  }

  set(candidate: CompiledPolicy): void {
    this.clear();
    this.shadow = { live: new LivePolicy(candidate), hash: candidate.hash, since: new Date().toISOString(), counts: noDivergences(), byReason: {}, recent: [], requests: 0 };
  }

  /** True when there was one. */
  clear(): boolean {
    const had = this.shadow !== undefined;
    this.shadow?.live.close();
    this.shadow = undefined;
    return had;
  }

  report(): Record<string, unknown> | undefined {
    const s = this.shadow;
    if (s === undefined) return undefined;
    const c = s.counts;
    return {
      candidateHash: s.hash,
      liveVersion: this.router.policyVersion.id,
      since: s.since,
      requests: s.requests,
      divergent: c.route_changed + c.primary_changed + c.now_refused + c.now_served,
      unchanged: c.same + c.still_refused,
      routeChanged: c.route_changed,
      primaryChanged: c.primary_changed,
      nowRefused: { total: c.now_refused, byReason: s.byReason },
      nowServed: c.now_served,
      notReplayable: c.not_replayable,
      recent: s.recent,
    };
  }

  onModuleDestroy(): void {
    this.subscription.unsubscribe();
    this.clear();
  }

  private observe(record: RoutingRecord): void {
    const s = this.shadow;
    // Nothing to do without a shadow: this runs on every routed call.
    if (s === undefined || record.outcome === 'aborted') return;
    const call = recordedFromRecord(record);
    const after = replan(s.live.current(), call);
    const kind = divergence(call, after);
    s.requests++;
    s.counts[kind]++;
    if (after !== undefined && 'refused' in after && kind === 'now_refused') s.byReason[after.refused.category] = (s.byReason[after.refused.category] ?? 0) + 1;
    if (after !== undefined && kind !== 'same' && kind !== 'still_refused' && kind !== 'not_replayable') {
      s.recent.push(changed(call, kind, after));
      if (s.recent.length > KEPT) s.recent.shift();
    }
  }
}
