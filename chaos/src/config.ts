/**
 * Where the reliability suite keeps its files, and its knobs (environment
 * variables, each with a default sized for about five minutes on 2 cores).
 */
import { join } from 'node:path';
import { DIST, num, ROOT } from '../../bench/src/config.js';

/** The repository root, and the compiled simulator and gateway (`DIST.simulator`, `DIST.gateway`): the benchmark's. */
export { DIST, ROOT };
export const CHAOS_DIR = join(ROOT, 'chaos');
export const RUN_DIR = join(CHAOS_DIR, '.run');
export const RESULTS_DIR = join(CHAOS_DIR, 'results');

export interface ChaosConfig {
  /** Seed of every generated request (the fuzz, the soak's faults). */
  seed: number;
  fuzzRequests: number;
  fuzzConcurrency: number;
  /** kill -9: concurrent clients, and how long they load the gateway before the kill. */
  killClients: number;
  killAfterMs: number;
  /** SIGKILL; SIGTERM is the control run (a graceful stop, where nothing may be missing). */
  killSignal: NodeJS.Signals;
  /** Redis restarted empty: how long the drained tenant is loaded after the restart. */
  redisAfterMs: number;
  /** SIGTERM: the gateway's LLM_SHUTDOWN_GRACE_MS, and what the drain bound allows on top (last records, Redis, store). */
  shutdownGraceMs: number;
  drainMarginMs: number;
  /** Poisoned record: requests after the poisoned one. */
  poisonedAfter: number;
  soakRequests: number;
  soakConcurrency: number;
  /** Share of soak requests whose primary gets a fault. */
  soakFaultRate: number;
  /** A client gives up (and counts the request as hung) after this long: far above every class deadline. */
  clientTimeoutMs: number;
  /** PostgreSQL for the scenarios that need it (a schema of their own per run, dropped after). */
  databaseUrl: string;
  redisServer: string;
  /** Only these scenarios (comma-separated ids), for development. */
  only?: readonly string[];
}

export function chaosConfig(): ChaosConfig {
  return {
    seed: num('CHAOS_SEED', 13),
    fuzzRequests: Math.round(num('CHAOS_FUZZ_REQUESTS', 2_400, 1)),
    fuzzConcurrency: Math.round(num('CHAOS_FUZZ_CONCURRENCY', 8, 1)),
    killClients: Math.round(num('CHAOS_KILL_CLIENTS', 8, 1)),
    killAfterMs: num('CHAOS_KILL_AFTER_MS', 4_000, 100),
    killSignal: (process.env.CHAOS_KILL_SIGNAL || 'SIGKILL') as NodeJS.Signals,
    redisAfterMs: num('CHAOS_REDIS_AFTER_MS', 6_000, 100),
    shutdownGraceMs: num('CHAOS_SHUTDOWN_GRACE_MS', 5_000, 0),
    drainMarginMs: num('CHAOS_DRAIN_MARGIN_MS', 2_000, 0),
    poisonedAfter: Math.round(num('CHAOS_POISONED_AFTER', 200, 1)),
    soakRequests: Math.round(num('CHAOS_SOAK_REQUESTS', 10_000, 1)),
    soakConcurrency: Math.round(num('CHAOS_SOAK_CONCURRENCY', 16, 1)),
    soakFaultRate: num('CHAOS_SOAK_FAULT_RATE', 0.3, 0),
    clientTimeoutMs: num('CHAOS_CLIENT_TIMEOUT_MS', 60_000, 1_000),
    databaseUrl: process.env.CHAOS_DATABASE_URL ?? process.env.LLM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    redisServer: process.env.CHAOS_REDIS_SERVER ?? 'redis-server',
    only: process.env.CHAOS_ONLY ? process.env.CHAOS_ONLY.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
  };
}
