/** What the library micro-benchmark (micro.ts) prints. */
export interface MicroResult {
  calls: number;
  batches: number;
  /** µs per call in the fastest of the batches. */
  directUs: number;
  routedUs: number;
  overheadUs: number;
  fallbackRoutedUs: number;
  fallbackDirectUs: number;
  fallbackOverheadUs: number;
  streamRoutedUs: number;
  streamDirectUs: number;
  streamOverheadUs: number;
  /** The fallback class with the primary's circuit open: no call to it. */
  circuitRoutedUs: number;
  /** circuitRoutedUs minus the single-target routed call. */
  circuitOverheadUs: number;
}
