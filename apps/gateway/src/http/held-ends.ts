import { Logger } from '@nestjs/common';

/**
 * Responses' ends held until writes they must follow have gone out: the
 * record journal's Redis entries, which under load join the rest of the event
 * loop's pass in one socket write (at its end) instead of one write each. A
 * caller must never hold an answer whose record a crash could lose, so an
 * answer ending while an entry is held ends right after that write, in the
 * same pass. Each hold is released on its own: ends wait for every hold
 * taken before them.
 */
export class HeldEnds {
  private readonly logger = new Logger('HeldEnds');
  private holds = 0;
  private waiting: Array<() => void> = [];

  /** True while an end must wait (`defer` it). */
  get holding(): boolean {
    return this.holds > 0;
  }

  /** Holds ends from now until the returned release is called (once; later calls do nothing). */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds > 0) return;
      const waiting = this.waiting;
      this.waiting = [];
      // Each end runs even if one before it throws: one broken response must not strand the others' clients.
      for (const end of waiting) {
        try {
          end();
        } catch (err) {
          this.logger.error(`a held response end failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    };
  }

  /**
   * Holds ends until `register` calls its release (see `hold`); released at
   * once if `register` throws, since no one would release it then and every
   * answer of the process would wait.
   */
  holdUntil(register: (release: () => void) => void): void {
    const release = this.hold();
    try {
      register(release);
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Runs `end` once every hold taken so far is released (now when there is none). */
  defer(end: () => void): void {
    if (this.holds === 0) return end();
    this.waiting.push(end);
  }
}
