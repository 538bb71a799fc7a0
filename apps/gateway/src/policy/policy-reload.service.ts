import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import {
  compilePolicyText,
  LLM_ROUTER_OPTIONS,
  LlmRouter,
  policyChanges,
  PolicyValidationError,
  readPolicyFile,
  type CompiledPolicy,
  type LlmRouterModuleOptions,
  type PolicyChanges,
  type PolicyVersion,
} from '@llm-router/nestjs';
import type { GatewayStore, StoredPolicyVersion } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';

/** How a candidate came: the admin API, the file watch, SIGHUP. (`start-up` is the file an instance started on.) */
export type PolicySource = 'admin' | 'file' | 'signal';

/** A candidate policy as text, with who sent it. */
export interface PolicyCandidate {
  readonly text: string;
  readonly format: 'json' | 'yaml';
  readonly source: PolicySource;
  readonly actor: string;
}

export interface ReloadResult {
  /** False when the candidate's content equals the running policy's: no new version. */
  readonly changed: boolean;
  readonly version: PolicyVersion;
  readonly changes?: PolicyChanges;
}

/** Appending a version loses to another instance's at most this many times in a row before giving up. */
const APPEND_TRIES = 5;

/**
 * The one path a policy change takes, whatever brought it (PUT
 * /admin/policy, the file watch, SIGHUP): compile (every error at once),
 * ask the running application (decorators), append the version to the
 * store's history (the source of truth every instance converges on), then
 * swap it in. A candidate that fails any step changes nothing. Changes are
 * applied one at a time.
 */
@Injectable()
export class PolicyReloadService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Policy');
  /** The changes in progress, one after the other. */
  private queue: Promise<unknown> = Promise.resolve();
  /** A stored version this instance could not compile (its environment differs): logged once. */
  private unusable?: number;
  private readonly listeners: Array<(version: PolicyVersion) => void> = [];

  constructor(
    private readonly router: LlmRouter,
    @Inject(GATEWAY_STORE) private readonly store: GatewayStore,
    @Inject(LLM_ROUTER_OPTIONS) private readonly options: LlmRouterModuleOptions,
  ) {}

  /** The policy file this instance started on, if it started on one. */
  get policyFile(): string | undefined {
    return this.options.policy === undefined ? this.options.policyFile : undefined;
  }

  /** Called after each version this instance appended (the Redis notice to the others). */
  onAppended(listener: (version: PolicyVersion) => void): void {
    this.listeners.push(listener);
  }

  /**
   * The start-up policy meets the shared history: the first instance writes
   * it as version 1; the same content takes the stored number; a file changed
   * since the last version it gave becomes a new version; otherwise the
   * history's newest version (applied by another instance) wins.
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.serially(async () => {
      const running = this.router.policy;
      const latest = await this.store.latestPolicyVersion();
      if (latest?.hash === running.hash) {
        this.router.live.renumber(latest.seq);
        return;
      }
      const lastStart = await this.store.latestPolicyVersion(['start-up', 'file', 'signal']);
      if (latest === undefined || lastStart?.hash !== running.hash) {
        await this.append(running, this.startupCandidate(), 'start-up');
        return;
      }
      await this.adopt(latest);
    });
  }

  /** Validate `candidate` and make it the policy of every instance. Throws a PolicyValidationError listing every problem. */
  apply(candidate: PolicyCandidate): Promise<ReloadResult> {
    return this.serially(async () => {
      const compiled = compilePolicyText(candidate.text, candidate.format, candidateLabel(candidate));
      const refusals = this.router.live.refusals(compiled);
      if (refusals.length > 0) throw new PolicyValidationError(refusals, `${candidateLabel(candidate)} (refused by the running application)`);
      await this.catchUp();
      if (compiled.hash === this.router.policy.hash) return { changed: false, version: this.router.policyVersion };
      const changes = policyChanges(this.router.policy, compiled);
      const version = await this.append(compiled, candidate, candidate.source, changes);
      return { changed: true, version, changes };
    });
  }

  /** The policy file read again (SIGHUP, the watch). */
  reloadFile(source: 'file' | 'signal', actor: string): Promise<ReloadResult> {
    const path = this.policyFile;
    if (path === undefined) return Promise.reject(new PolicyValidationError([{ path: '(file)', message: 'this gateway was not started on a policy file' }]));
    let read: ReturnType<typeof readPolicyFile>;
    try {
      read = readPolicyFile(path);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.apply({ ...read, source, actor });
  }

  /** Take the history's newest version if it is newer than this instance's (another instance changed the policy). */
  sync(): Promise<void> {
    return this.serially(() => this.catchUp());
  }

  history(limit: number): Promise<StoredPolicyVersion[]> {
    return this.store.policyHistory(limit);
  }

  private async catchUp(): Promise<void> {
    const latest = await this.store.latestPolicyVersion();
    if (latest !== undefined && latest.seq > this.router.policyVersion.seq) await this.adopt(latest);
  }

  /** Swap in a stored version; one this instance cannot compile is logged (once) and skipped: it keeps serving the one it has. */
  private async adopt(stored: StoredPolicyVersion): Promise<void> {
    if (stored.hash === this.router.policy.hash) {
      this.router.live.renumber(stored.seq);
      return;
    }
    try {
      const compiled = compilePolicyText(stored.document, stored.format, `policy version ${stored.seq}`);
      this.router.live.swap(compiled, stored.seq);
      this.logger.log(`policy version ${this.router.policyVersion.id} applied (from the shared history: ${stored.source})`);
    } catch (err) {
      if (this.unusable !== stored.seq) this.logger.error(`policy version ${stored.seq} cannot be applied here, keeping ${this.router.policyVersion.id}: ${(err as Error).message}`);
      this.unusable = stored.seq;
    }
  }

  /** Appends under the next free number (another instance may take one first), then swaps in. */
  private async append(compiled: CompiledPolicy, candidate: Omit<PolicyCandidate, 'source'>, source: string, changes = policyChanges(undefined, compiled)): Promise<PolicyVersion> {
    for (let i = 0; i < APPEND_TRIES; i++) {
      const latest = await this.store.latestPolicyVersion();
      const seq = Math.max(latest?.seq ?? 0, this.router.policyVersion.seq - (source === 'start-up' ? 1 : 0)) + 1;
      const appended = await this.store.appendPolicyVersion({
        seq,
        hash: compiled.hash,
        source,
        actor: candidate.actor,
        appliedAt: Date.now(),
        changes: JSON.stringify(changes),
        format: candidate.format,
        document: candidate.text,
      });
      if (!appended) continue;
      const generation = this.router.live.swap(compiled, seq);
      this.logger.log(`policy version ${generation.version.id} applied (${source} by ${candidate.actor})`);
      for (const listener of this.listeners) listener(generation.version);
      return generation.version;
    }
    throw new Error(`could not append a policy version after ${APPEND_TRIES} tries: other instances keep changing the policy`);
  }

  /** What this instance started on, as a history entry's document. */
  private startupCandidate(): Omit<PolicyCandidate, 'source'> {
    const file = this.policyFile;
    if (file !== undefined) {
      return { ...readPolicyFile(file), actor: file };
    }
    return { text: JSON.stringify(this.options.policy), format: 'json', actor: 'application options' };
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function candidateLabel(candidate: PolicyCandidate): string {
  return candidate.source === 'admin' ? 'policy (PUT /admin/policy)' : `policy file ${candidate.actor}`;
}
