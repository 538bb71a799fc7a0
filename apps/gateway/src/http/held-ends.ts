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
      for (const end of waiting) end();
    };
  }

  /** Runs `end` once every hold taken so far is released (now when there is none). */
  defer(end: () => void): void {
    if (this.holds === 0) return end();
    this.waiting.push(end);
  }
}
