import { Subject, type Observable } from 'rxjs';
import type { ExecutionPolicy } from '../execution/route-executor.js';
import { RoutePlanner } from '../planning/route-planner.js';
import { TokenCounter } from '../planning/token-counter.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { PolicyValidationError, type PolicyIssue } from '../policy/policy-validation.error.js';
import { buildProviderTargets } from '../providers/provider-targets.js';

/** Which policy: a sequence number (1 at start-up, +1 per change) and the content hash. */
export interface PolicyVersion {
  readonly seq: number;
  readonly hash: string;
  /** `<seq>-<hash>`: what headers, records and /health show. */
  readonly id: string;
}

/** One compiled policy with everything built from it: a call takes one at its start and keeps it to its end. */
export interface PolicyGeneration extends ExecutionPolicy {
  readonly version: PolicyVersion;
  readonly planner: RoutePlanner;
}

/** A reason a candidate policy cannot replace the running one (decorators naming a class it removes ...). */
export type PolicyCheck = (candidate: CompiledPolicy) => PolicyIssue[];

export const policyVersion = (seq: number, hash: string): PolicyVersion => ({ seq, hash, id: `${seq}-${hash}` });

/**
 * The one owner of "the current policy". A swap builds the new generation
 * (planner, provider targets) before replacing the old in one assignment:
 * a call that took the old generation finishes on it, the next call takes
 * the new one. Checks registered by the application (the decorators') run on
 * every candidate; a refused candidate changes nothing.
 */
export class LivePolicy {
  private generation: PolicyGeneration;
  private readonly checks: PolicyCheck[] = [];
  private readonly changes = new Subject<PolicyGeneration>();
  /** Every generation swapped in, after the swap. */
  readonly changes$: Observable<PolicyGeneration> = this.changes.asObservable();

  constructor(
    initial: CompiledPolicy,
    private readonly env: Readonly<Record<string, string | undefined>> = process.env,
    /** Shared by every generation's planner: one tokenizer thread for the process. */
    private readonly tokens: TokenCounter = new TokenCounter(),
  ) {
    this.generation = this.build(initial, 1);
  }

  current(): PolicyGeneration {
    return this.generation;
  }

  addCheck(check: PolicyCheck): void {
    this.checks.push(check);
  }

  /** Why `candidate` cannot be swapped in; empty when it can. */
  refusals(candidate: CompiledPolicy): PolicyIssue[] {
    return this.checks.flatMap((check) => check(candidate));
  }

  /**
   * Swap `candidate` in (already compiled, so already valid) under sequence
   * number `seq` (by default the next one). Throws a PolicyValidationError
   * listing every refusal, and changes nothing, when a check refuses it.
   */
  swap(candidate: CompiledPolicy, seq = this.generation.version.seq + 1): PolicyGeneration {
    const issues = this.refusals(candidate);
    if (issues.length > 0) throw new PolicyValidationError(issues, 'policy (refused by the running application)');
    const next = this.build(candidate, seq);
    this.generation = next;
    this.changes.next(next);
    return next;
  }

  /** Keep the running policy and renumber it (an instance adopting the shared history's number for the same content). */
  renumber(seq: number): PolicyGeneration {
    return this.swap(this.generation.policy, seq);
  }

  close(): void {
    this.changes.complete();
    this.tokens.close();
  }

  private build(policy: CompiledPolicy, seq: number): PolicyGeneration {
    const version = policyVersion(seq, policy.hash);
    return { policy, version, planner: new RoutePlanner(policy, this.tokens, version.id), targets: buildProviderTargets(policy, this.env) };
  }
}
