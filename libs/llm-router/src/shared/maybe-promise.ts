/** A value a store may answer at once (in-process) or later (over the network). */
export type MaybePromise<T> = T | Promise<T>;
