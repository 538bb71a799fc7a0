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
/** The policies the gateways read, in a folder of their own (see writePolicies). */
export const POLICY_DIR = join(RUN_DIR, 'policies');
export const RESULTS_DIR = join(BENCH_DIR, 'results');
export const PORTKEY_SOURCE_DIR = join(BENCH_DIR, 'portkey');
export const PORTKEY_DIR = join(BENCH_DIR, '.portkey');
export const PORTKEY_VERSION = '1.15.2';
export const HONO_NODE_SERVER_VERSION = '1.14.1';

export const DIST = {
  simulator: join(ROOT, 'dist/apps/simulator/src/main.js'),
  gateway: join(ROOT, 'dist/apps/gateway/src/main.js'),
  bareProxy: join(ROOT, 'dist/bench/src/bare-proxy.js'),
  nestFloor: join(ROOT, 'dist/bench/src/nest-floor.js'),
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
  /** The production configuration (Redis, PostgreSQL) beside the embedded one. */
  production: boolean;
  /** Open streams held at once, seconds each stream lasts, ms between its chunks, streams opened per second; only some targets (ids), for development. */
  streams: { count: number; seconds: number; chunkMs: number; openPerS: number; targets?: readonly string[] };
  /** The soak: seconds of load, seconds per sample. */
  soak: { seconds: number; sampleS: number };
  /** The cost of each feature: pairs of fresh processes per feature, rounds per pair, seconds per load, requests of warm-up per process; only some features (ids), for development. */
  features: { pairs: number; rounds: number; duration: number; warmRequests: number; only?: readonly string[] };
  /** CPU per request at a fixed offered rate: the share of the slowest target's saturation throughput offered, and the client that offers it. */
  fixedRate: { fraction: number; client: 'autocannon' | 'paced' };
  /** Sections of the default run left out (comma-separated: fixed-rate, streams, soak, features), for development. */
  skip: readonly string[];
}

/** The open-stream run's long form (`npm run bench -- streams`) and the default run's short one. */
export const STREAMS_LONG = { count: 5000, seconds: 20 };
export const STREAMS_SHORT = { count: 500, seconds: 5 };

export function benchConfig(streamsForm: { count: number; seconds: number } = STREAMS_SHORT): BenchConfig {
  const profile = process.env.BENCH_PROFILE;
  return {
    duration: num('BENCH_DURATION', 3, 0.5),
    rounds: Math.round(num('BENCH_ROUNDS', 5, 1)),
    warmup: num('BENCH_WARMUP', 1, 0),
    connections: (process.env.BENCH_CONNECTIONS ?? '1,32').split(',').map((c) => Number(c.trim())).filter((c) => c > 0),
    microCalls: Math.round(num('BENCH_MICRO_CALLS', 10_000, 100)),
    profile: profile === '1' || profile === 'always' ? 'always' : profile === '0' || profile === 'never' ? 'never' : 'auto',
    only: process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',').map((s) => s.trim()) : undefined,
    production: process.env.BENCH_PRODUCTION !== '0',
    streams: {
      count: Math.round(num('BENCH_STREAMS', streamsForm.count, 1)),
      seconds: num('BENCH_STREAM_SECONDS', streamsForm.seconds, 1),
      chunkMs: num('BENCH_STREAM_CHUNK_MS', 200, 10),
      openPerS: num('BENCH_STREAM_OPEN_RATE', 1000, 1),
      targets: process.env.BENCH_STREAM_TARGETS ? process.env.BENCH_STREAM_TARGETS.split(',').map((s) => s.trim()) : undefined,
    },
    soak: { seconds: num('BENCH_SOAK_SECONDS', 60, 10), sampleS: num('BENCH_SOAK_SAMPLE_S', 5, 1) },
    features: {
      pairs: Math.round(num('BENCH_FEATURE_PAIRS', 3, 1)),
      rounds: Math.round(num('BENCH_FEATURE_ROUNDS', 2, 1)),
      duration: num('BENCH_FEATURE_DURATION', 0.75, 0.5),
      warmRequests: Math.round(num('BENCH_FEATURE_WARMUP_REQUESTS', 5000, 0)),
      only: process.env.BENCH_FEATURES ? process.env.BENCH_FEATURES.split(',').map((s) => s.trim()) : undefined,
    },
    fixedRate: { fraction: fixedRateFraction(), client: fixedRateClient() },
    skip: (process.env.BENCH_SKIP ?? '').split(',').map((s) => s.trim()).filter(Boolean),
  };
}

function fixedRateFraction(): number {
  const f = num('BENCH_FIXED_RATE_FRACTION', 0.5, 0.01);
  if (f > 1) throw new Error(`BENCH_FIXED_RATE_FRACTION must be at most 1 (a share of the slowest target's throughput), got ${f}`);
  return f;
}

function fixedRateClient(): 'autocannon' | 'paced' {
  const c = process.env.BENCH_FIXED_RATE_CLIENT || 'autocannon';
  if (c !== 'autocannon' && c !== 'paced') throw new Error(`BENCH_FIXED_RATE_CLIENT must be "autocannon" or "paced", got "${c}"`);
  return c;
}
