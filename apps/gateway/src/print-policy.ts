/**
 * Validate a policy file and print the effective policy, every default filled
 * in: `npm run policy -- config/policy.yaml`. Exits 1 with the offending paths
 * when the policy is invalid, so it can gate a deploy.
 */
import { compilePolicyFile, describePolicy } from '@llm-router/nestjs';
import { DEFAULT_POLICY_FILE } from './config/gateway.config.js';

const path = process.argv[2] ?? process.env.LLM_POLICY_FILE ?? DEFAULT_POLICY_FILE;
try {
  const compiled = compilePolicyFile(path);
  process.stdout.write(`${JSON.stringify({ hash: compiled.hash, ...describePolicy(compiled) }, null, 2)}\n`);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
