/** At most `limit` holders at once; the others wait in arrival order. */
export class ConcurrencyLimit {
  private held = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  /**
   * Resolves true once a place is held; false when `signal` aborted first, or
   * no place came within `waitMs` (nothing is held then, and the wait is gone).
   */
  acquire(signal: AbortSignal, waitMs = Infinity): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.held < this.limit) {
      this.held++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const grant = () => {
        signal.removeEventListener('abort', giveUp);
        clearTimeout(timer);
        this.held++;
        resolve(true);
      };
      const giveUp = () => {
        signal.removeEventListener('abort', giveUp);
        clearTimeout(timer);
        const at = this.waiting.indexOf(grant);
        if (at !== -1) this.waiting.splice(at, 1);
        resolve(false);
      };
      this.waiting.push(grant);
      signal.addEventListener('abort', giveUp, { once: true });
      if (waitMs !== Infinity) timer = setTimeout(giveUp, waitMs);
    });
  }

  release(): void {
    this.held--;
    this.waiting.shift()?.();
  }
}
