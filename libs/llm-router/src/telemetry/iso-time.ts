let lastMs = Number.NaN;
let lastIso = '';

/**
 * `new Date(ms).toISOString()`, formatted once per distinct millisecond:
 * formatting costs about a microsecond, every routed call's record carries its
 * start time, and under load several calls start within the same millisecond.
 */
export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}
