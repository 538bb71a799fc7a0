import type { GatewayConfig } from './gateway.config.js';

/**
 * What an operator should hear about at start-up: settings that leave
 * something open. A production start is one without the embedded simulator
 * (a policy file was given); the dev quick start is left quiet about what
 * only matters in production.
 */
export function startupWarnings(config: Pick<GatewayConfig, 'auth' | 'metricsToken' | 'embeddedSimulator' | 'records' | 'metrics'>): string[] {
  const warnings: string[] = [];
  if (config.auth === 'disabled') {
    warnings.push('LLM_AUTH=disabled: /v1/* and the sample workflows are open to anyone who can reach this port, tenants come from x-tenant-id. Trusted networks and benchmarks only.');
  }
  if (config.metricsToken === undefined && !config.embeddedSimulator) {
    warnings.push('LLM_METRICS_TOKEN is not set: GET /metrics (tenants, classes, models, spend) is open to anyone who can reach this port. Set a token of at least 16 characters for the scraper.');
  }
  if (config.records === false) {
    warnings.push('LLM_RECORDS=false: routing records are neither journaled nor stored; usage, reports and budget restores after a restart see no calls. Benchmarks only.');
  }
  if (config.metrics === false) warnings.push('LLM_METRICS=false: routing records no longer feed the Prometheus series. Benchmarks only.');
  return warnings;
}
