import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LlmRouter, type BudgetPeriod, type CallerBudget, type CompiledPolicy } from '@llm-router/nestjs';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';
import type { GatewayStore, StoredApiKey } from '../store/gateway-store.js';
import { generateApiKey, keyIdOf, keyMatches } from './api-key.js';
import { resolveScope, type ActiveKey, type Principal, type Scope } from './key-scope.js';

export type AuthFailure = 'missing_api_key' | 'invalid_api_key' | 'revoked_api_key' | 'expired_api_key';
export type AuthResult = { readonly principal: Principal } | { readonly failure: AuthFailure };

export interface CreateKeyInput {
  tenant: string;
  name?: string | null;
  allowedClasses?: string[] | null;
  defaultClass?: string | null;
  allowedModels?: string[] | null;
  budget?: { budgetUsd: number; period: BudgetPeriod } | null;
  expiresAt?: number | null;
}

/** A key as the admin API shows it: never the secret, never the hash. */
export interface KeyView {
  id: string;
  tenant: string;
  name: string | null;
  allowedClasses: string[] | null;
  defaultClass: string | null;
  allowedModels: string[] | null;
  /** What the scopes resolve to under the current policy. */
  effective: { classes: string[]; models: string[]; defaultClass: string | null };
  budget: { budgetUsd: number; period: BudgetPeriod } | null;
  expiresAt: string | null;
  revokedAt: string | null;
  createdAt: string;
  status: 'active' | 'revoked' | 'expired';
}

/**
 * API keys, held in memory by key id: authenticating a request is a map
 * lookup, one SHA-256 and a constant-time compare, with no database round
 * trip. The map is loaded at start-up, updated at once by this instance's
 * create and revoke, and re-read every `keysRefreshMs` to pick up other
 * instances' changes.
 */
@Injectable()
export class ApiKeyService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ApiKeys');
  private keys = new Map<string, ActiveKey>();
  private refreshTimer?: NodeJS.Timeout;
  private readonly config: GatewayConfig;

  constructor(
    @Inject(GATEWAY_STORE) private readonly store: GatewayStore,
    private readonly router: LlmRouter,
    configService: ConfigService,
  ) {
    this.config = configService.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY);
  }

  /** Start-up, before the server listens (and before the budgets, which need the keys): load every key, start the refresh. */
  async onApplicationBootstrap(): Promise<void> {
    await this.reload();
    // Scopes are resolved against the policy: a reloaded one resolves every key again (no store read).
    this.router.live.changes$.subscribe(() => {
      this.keys = new Map([...this.keys].map(([id, key]) => [id, this.activate(key.stored)]));
    });
    if (this.config.keysRefreshMs > 0) {
      this.refreshTimer = setInterval(() => {
        this.reload().catch((err: unknown) => this.logger.warn(`could not refresh API keys: ${err instanceof Error ? err.message : String(err)}`));
      }, this.config.keysRefreshMs);
      this.refreshTimer.unref();
    }
  }

  onModuleDestroy(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
  }

  /** Re-read every key from the store. */
  async reload(): Promise<void> {
    const next = new Map<string, ActiveKey>();
    for (const stored of await this.store.listKeys()) next.set(stored.id, this.activate(stored));
    // Keys are never deleted, only revoked: a key created or revoked here while
    // the snapshot was read must survive it, and a revocation is never undone.
    for (const [id, current] of this.keys) {
      const fresh = next.get(id);
      if (fresh === undefined || (current.stored.revokedAt !== null && fresh.stored.revokedAt === null)) next.set(id, current);
    }
    this.keys = next;
  }

  /** The hot path: never awaits, never touches the store. */
  authenticate(presented: string | undefined, now = Date.now()): AuthResult {
    if (presented === undefined) return { failure: 'missing_api_key' };
    const id = keyIdOf(presented);
    const key = id === undefined ? undefined : this.keys.get(id);
    if (key === undefined || !keyMatches(presented, key.hash)) return { failure: 'invalid_api_key' };
    // Only a caller holding the whole key learns that it was revoked or expired.
    if (key.stored.revokedAt !== null) return { failure: 'revoked_api_key' };
    if (key.stored.expiresAt !== null && key.stored.expiresAt <= now) return { failure: 'expired_api_key' };
    return { principal: key.principal };
  }

  async create(input: CreateKeyInput): Promise<{ key: KeyView; secret: string }> {
    const generated = generateApiKey();
    const stored: StoredApiKey = {
      id: generated.id,
      tenant: input.tenant,
      name: input.name ?? null,
      keyHash: generated.hash,
      allowedClasses: input.allowedClasses ?? null,
      defaultClass: input.defaultClass ?? null,
      allowedModels: input.allowedModels ?? null,
      budgetUsd: input.budget?.budgetUsd ?? null,
      budgetPeriod: input.budget?.period ?? null,
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
      createdAt: Date.now(),
    };
    await this.store.insertKey(stored);
    this.keys.set(stored.id, this.activate(stored));
    return { key: this.view(stored), secret: generated.secret };
  }

  list(tenant?: string): KeyView[] {
    return [...this.keys.values()].filter((k) => tenant === undefined || k.stored.tenant === tenant).map((k) => this.view(k.stored));
  }

  /** The caller a key id stands for (a record labelled with it), if the key is known here. */
  principalOf(id: string): Principal | undefined {
    return this.keys.get(id)?.principal;
  }

  get(id: string): KeyView | undefined {
    const key = this.keys.get(id);
    return key ? this.view(key.stored) : undefined;
  }

  /** Revoked in this instance at once; other instances within `keysRefreshMs`. */
  async revoke(id: string): Promise<KeyView | undefined> {
    const at = Date.now();
    await this.store.revokeKey(id, at);
    const key = this.keys.get(id);
    if (key) {
      // Re-read so a key revoked earlier keeps its first revocation time.
      const stored = (await this.store.listKeys()).find((k) => k.id === id) ?? { ...key.stored, revokedAt: at };
      this.keys.set(id, this.activate(stored));
      return this.view(stored);
    }
    return undefined;
  }

  /** What a key's scope would be under another policy (a simulated candidate); undefined for a key this instance does not know. */
  scopeUnder(id: string, policy: CompiledPolicy): Scope | undefined {
    const stored = this.keys.get(id)?.stored;
    return stored === undefined ? undefined : resolveScope(policy, stored.allowedClasses, stored.allowedModels, stored.defaultClass);
  }

  /** Keys with an own budget, and their tenants: the ledger keeps their spend. */
  budgeted(): { tenant: string; budget: CallerBudget }[] {
    const out: { tenant: string; budget: CallerBudget }[] = [];
    for (const k of this.keys.values()) if (k.principal.budget !== undefined) out.push({ tenant: k.stored.tenant, budget: k.principal.budget });
    return out;
  }

  private activate(stored: StoredApiKey): ActiveKey {
    const scope = resolveScope(this.router.policy, stored.allowedClasses, stored.allowedModels, stored.defaultClass);
    const principal: Principal = {
      keyId: stored.id,
      tenant: stored.tenant,
      scope,
      ...(stored.budgetUsd !== null && stored.budgetPeriod !== null
        ? { budget: { id: stored.id, budgetUsd: stored.budgetUsd, period: stored.budgetPeriod, name: `API key ${stored.id}` } }
        : {}),
    };
    return { stored, hash: stored.keyHash.toLowerCase(), principal };
  }

  private view(stored: StoredApiKey): KeyView {
    const { scope } = this.keys.get(stored.id)?.principal ?? this.activate(stored).principal;
    const now = Date.now();
    return {
      id: stored.id,
      tenant: stored.tenant,
      name: stored.name,
      allowedClasses: stored.allowedClasses,
      defaultClass: stored.defaultClass,
      allowedModels: stored.allowedModels,
      effective: { classes: [...scope.classes], models: [...scope.models], defaultClass: scope.defaultClass ?? null },
      budget: stored.budgetUsd !== null && stored.budgetPeriod !== null ? { budgetUsd: stored.budgetUsd, period: stored.budgetPeriod } : null,
      expiresAt: isoTime(stored.expiresAt),
      revokedAt: isoTime(stored.revokedAt),
      createdAt: isoTime(stored.createdAt) ?? '',
      status: stored.revokedAt !== null ? 'revoked' : stored.expiresAt !== null && stored.expiresAt <= now ? 'expired' : 'active',
    };
  }
}

/**
 * Epoch ms as ISO text. A time past what a Date can hold (an expiry stored
 * before expiries were bounded) reads as none instead of throwing: one such
 * row must not break listing every key.
 */
function isoTime(ms: number | null): string | null {
  if (ms === null) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
