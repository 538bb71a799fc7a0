/** A request sent as the caller wrote it carries no notes: one frozen empty list, not a new array per call. */
export const NO_NOTES: readonly string[] = Object.freeze([]);
