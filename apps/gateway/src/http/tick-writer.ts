import type { ServerResponse } from 'node:http';

/**
 * A response's writes joined per tick: what is written while one upstream
 * read is handled (its events) goes out as one write when the tick's work is
 * done (no timer, no delay). One write is one HTTP chunk; a write per event
 * would frame and copy each one separately.
 */
export class TickWriter {
  private pending = '';
  private flushQueued = false;

  constructor(private readonly res: ServerResponse) {}

  write(text: string): void {
    this.pending += text;
    if (!this.flushQueued) {
      this.flushQueued = true;
      process.nextTick(flush, this);
    }
  }

  /** Ends the response with what is pending and `text`, in one write. */
  end(text: string): void {
    const last = this.pending + text;
    this.pending = '';
    this.res.end(last);
  }

  flushNow(): void {
    this.flushQueued = false;
    if (this.pending === '' || this.res.writableEnded) return;
    const text = this.pending;
    this.pending = '';
    this.res.write(text);
  }
}

// A module function with the writer as its argument: no closure per response.
function flush(writer: TickWriter): void {
  writer.flushNow();
}
