import { Inject, Injectable } from '@nestjs/common';
import { LivePolicy, LlmRouter, type CompiledPolicy } from '@llm-router/nestjs';
import { ApiKeyService } from '../auth/api-key.service.js';
import type { Scope } from '../auth/key-scope.js';
import type { RecordCursor, StoredRecord, TimeRange } from '../store/gateway-store.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';
import { costOn, divergence, noDivergences, recordedFromStored, replan, type Divergence, type RecordedCall, type Replanned } from './replan.js';

/** Which recorded requests to plan again: a time range, the newest `last` of it. */
export interface SimulationSelection {
  readonly range: TimeRange;
  readonly last: number;
  readonly sample: number;
}

export interface ChangedRequest {
  readonly requestId: string;
  readonly startedAt: string;
  readonly trafficClass: string;
  readonly divergence: Divergence;
  readonly before: { readonly route: readonly string[]; readonly refused?: string };
  readonly after: Replanned;
}

/** A candidate policy against recorded traffic: per request, its plan against the one made. */
export interface SimulationReport {
  readonly candidateHash: string;
  readonly liveVersion: string;
  readonly records: number;
  readonly summary: {
    readonly replayed: number;
    /** Records written before requests' needs were recorded: they cannot be planned again. */
    readonly notReplayable: number;
    readonly unchanged: number;
    readonly routeChanged: number;
    readonly primaryChanged: number;
    readonly nowRefused: { readonly total: number; readonly byReason: Readonly<Record<string, number>> };
    readonly nowServed: number;
    readonly stillRefused: number;
    /** Recorded cost, against the same tokens on the candidate's primary (refused: nothing). */
    readonly estimatedCostUsd: { readonly recorded: number; readonly candidate: number; readonly difference: number };
  };
  /** The first changed requests, newest first. */
  readonly sample: readonly ChangedRequest[];
}

/** Records are read from the store a page at a time. */
const PAGE = 500;

/**
 * POST /admin/policy/simulate: plans recorded requests again under a
 * candidate policy with the router's own planner (nothing is called, nothing
 * changes) and counts what would change.
 */
@Injectable()
export class PolicySimulator {
  constructor(
    private readonly router: LlmRouter,
    @Inject(GATEWAY_STORE) private readonly store: GatewayStore,
    private readonly keys: ApiKeyService,
  ) {}

  async simulate(candidate: CompiledPolicy, selection: SimulationSelection): Promise<SimulationReport> {
    const rows = await this.recorded(selection);
    const live = new LivePolicy(candidate);
    try {
      const generation = live.current();
      const counts = noDivergences();
      const byReason: Record<string, number> = {};
      const sample: ChangedRequest[] = [];
      let recorded = 0;
      let projected = 0;
      const scopes = new Map<string, Scope | undefined>();
      const scopeOf = (keyId: string) => {
        if (!scopes.has(keyId)) scopes.set(keyId, this.keys.scopeUnder(keyId, candidate));
        return scopes.get(keyId);
      };
      for (const row of rows) {
        const call = recordedFromStored(row);
        const after = replan(generation, call, call.keyId === undefined ? undefined : scopeOf(call.keyId));
        const kind = divergence(call, after);
        counts[kind]++;
        if (after === undefined) continue;
        recorded += call.costUsd;
        if ('route' in after) projected += costOn(generation.policy.models.get(after.route[0]!), call);
        else if (kind === 'now_refused') byReason[after.refused.category] = (byReason[after.refused.category] ?? 0) + 1;
        if (kind !== 'same' && kind !== 'still_refused' && sample.length < selection.sample) sample.push(changed(call, kind, after));
      }
      const round = (usd: number) => Math.round(usd * 1e6) / 1e6;
      return {
        candidateHash: candidate.hash,
        liveVersion: this.router.policyVersion.id,
        records: rows.length,
        summary: {
          replayed: rows.length - counts.not_replayable,
          notReplayable: counts.not_replayable,
          unchanged: counts.same,
          routeChanged: counts.route_changed,
          primaryChanged: counts.primary_changed,
          nowRefused: { total: counts.now_refused, byReason },
          nowServed: counts.now_served,
          stillRefused: counts.still_refused,
          estimatedCostUsd: { recorded: round(recorded), candidate: round(projected), difference: round(projected - recorded) },
        },
        sample,
      };
    } finally {
      live.close();
    }
  }

  private async recorded(selection: SimulationSelection): Promise<StoredRecord[]> {
    const rows: StoredRecord[] = [];
    let cursor: RecordCursor | undefined;
    do {
      const page = await this.store.searchRecords(selection.range, Math.min(PAGE, selection.last - rows.length), cursor);
      rows.push(...page.records);
      cursor = page.next;
    } while (cursor !== undefined && rows.length < selection.last);
    return rows;
  }
}

export function changed(call: RecordedCall, kind: Divergence, after: Replanned): ChangedRequest {
  return {
    requestId: call.requestId,
    startedAt: call.startedAt,
    trafficClass: call.trafficClass,
    divergence: kind,
    before: { route: call.plannedRoute, ...(call.refusedBefore !== undefined ? { refused: call.refusedBefore } : {}) },
    after,
  };
}
