/** What the library micro-benchmark (micro.ts) prints. */
export interface MicroResult {
  calls: number;
  batches: number;
  /** Median µs per call over the batches. */
  directUs: number;
  routedUs: number;
  overheadUs: number;
  fallbackRoutedUs: number;
  fallbackDirectUs: number;
  fallbackOverheadUs: number;
  streamRoutedUs: number;
  streamDirectUs: number;
  streamOverheadUs: number;
}
