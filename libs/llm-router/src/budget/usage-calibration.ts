/** Bounds of one observed ratio: a provider reporting 100x, or nothing, moves the correction at most this far. */
const MIN_RATIO = 0.25;
const MAX_RATIO = 16;
/** A ratio above the correction is taken half at once (reservations must catch up fast) ... */
const WEIGHT_UP = 0.5;
/** ... one below it slowly (a few cheaper calls must not lower every reservation). */
const WEIGHT_DOWN = 0.05;

/**
 * Per model, how many prompt tokens its provider reports for each one the
 * router estimated before the call: learned from every budgeted call that
 * reports usage, as a running average that rises fast and falls slowly, each
 * ratio bounded to 0.25..16. Reservations multiply their estimate by it (never
 * by less than 1), so a provider that counts four times the estimate is
 * reserved for four times after its first answer, instead of overspending on
 * every call. Per process: each gateway instance learns on its own traffic.
 */
export class UsageCalibration {
  private readonly ratios = new Map<string, number>();

  /** What a reservation multiplies `model`'s prompt estimate by: the learned ratio, at least 1. */
  correction(model: string): number {
    const ratio = this.ratios.get(model);
    return ratio === undefined || ratio < 1 ? 1 : ratio;
  }

  /** The learned ratio of reported to estimated prompt tokens (undefined before the first report). */
  ratio(model: string): number | undefined {
    return this.ratios.get(model);
  }

  /** A served call's report: `reported` prompt tokens where `estimated` were expected. */
  observe(model: string, estimated: number, reported: number): void {
    if (!(estimated > 0) || !(reported >= 0)) return;
    const sample = Math.min(MAX_RATIO, Math.max(MIN_RATIO, reported / estimated));
    const ratio = this.ratios.get(model);
    if (ratio === undefined) this.ratios.set(model, sample);
    else this.ratios.set(model, ratio + (sample > ratio ? WEIGHT_UP : WEIGHT_DOWN) * (sample - ratio));
  }
}
