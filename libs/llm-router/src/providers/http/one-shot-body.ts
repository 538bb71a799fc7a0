/**
 * A request body undici lets go of once it is written. undici's Request keeps
 * the body it was given until the answer ends: for a stream, the whole prompt
 * for the stream's life (20 MB held by 20 open streams of 1 MB prompts), where
 * node:http drops it once written. Given as an iterable, the body is handed
 * over once and forgotten here; undici then writes it with the
 * `content-length` the caller sets.
 */
export class OneShotBody implements Iterable<Buffer>, Iterator<Buffer> {
  constructor(private bytes: Buffer | undefined) {}

  [Symbol.iterator](): Iterator<Buffer> {
    return this;
  }

  next(): IteratorResult<Buffer> {
    const bytes = this.bytes;
    this.bytes = undefined;
    return bytes === undefined ? { done: true, value: undefined } : { done: false, value: bytes };
  }
}

/**
 * A stream's body at least this long (in characters, so at least as many
 * bytes) goes as a OneShotBody: Node gives a Buffer this large an allocation of
 * its own (smaller ones share its pool). Below it, undici's Buffer path costs
 * less (no async iteration: about 5 µs of CPU for an 8 KB body) and holds little.
 */
export const ONE_SHOT_MIN_LENGTH = Buffer.poolSize >>> 1;
