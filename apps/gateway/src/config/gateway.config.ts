import { resolve } from 'node:path';

/** The gateway's environment, read once. Every variable is documented in the README. */
export interface GatewayConfig {
  host: string;
  port: number;
  policyFile: string;
  /** Start the simulated provider inside the gateway process (the quick start). */
  embeddedSimulator: boolean;
  simulatorPort: number;
  bodyLimitBytes: number;
}

export const DEFAULT_POLICY_FILE = 'config/policy.yaml';

export function gatewayConfigFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const policyFile = env.LLM_POLICY_FILE ?? DEFAULT_POLICY_FILE;
  return {
    host: env.HOST ?? '127.0.0.1',
    port: intOf(env.PORT, 8080, 'PORT'),
    policyFile: resolve(policyFile),
    embeddedSimulator: (env.LLM_SIMULATOR ?? (env.LLM_POLICY_FILE ? 'off' : 'embedded')) === 'embedded',
    simulatorPort: intOf(env.SIM_PORT, 4010, 'SIM_PORT'),
    bodyLimitBytes: intOf(env.LLM_BODY_LIMIT_BYTES, 4 * 1024 * 1024, 'LLM_BODY_LIMIT_BYTES'),
  };
}

function intOf(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}
