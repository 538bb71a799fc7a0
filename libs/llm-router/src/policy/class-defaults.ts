import type { BackoffConfig, Criticality } from './policy.schema.js';

/** What a traffic class gets for every field it leaves out. */
export interface ClassDefaults {
  retriesPerTarget: number;
  maxAttempts: number;
  fallback: boolean;
  equivalentQualityOnly: boolean;
  switchOnContentFilter: boolean;
  /** Sort the route best tier first, so cheaper models come only after the premium ones. */
  premiumFirst: boolean;
  attemptTimeoutMs: number;
  firstByteTimeoutMs: number;
  deadlineMs: number;
  backoff: BackoffConfig;
  /** A route exhausted by outage or by the restricted tier: fail now, or defer to the queue. */
  onExhausted: 'fail' | 'defer';
  deferDeadlineMs: number;
  deferBackoff: BackoffConfig;
}

// Deferred calls (only classes set to defer use them): tried again after 5 s, doubling up to 5 minutes.
const DEFER = { deferDeadlineMs: 3_600_000, deferBackoff: { baseMs: 5_000, maxMs: 300_000, jitter: true } } as const;

/**
 * The seed's baseline, per criticality:
 * - one retry on the primary before switching (standard, nonessential, internal automation);
 * - critical user-facing classes switch at once to an equivalent-quality backup;
 * - nonessential classes reach lower-cost models only after the premium options are exhausted;
 * - experimentation fails fast: no retry, no fallback;
 * - every class has a finite attempt budget and deadline;
 * - internal automation defers to the queue when its route is exhausted (for 6 hours); the others fail.
 */
export const CLASS_DEFAULTS: Readonly<Record<Criticality, Readonly<ClassDefaults>>> = {
  critical: {
    retriesPerTarget: 0,
    maxAttempts: 4,
    fallback: true,
    equivalentQualityOnly: true,
    switchOnContentFilter: false,
    premiumFirst: false,
    attemptTimeoutMs: 30_000,
    firstByteTimeoutMs: 8_000,
    deadlineMs: 60_000,
    backoff: { baseMs: 100, maxMs: 1_000, jitter: true },
    onExhausted: 'fail',
    ...DEFER,
  },
  standard: {
    retriesPerTarget: 1,
    maxAttempts: 5,
    fallback: true,
    equivalentQualityOnly: false,
    switchOnContentFilter: false,
    premiumFirst: false,
    attemptTimeoutMs: 60_000,
    firstByteTimeoutMs: 15_000,
    deadlineMs: 120_000,
    backoff: { baseMs: 250, maxMs: 4_000, jitter: true },
    onExhausted: 'fail',
    ...DEFER,
  },
  nonessential: {
    retriesPerTarget: 1,
    maxAttempts: 5,
    fallback: true,
    equivalentQualityOnly: false,
    switchOnContentFilter: false,
    premiumFirst: true,
    attemptTimeoutMs: 60_000,
    firstByteTimeoutMs: 20_000,
    deadlineMs: 180_000,
    backoff: { baseMs: 500, maxMs: 8_000, jitter: true },
    onExhausted: 'fail',
    ...DEFER,
  },
  batch: {
    retriesPerTarget: 2,
    maxAttempts: 8,
    fallback: true,
    equivalentQualityOnly: false,
    switchOnContentFilter: false,
    premiumFirst: false,
    attemptTimeoutMs: 120_000,
    firstByteTimeoutMs: 60_000,
    deadlineMs: 600_000,
    backoff: { baseMs: 1_000, maxMs: 30_000, jitter: true },
    onExhausted: 'fail',
    ...DEFER,
  },
  internal_automation: {
    retriesPerTarget: 1,
    maxAttempts: 6,
    fallback: true,
    equivalentQualityOnly: false,
    switchOnContentFilter: false,
    premiumFirst: false,
    attemptTimeoutMs: 90_000,
    firstByteTimeoutMs: 30_000,
    deadlineMs: 300_000,
    backoff: { baseMs: 1_000, maxMs: 15_000, jitter: true },
    onExhausted: 'defer',
    ...DEFER,
    deferDeadlineMs: 21_600_000,
  },
  experimentation: {
    retriesPerTarget: 0,
    maxAttempts: 1,
    fallback: false,
    equivalentQualityOnly: false,
    switchOnContentFilter: false,
    premiumFirst: false,
    attemptTimeoutMs: 30_000,
    firstByteTimeoutMs: 10_000,
    deadlineMs: 30_000,
    backoff: { baseMs: 0, maxMs: 0, jitter: false },
    onExhausted: 'fail',
    ...DEFER,
  },
};
