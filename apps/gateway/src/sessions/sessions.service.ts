import { HttpException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { checkSessionId, SESSION_STORE, type SessionKey, type SessionStore } from '@llm-router/nestjs';
import { openAiError } from '../errors/openai-error.js';
import { RecordsService } from '../persistence/records.service.js';
import type { GatewayStore, StoredRecord } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';

/** The most turns one session view lists (newest kept). */
const MAX_TURNS = 2_000;
const PAGE = 500;
const usd = (v: number) => Math.round(v * 1e9) / 1e9;

/**
 * One session as its owner sees it: where it is pinned and how it moved (the
 * session store's, owned by the router) and its turns with their tokens and
 * cost (the routing records', owned by RecordsService). A session is its
 * key's own: another key of the tenant that sent the same id has another one.
 */
@Injectable()
export class SessionsService {
  constructor(
    @Inject(SESSION_STORE) private readonly sessions: SessionStore,
    @Inject(GATEWAY_STORE) private readonly store: GatewayStore,
    private readonly records: RecordsService,
  ) {}

  async view(tenant: string, caller: string | null, id: string) {
    const key: SessionKey = { tenant, caller: caller ?? '', id: checkSessionId(id) };
    await this.records.flush();
    const [state, turns] = await Promise.all([this.pin(key), this.turns(key, caller)]);
    if (state === undefined && turns.length === 0) {
      throw new NotFoundException(openAiError(`No session "${id}" for this key.`, 'invalid_request_error', 'session_not_found', 'id'));
    }
    const targets: string[] = [];
    for (const t of turns) if (t.servedModel && targets.at(-1) !== t.servedModel) targets.push(t.servedModel);
    return {
      object: 'session',
      id,
      tenant,
      target: state?.target ?? turns.at(-1)?.servedModel ?? null,
      originalTarget: state?.original ?? turns.find((t) => t.servedModel)?.servedModel ?? null,
      createdAt: state ? new Date(state.createdAt).toISOString() : null,
      updatedAt: state ? new Date(state.updatedAt).toISOString() : null,
      // The pin expired (or was never stored): the turns remain in the records.
      pinned: state !== undefined,
      targets,
      switches: (state?.switches ?? []).map((s) => ({ ...s, at: new Date(s.at).toISOString() })),
      totals: {
        turns: turns.length,
        promptTokens: turns.reduce((n, t) => n + t.promptTokens, 0),
        completionTokens: turns.reduce((n, t) => n + t.completionTokens, 0),
        costUsd: usd(turns.reduce((n, t) => n + t.costUsd, 0)),
      },
      turns: turns.map(turnView),
    };
  }

  /** The session's pin; a store that does not answer is a 503, never a 500. */
  private async pin(key: SessionKey) {
    try {
      return await this.sessions.get(key);
    } catch {
      throw new HttpException(openAiError('The session store is not reachable; try again.', 'server_error', 'session_store_unavailable'), 503);
    }
  }

  /** The session's calls, oldest first. */
  private async turns(key: SessionKey, caller: string | null): Promise<StoredRecord[]> {
    const found: StoredRecord[] = [];
    const filter = { tenant: key.tenant, session: key.id, ...(caller ? { keyId: caller } : {}), from: 0, to: Number.MAX_SAFE_INTEGER };
    let cursor;
    do {
      const page = await this.store.searchRecords(filter, PAGE, cursor);
      found.push(...page.records);
      cursor = page.next;
    } while (cursor !== undefined && found.length < MAX_TURNS);
    return found.reverse();
  }
}

function turnView(r: StoredRecord) {
  let move: unknown = null;
  try {
    move = (JSON.parse(r.detail) as { sessionMove?: unknown }).sessionMove ?? null;
  } catch {
    // a detail this gateway did not write
  }
  return {
    requestId: r.requestId,
    startedAt: new Date(r.startedAt).toISOString(),
    trafficClass: r.trafficClass,
    outcome: r.outcome,
    model: r.servedModel,
    provider: r.servedProvider,
    fallback: r.fallback,
    moved: move,
    promptTokens: r.promptTokens,
    completionTokens: r.completionTokens,
    costUsd: r.costUsd,
    latencyMs: r.latencyMs,
  };
}
