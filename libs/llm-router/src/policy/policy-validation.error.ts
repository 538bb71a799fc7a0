/** One problem in the policy document, located by its path. */
export interface PolicyIssue {
  readonly path: string;
  readonly message: string;
}

/** Thrown at start-up: the application must not come up with a policy it cannot honour. */
export class PolicyValidationError extends Error {
  constructor(
    readonly issues: readonly PolicyIssue[],
    source = 'policy',
  ) {
    super(`Invalid LLM routing ${source}:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`);
    this.name = 'PolicyValidationError';
  }
}
