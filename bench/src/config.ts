import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

/** The repository root, from dist/bench/src/ (compiled) or bench/src/ (sources). */
function findRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const parts = here.split('/');
  const i = parts.lastIndexOf('dist');
  return i >= 0 ? parts.slice(0, i).join('/') || '/' : resolve(here, '..', '..');
}

export const ROOT = findRoot();
export const BENCH_DIR = join(ROOT, 'bench');
export const RUN_DIR = join(BENCH_DIR, '.run');
export const RESULTS_DIR = join(BENCH_DIR, 'results');
export const PORTKEY_SOURCE_DIR = join(BENCH_DIR, 'portkey');
export const PORTKEY_DIR = join(BENCH_DIR, '.portkey');
export const PORTKEY_VERSION = '1.15.2';
export const HONO_NODE_SERVER_VERSION = '1.14.1';

export const DIST = {
  simulator: join(ROOT, 'dist/apps/simulator/src/main.js'),
  gateway: join(ROOT, 'dist/apps/gateway/src/main.js'),
  bareProxy: join(ROOT, 'dist/bench/src/bare-proxy.js'),
  floorProxy: join(ROOT, 'dist/bench/src/floor-proxy.js'),
  floors: join(ROOT, 'dist/bench/src/floors.js'),
  micro: join(ROOT, 'dist/bench/src/micro.js'),
  profileEntry: join(ROOT, 'dist/bench/src/profile-entry.js'),
  loopback: join(ROOT, 'dist/bench/src/loopback-only.js'),
};

/** A number from the environment variable `name` (unset or empty: `fallback`); anything else below `min` stops the run. */
export function num(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}, got "${raw}"`);
  return n;
}

export interface BenchConfig {
  /** Seconds per measurement. */
  duration: number;
  rounds: number;
  /** Seconds of warm-up per target and scenario before the first round. */
  warmup: number;
  connections: readonly number[];
  /** Library micro-benchmark: calls per batch and batches. */
  microCalls: number;
  /** 'auto' profiles when a target is missed; '1' always; '0' never. */
  profile: 'auto' | 'always' | 'never';
  /** Only run some scenarios (comma-separated ids), for development. */
  only?: readonly string[];
}

export function benchConfig(): BenchConfig {
  const profile = process.env.BENCH_PROFILE;
  return {
    duration: num('BENCH_DURATION', 3, 0.5),
    rounds: Math.round(num('BENCH_ROUNDS', 5, 1)),
    warmup: num('BENCH_WARMUP', 1, 0),
    connections: (process.env.BENCH_CONNECTIONS ?? '1,32').split(',').map((c) => Number(c.trim())).filter((c) => c > 0),
    microCalls: Math.round(num('BENCH_MICRO_CALLS', 10_000, 100)),
    profile: profile === '1' || profile === 'always' ? 'always' : profile === '0' || profile === 'never' ? 'never' : 'auto',
    only: process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',').map((s) => s.trim()) : undefined,
  };
}
